import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { RaftError } from '../errors.js';
import type { Settler } from './operation.js';
import { PendingReads } from './pending-reads.js';

function probe(): Settler<void> & { outcome: string | null } {
  const p = {
    outcome: null as string | null,
    resolve: () => {
      p.outcome ??= 'ok';
    },
    reject: (error: RaftError) => {
      p.outcome ??= error.code;
    },
    get settled() {
      return p.outcome !== null;
    },
  };
  return p;
}

test('a read completes once applied reaches its confirmed index, in index order', () => {
  const reads = new PendingReads();
  const a = probe();
  const b = probe();
  const c = probe();
  const ra = reads.add(a, 0);
  const rb = reads.add(b, 0);
  const rc = reads.add(c, 0);
  reads.confirmed(ra.requestId, 7, 3);
  reads.confirmed(rb.requestId, 5, 3);
  reads.confirmed(rc.requestId, 2, 3);
  assert.equal(c.outcome, 'ok', 'already applied: completes at once');
  reads.appliedTo(5);
  assert.equal(b.outcome, 'ok');
  assert.equal(a.outcome, null);
  reads.appliedTo(7);
  assert.equal(a.outcome, 'ok');
  assert.equal(reads.size, 0);
});

test('an unanswered read is retried with a new request id; the stale answer is ignored', () => {
  const reads = new PendingReads();
  const a = probe();
  const read = reads.add(a, 0);
  const firstId = read.requestId;
  assert.deepEqual(reads.maybeRetry(9, 10), []);
  assert.deepEqual(reads.maybeRetry(10, 10), [read]);
  assert.notEqual(read.requestId, firstId);
  reads.confirmed(firstId, 4, 0);
  assert.equal(a.outcome, null);
  reads.confirmed(read.requestId, 4, 4);
  assert.equal(a.outcome, 'ok');
});

test('a refused read rejects with the core error; forget and rejectAll clear both stages', () => {
  const reads = new PendingReads();
  const refused = probe();
  const forgotten = probe();
  const waiting = probe();
  const r1 = reads.add(refused, 0);
  const r2 = reads.add(forgotten, 0);
  const r3 = reads.add(waiting, 0);
  reads.refused(r1.requestId, new RaftError('NOT_LEADER', 'no leader'));
  assert.equal(refused.outcome, 'NOT_LEADER');
  reads.confirmed(r2.requestId, 9, 0);
  reads.forget(r2);
  reads.confirmed(r3.requestId, 9, 0);
  reads.rejectAll(new RaftError('STOPPED', 'closed'));
  assert.equal(forgotten.outcome, null);
  assert.equal(waiting.outcome, 'STOPPED');
  assert.equal(reads.size, 0);
});
