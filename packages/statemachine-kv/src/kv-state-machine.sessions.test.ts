import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { SnapshotData } from '@tsraft/core';
import { encodeKvCommand } from './command-codec.js';
import type { KvCommand, KvSessionRef } from './kv-command.js';
import type { KvResult } from './kv-result.js';
import { createKvStateMachine, type KvStateMachine, type KvStateMachineOptions } from './kv-state-machine.js';
import { snapshotBytes } from './test-support/snapshot-bytes.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array | undefined): string | undefined =>
  data === undefined ? undefined : new TextDecoder().decode(data);

/** A log feeding one state machine: consecutive indexes, proposal times chosen by the test. */
class Log {
  index = 0;
  readonly kv: KvStateMachine;

  constructor(options: KvStateMachineOptions = {}) {
    this.kv = createKvStateMachine(options);
  }

  apply(command: KvCommand, atMs: number, session?: KvSessionRef): KvResult {
    this.index++;
    const data = encodeKvCommand(
      session === undefined ? { command, proposedAtMs: atMs } : { command, session, proposedAtMs: atMs },
    );
    return this.kv.apply({ index: this.index, term: 1, data }) as KvResult;
  }

  open(atMs: number): number {
    const result = this.apply({ type: 'openSession' }, atMs);
    assert.equal(result.type, 'openSession');
    return result.type === 'openSession' ? result.sessionId : -1;
  }
}

const ref = (sessionId: number, sequence: number, firstIncomplete = sequence): KvSessionRef => ({
  sessionId,
  sequence,
  firstIncomplete,
});
const casAbsent = (key: string, value: string): KvCommand => ({
  type: 'compareAndSwap',
  key: bytes(key),
  expected: undefined,
  value: bytes(value),
});
const put = (key: string, value: string): KvCommand => ({
  type: 'put',
  key: bytes(key),
  value: bytes(value),
});
const code = (result: KvResult): string | undefined => (result.type === 'rejected' ? result.code : undefined);

test('a retried write returns its first result and is applied once (CAS retry)', () => {
  const log = new Log();
  const s = log.open(0);
  const first = log.apply(casAbsent('k', 'mine'), 1, ref(s, 1));
  assert.deepEqual(first, { type: 'compareAndSwap', succeeded: true, value: bytes('mine') });
  // Someone else writes in between; a re-applied CAS would now fail and report their value.
  log.apply(put('k', 'theirs'), 2);
  const retry = log.apply(casAbsent('k', 'mine'), 3, ref(s, 1));
  assert.deepEqual(retry, first);
  assert.equal(text(log.kv.get(bytes('k'))), 'theirs');
});

test('a retried delete reports the first answer, not a second delete', () => {
  const log = new Log();
  const s = log.open(0);
  log.apply(put('k', 'v'), 1);
  const del = { type: 'delete', key: bytes('k') } as const;
  assert.deepEqual(log.apply(del, 2, ref(s, 1)), { type: 'delete', deleted: true });
  assert.deepEqual(log.apply(del, 3, ref(s, 1)), { type: 'delete', deleted: true });
  // Without a session there is no deduplication.
  assert.deepEqual(log.apply(del, 4), { type: 'delete', deleted: false });
});

test('a retried put does not apply again over a later write', () => {
  const log = new Log();
  const s = log.open(0);
  log.apply(put('k', 'a'), 1, ref(s, 1));
  log.apply(put('k', 'b'), 2, ref(s, 2, 1));
  assert.deepEqual(log.apply(put('k', 'a'), 3, ref(s, 1)), { type: 'put' });
  assert.equal(text(log.kv.get(bytes('k'))), 'b');
});

test('sequences below firstIncomplete are forgotten: their retries are STALE_REQUEST', () => {
  const log = new Log();
  const s = log.open(0);
  log.apply(put('a', '1'), 1, ref(s, 1, 1));
  log.apply(put('b', '2'), 2, ref(s, 2, 1));
  // Both still remembered.
  assert.deepEqual(log.apply(put('a', '1'), 3, ref(s, 1, 1)), { type: 'put' });
  // The client has the answer to 1 and 2 when it sends 3.
  log.apply(put('c', '3'), 4, ref(s, 3, 3));
  const digest = log.kv.digest();
  const stale = log.apply(put('a', 'again'), 5, ref(s, 1, 1));
  assert.equal(code(stale), 'STALE_REQUEST');
  assert.equal(code(log.apply(put('b', 'again'), 6, ref(s, 2, 2))), 'STALE_REQUEST');
  assert.equal(text(log.kv.get(bytes('a'))), '1');
  assert.equal(text(log.kv.get(bytes('b'))), '2');
  assert.notEqual(log.kv.digest(), digest, 'the rejected writes still used the session');
  // 3 is still answerable; out-of-order sequences above the watermark still apply.
  assert.deepEqual(log.apply(put('c', '3'), 7, ref(s, 3, 3)), { type: 'put' });
  assert.deepEqual(log.apply(put('e', '5'), 8, ref(s, 5, 3)), { type: 'put' });
  assert.deepEqual(log.apply(put('d', '4'), 9, ref(s, 4, 3)), { type: 'put' });
  assert.equal(log.kv.size, 5);
});

