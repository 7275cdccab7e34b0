import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Bitset } from './bitset.js';
import { ConfigCache, knownHash } from './config-cache.js';

/** Operations 0..3 are completed, 4..5 have an unknown outcome. */
function setup(): { cache: ConfigCache; set: (...ids: number[]) => [Bitset, number] } {
  const mask = new Bitset(6);
  for (const i of [0, 1, 2, 3]) mask.set(i);
  const set = (...ids: number[]): [Bitset, number] => {
    const b = new Bitset(6);
    let h = 0;
    for (const i of ids) {
      b.set(i);
      if (mask.has(i)) h ^= knownHash(i);
    }
    return [b, h];
  };
  return { cache: new ConfigCache(mask), set };
}

describe('ConfigCache', () => {
  it('remembers configurations by set and state', () => {
    const { cache, set } = setup();
    assert.equal(cache.visit(...set(0, 1), 'a'), true);
    assert.equal(cache.visit(...set(0, 1), 'a'), false);
    assert.equal(cache.visit(...set(0, 1), 'b'), true);
    assert.equal(cache.visit(...set(0, 2), 'a'), true);
    assert.equal(cache.size, 3);
  });

  it('treats a configuration with extra unknown-outcome operations as dominated, not the reverse', () => {
    const { cache, set } = setup();
    assert.equal(cache.visit(...set(0, 4), 'a'), true);
    assert.equal(cache.visit(...set(0, 4, 5), 'a'), false);
    assert.equal(cache.visit(...set(0, 5), 'a'), true);
    assert.equal(cache.visit(...set(0), 'a'), true);
    assert.equal(cache.visit(...set(0, 5), 'a'), false);
    // Completed operations must match exactly.
    assert.equal(cache.visit(...set(0, 1, 4), 'a'), true);
  });

  it('grows past its initial capacity', () => {
    const n = 40;
    const mask = new Bitset(n);
    for (let i = 0; i < n; i++) mask.set(i);
    const cache = new ConfigCache(mask);
    const sets: [Bitset, number][] = [];
    for (let k = 0; k < 5000; k++) {
      const b = new Bitset(n);
      let h = 0;
      for (let i = 0; i < n; i++) {
        if (((k * 2654435761) >>> i) & 1 || (i === 39 && k & 1)) {
          b.set(i);
          h ^= knownHash(i);
        }
      }
      sets.push([b, h]);
    }
    const fresh = sets.filter(([b, h]) => cache.visit(b, h, `${b.count() % 3}`)).length;
    assert.ok(fresh > 1024);
    for (const [b, h] of sets) assert.equal(cache.visit(b, h, `${b.count() % 3}`), false);
    assert.equal(cache.size, fresh);
    assert.equal(cache.bytesPerEntry, 4 * 2 + 20);
  });
});
