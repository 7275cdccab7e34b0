import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Entry } from '../entry.js';
import type { RaftError } from '../errors.js';
import type { Settler } from './operation.js';
import { PendingProposals } from './pending-proposals.js';

interface Probe extends Settler<string> {
  outcome: string | null;
}

function probe(): Probe {
  const p: Probe = {
    outcome: null,
    resolve: (value) => {
      p.outcome ??= `ok ${value}`;
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

const entry = (index: number, term: number, type: Entry['type'] = 'normal'): Entry => ({
  index,
  term,
  type,
  data: new Uint8Array(0),
});

test('an applied entry of the same term resolves its proposal; another term drops it', () => {
  const pending = new PendingProposals<string>();
  const a = probe();
  const b = probe();
  pending.add({ index: 5, term: 2 }, a);
  pending.add({ index: 6, term: 2 }, b);
  pending.applied(entry(5, 2), 'five');
  pending.applied(entry(6, 3), 'six');
  assert.equal(a.outcome, 'ok five');
  assert.equal(b.outcome, 'PROPOSAL_DROPPED');
  assert.equal(pending.size, 0);
});

test('a noop or config entry at a proposal index drops it', () => {
  const pending = new PendingProposals<string>();
  const a = probe();
  pending.add({ index: 3, term: 1 }, a);
  pending.skipped(entry(3, 2, 'noop'));
  assert.equal(a.outcome, 'PROPOSAL_DROPPED');
});

test('entries from a newer leader drop the proposals they replace or truncate, and only those', () => {
  const pending = new PendingProposals<string>();
  const kept = probe();
  const replaced = probe();
  const truncated = probe();
  const sameTermLater = probe();
  pending.add({ index: 4, term: 2 }, kept);
  pending.add({ index: 5, term: 2 }, replaced);
  pending.add({ index: 7, term: 2 }, truncated);
  pending.add({ index: 9, term: 3 }, sameTermLater);
  const dropped = pending.maybeDropOverwritten([entry(5, 3), entry(6, 3)]);
  assert.equal(dropped, 2);
  assert.equal(kept.outcome, null);
  assert.equal(replaced.outcome, 'PROPOSAL_DROPPED');
  assert.equal(truncated.outcome, 'PROPOSAL_DROPPED');
  assert.equal(sameTermLater.outcome, null, 'a term-3 entry past the write may still be ours');
  // Our own entries coming back in a Ready (same term) drop nothing.
  assert.equal(pending.maybeDropOverwritten([entry(4, 2)]), 0);
});

test('forget removes only the given waiter; a new proposal at a stale index drops the old one', () => {
  const pending = new PendingProposals<string>();
  const old = probe();
  const fresh = probe();
  pending.add({ index: 8, term: 1 }, old);
  pending.forget({ index: 8, term: 1 }, fresh);
  assert.equal(pending.size, 1);
  pending.add({ index: 8, term: 4 }, fresh);
  assert.equal(old.outcome, 'PROPOSAL_DROPPED');
  pending.forget({ index: 8, term: 4 }, fresh);
  assert.equal(pending.size, 0);
});

test('a snapshot covering a proposal settles it as outcome unknown; rejectAll empties the map', () => {
  const pending = new PendingProposals<string>();
  const covered = probe();
  const after = probe();
  pending.add({ index: 10, term: 1 }, covered);
  pending.add({ index: 20, term: 1 }, after);
  pending.coveredBySnapshot(15);
  assert.equal(covered.outcome, 'OUTCOME_UNKNOWN');
  assert.equal(after.outcome, null);
  pending.rejectAll({ code: 'STOPPED' } as RaftError);
  assert.equal(after.outcome, 'STOPPED');
  assert.equal(pending.size, 0);
});