test('an unknown session is SESSION_EXPIRED and changes nothing', () => {
  const log = new Log();
  const before = log.kv.size;
  const result = log.apply(put('k', 'v'), 1, ref(12345, 1));
  assert.equal(code(result), 'SESSION_EXPIRED');
  assert.equal(log.kv.size, before);
});

test('sessions expire after sessionTtlMs idle on the logical clock, not the wall clock', () => {
  const log = new Log({ sessionTtlMs: 1000 });
  const s = log.open(10_000);
  const t = log.open(10_000);
  // Exactly the TTL idle is still alive, and the use refreshes it.
  assert.deepEqual(log.apply(put('k', '1'), 11_000, ref(s, 1)), { type: 'put' });
  // A leader with a lagging clock does not move the clock back: now is still 11 000.
  assert.deepEqual(log.apply(put('k', '2'), 500, ref(s, 2)), { type: 'put' });
  // t was last used at 10 000: at 11 001 it has been idle for 1 001 ms.
  log.apply(put('other', 'x'), 11_001);
  assert.equal(code(log.apply(put('k', '3'), 11_001, ref(t, 1))), 'SESSION_EXPIRED');
  assert.deepEqual(log.apply(put('k', '3'), 12_000, ref(s, 3)), { type: 'put' });
  // Nothing applied for a long (wall-clock) while changes nothing; the next proposal's time does.
  assert.equal(code(log.apply(put('k', '4'), 13_001, ref(s, 4))), 'SESSION_EXPIRED');
});

test('expiry is the same on two machines fed the same log', () => {
  const a = new Log({ sessionTtlMs: 50 });
  const b = new Log({ sessionTtlMs: 50 });
  const results: KvResult[][] = [[], []];
  [a, b].forEach((log, i) => {
    const sessions = [log.open(0), log.open(10), log.open(20)];
    for (let step = 1; step <= 30; step++) {
      const session = sessions[step % 3]!;
      results[i]!.push(log.apply(put(`k${step}`, 'v'), step * step, ref(session, step)));
    }
  });
  assert.deepEqual(results[0], results[1]);
  assert.equal(a.kv.digest(), b.kv.digest());
  assert.ok(results[0]!.some((r) => code(r) === 'SESSION_EXPIRED'));
});

test('opening more than maxSessions evicts the least recently used one', () => {
  const log = new Log({ maxSessions: 2 });
  const s1 = log.open(0);
  const s2 = log.open(0);
  // Using s1 makes s2 the least recently used.
  log.apply(put('k', '1'), 0, ref(s1, 1));
  const s3 = log.open(0);
  assert.equal(code(log.apply(put('k', '2'), 0, ref(s2, 1))), 'SESSION_EXPIRED');
  assert.deepEqual(log.apply(put('k', '3'), 0, ref(s1, 2)), { type: 'put' });
  assert.deepEqual(log.apply(put('k', '4'), 0, ref(s3, 1)), { type: 'put' });
  // Now s3 is the most recent, so the next open evicts s1.
  log.open(0);
  assert.equal(code(log.apply(put('k', '5'), 0, ref(s1, 3))), 'SESSION_EXPIRED');
});

test('sessions and their cached results survive a snapshot and restore', async () => {
  const log = new Log({ sessionTtlMs: 1000 });
  const s = log.open(0);
  const first = log.apply(casAbsent('k', 'v'), 1, ref(s, 1));
  const restored = createKvStateMachine({ sessionTtlMs: 1000 });
  await restored.restore(SnapshotData.of(snapshotBytes(log.kv)), {
    index: log.index,
    term: 1,
    conf: { voters: [], learners: [] },
  });
  assert.equal(restored.digest(), log.kv.digest());
  const retry = restored.apply({
    index: log.index + 1,
    term: 1,
    data: encodeKvCommand({ command: casAbsent('k', 'v'), session: ref(s, 1), proposedAtMs: 2 }),
  });
  assert.deepEqual(retry, first);
  // The restored clock expires the session as the original would.
  const late = restored.apply({
    index: log.index + 2,
    term: 1,
    data: encodeKvCommand({ command: put('x', 'y'), session: ref(s, 2), proposedAtMs: 3003 }),
  });
  assert.equal(code(late as KvResult), 'SESSION_EXPIRED');
});
