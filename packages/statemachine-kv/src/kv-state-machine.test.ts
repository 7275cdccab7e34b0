import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeKvCommand } from './command-codec.js';
import type { KvCommand } from './kv-command.js';
import type { KvResult } from './kv-result.js';
import { createKvStateMachine, type KvStateMachine } from './kv-state-machine.js';
import { snapshotBytes } from './test-support/snapshot-bytes.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array | undefined): string | undefined =>
  data === undefined ? undefined : new TextDecoder().decode(data);

/** Applies commands at consecutive indexes, each proposed 1 ms after the previous. */
function applier(machine: KvStateMachine) {
  let index = 0;
  return (command: KvCommand): KvResult => {
    index++;
    return machine.apply({
      index,
      term: 1,
      data: encodeKvCommand({ command, proposedAtMs: index }),
    }) as KvResult;
  };
}

test('put, get, overwrite and delete', () => {
  const kv = createKvStateMachine();
  const apply = applier(kv);
  assert.deepEqual(apply({ type: 'put', key: bytes('a'), value: bytes('1') }), { type: 'put' });
  assert.equal(text(kv.get(bytes('a'))), '1');
  apply({ type: 'put', key: bytes('a'), value: bytes('2') });
  assert.equal(text(kv.get(bytes('a'))), '2');
  assert.equal(kv.size, 1);
  assert.deepEqual(apply({ type: 'delete', key: bytes('a') }), { type: 'delete', deleted: true });
  assert.deepEqual(apply({ type: 'delete', key: bytes('a') }), { type: 'delete', deleted: false });
  assert.equal(kv.get(bytes('a')), undefined);
  assert.equal(kv.size, 0);
  assert.equal(kv.appliedIndex, 4);
});

test('keys are byte strings: empty, binary and non-UTF-8 keys are distinct', () => {
  const kv = createKvStateMachine();
  const apply = applier(kv);
  const keys = [
    new Uint8Array(0),
    Uint8Array.of(0),
    Uint8Array.of(0, 0),
    Uint8Array.of(0xff),
    Uint8Array.of(0xc3, 0xa9),
  ];
  keys.forEach((key, i) => {
    apply({ type: 'put', key, value: Uint8Array.of(i) });
  });
  assert.equal(kv.size, keys.length);
  keys.forEach((key, i) => {
    assert.deepEqual(kv.get(key), Uint8Array.of(i));
  });
  assert.equal(kv.get(bytes('é').subarray(0, 1)), undefined);
});

test('stored values are copies: changing the entry buffer later does not change the state', () => {
  const kv = createKvStateMachine();
  const data = encodeKvCommand({
    command: { type: 'put', key: bytes('k'), value: bytes('value') },
    proposedAtMs: 1,
  });
  kv.apply({ index: 1, term: 1, data });
  data.fill(0);
  assert.equal(text(kv.get(bytes('k'))), 'value');
});

test('compareAndSwap succeeds only on the expected value and reports the value after', () => {
  const kv = createKvStateMachine();
  const apply = applier(kv);
  const cas = (expected: string | undefined, value: string) =>
    apply({
      type: 'compareAndSwap',
      key: bytes('k'),
      expected: expected === undefined ? undefined : bytes(expected),
      value: bytes(value),
    });
  // Absent expected: only when the key does not exist.
  assert.deepEqual(cas(undefined, 'v1'), { type: 'compareAndSwap', succeeded: true, value: bytes('v1') });
  assert.deepEqual(cas(undefined, 'v2'), { type: 'compareAndSwap', succeeded: false, value: bytes('v1') });
  // Present expected: only on a byte-equal value.
  assert.deepEqual(cas('nope', 'v2'), { type: 'compareAndSwap', succeeded: false, value: bytes('v1') });
  assert.deepEqual(cas('v1', 'v2'), { type: 'compareAndSwap', succeeded: true, value: bytes('v2') });
  assert.equal(text(kv.get(bytes('k'))), 'v2');
  apply({ type: 'delete', key: bytes('k') });
  // An expected value (even an empty one) never matches an absent key.
  assert.deepEqual(cas('', 'v3'), { type: 'compareAndSwap', succeeded: false, value: undefined });
  assert.equal(kv.get(bytes('k')), undefined);
  apply({ type: 'put', key: bytes('k'), value: new Uint8Array(0) });
  assert.deepEqual(cas('', 'v3'), { type: 'compareAndSwap', succeeded: true, value: bytes('v3') });
});

test('a malformed entry is rejected, not thrown, and still counts as applied', () => {
  const kv = createKvStateMachine();
  const before = kv.digest();
  const result = kv.apply({ index: 1, term: 1, data: Uint8Array.of(0xff, 0xff, 0xff) });
  assert.equal(result.type, 'rejected');
  assert.equal(result.type === 'rejected' && result.code, 'MALFORMED_COMMAND');
  assert.equal(kv.appliedIndex, 1);
  assert.equal(kv.size, 0);
  const empty = kv.apply({ index: 2, term: 1, data: new Uint8Array(0) });
  assert.equal(empty.type === 'rejected' && empty.code, 'MALFORMED_COMMAND');
  assert.notEqual(kv.digest(), before, 'the applied index is part of the state');
});

test('openSession returns the entry index as the session id', () => {
  const kv = createKvStateMachine();
  const apply = applier(kv);
  apply({ type: 'put', key: bytes('a'), value: bytes('1') });
  assert.deepEqual(apply({ type: 'openSession' }), { type: 'openSession', sessionId: 2 });
});

test('two machines fed the same commands have the same digest and byte-identical snapshots', async () => {
  const a = createKvStateMachine();
  const b = createKvStateMachine();
  const applyA = applier(a);
  const applyB = applier(b);
  // Different insertion orders of the same keys must not matter to the bytes.
  for (const apply of [applyA, applyB]) {
    apply({ type: 'openSession' });
    for (let i = 0; i < 100; i++)
      apply({ type: 'put', key: bytes(`k${(i * 37) % 100}`), value: bytes(`v${i}`) });
  }
  assert.equal(a.digest(), b.digest());
  assert.match(a.digest(), /^[0-9a-f]{64}$/);
  assert.deepEqual(snapshotBytes(a), snapshotBytes(b));
  applyA({ type: 'delete', key: bytes('k1') });
  assert.notEqual(a.digest(), b.digest());
});

test('the order keys were written in does not change the snapshot', async () => {
  const a = createKvStateMachine();
  const b = createKvStateMachine();
  const keys = ['b', 'a', '\u00ff', 'ab', '', '\u0000'];
  keys.forEach((key, i) => {
    a.apply({ index: i + 1, term: 1, data: put(key) });
  });
  [...keys].reverse().forEach((key, i) => {
    b.apply({ index: i + 1, term: 1, data: put(key) });
  });
  assert.deepEqual(snapshotBytes(a), snapshotBytes(b));
});

test('options are checked', () => {
  assert.throws(() => createKvStateMachine({ maxSessions: 0 }), RangeError);
  assert.throws(() => createKvStateMachine({ sessionTtlMs: -1 }), RangeError);
  assert.throws(() => createKvStateMachine({ sessionTtlMs: 1.5 }), RangeError);
});

function put(key: string): Uint8Array {
  return encodeKvCommand({
    command: { type: 'put', key: Buffer.from(key, 'latin1'), value: bytes('v') },
    proposedAtMs: 1,
  });
}
