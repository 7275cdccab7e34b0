import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Bitset } from './bitset.js';

describe('Bitset', () => {
  it('sets, clears and counts across word boundaries', () => {
    const b = new Bitset(70);
    for (const i of [0, 31, 32, 63, 64, 69]) b.set(i);
    assert.deepEqual(b.toArray(), [0, 31, 32, 63, 64, 69]);
    assert.equal(b.count(), 6);
    assert.equal(b.has(31), true);
    assert.equal(b.has(30), false);
    b.clear(31);
    b.clear(30);
    assert.equal(b.has(31), false);
    assert.equal(b.count(), 5);
  });

  it('clones independently and compares by content', () => {
    const a = new Bitset(40);
    a.set(3);
    a.set(35);
    const c = a.clone();
    assert.equal(c.equals(a), true);
    c.set(4);
    assert.equal(c.equals(a), false);
    assert.equal(a.has(4), false);
    assert.equal(a.isSubsetOf(c), true);
    assert.equal(c.isSubsetOf(a), false);
    assert.equal(new Bitset(41).equals(new Bitset(40)), false);
  });

  it('counts a full set', () => {
    const b = new Bitset(100);
    for (let i = 0; i < 100; i++) b.set(i);
    assert.equal(b.count(), 100);
  });

  it('rejects a bad size', () => {
    assert.throws(() => new Bitset(-1), RangeError);
    assert.throws(() => new Bitset(1.5), RangeError);
  });
});
