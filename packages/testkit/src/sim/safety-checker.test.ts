import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ConfState,
  type Entry,
  encodeConfChange,
  type HardState,
  type MemberChange,
  type Message,
} from '@tsraft/core';
import { type DurableView, SafetyChecker } from './safety-checker.js';
import { ShadowLog } from './shadow-log.js';
import { type InvariantCode, InvariantViolation } from './violation.js';

const clock = { now: 0, steps: 0 };
const entry = (index: number, term: number, text = `${index}/${term}`): Entry => ({
  index,
  term,
  type: 'normal',
  data: new TextEncoder().encode(text),
});
const config = (index: number, term: number, changes: MemberChange[], conf: ConfState): Entry => ({
  index,
  term,
  type: 'config',
  data: encodeConfChange({ changes, conf }),
});
const violates = (code: InvariantCode) => (error: unknown) =>
  error instanceof InvariantViolation && error.invariant === code;

function logOf(...terms: number[]): ShadowLog {
  const log = new ShadowLog();
  for (const [i, t] of terms.entries()) log.put(i + 1, t);
  return log;
}

function durable(hardState: HardState, terms: number[], snapshotIndex = 0): DurableView {
  return {
    hardState,
    snapshotIndex,
    lastIndex: terms.length,
    term: (i) => (i === 0 ? 0 : terms[i - 1]!),
  };
}

describe('SafetyChecker', () => {
  it('election safety: one leader per term', () => {
    const c = new SafetyChecker(clock);
    assert.equal(c.observeRole('a', 'leader', 1), true);
    assert.equal(c.observeRole('a', 'leader', 1), false);
    assert.equal(c.observeRole('b', 'leader', 2), true);
    assert.equal(c.observeRole('b', 'follower', 1), false);
    assert.throws(() => c.observeRole('b', 'leader', 1), violates('election-safety'));
  });

  it('log matching: same (index, term) means same payload and same predecessor', () => {
    const c = new SafetyChecker(clock);
    c.observeLogEntry('a', entry(1, 1), 0);
    c.observeLogEntry('b', entry(1, 1), 0);
    c.observeLogEntry('a', entry(2, 2), 1);
    assert.throws(() => c.observeLogEntry('b', entry(1, 1, 'other'), 0), violates('log-matching'));
    assert.throws(() => c.observeLogEntry('c', entry(2, 2), 2), violates('log-matching'));
    assert.throws(
      () => c.observeLogEntry('c', entry(3, 1), 2),
      violates('log-matching'),
      'terms never decrease',
    );
  });

  it('state machine safety: one committed entry per index, snapshots included', () => {
    const c = new SafetyChecker(clock);
    c.observeCommitted('a', 1, entry(1, 1));
    c.observeCommitted('b', 2, entry(1, 1));
    assert.throws(() => c.observeCommitted('c', 3, entry(1, 2)), violates('state-machine-safety'));
    assert.throws(() => c.observeCommitted('c', 3, entry(1, 1, 'other')), violates('state-machine-safety'));
    c.observeSnapshot('c', 3, { index: 1, term: 1, conf: { voters: [], learners: [] } });
    assert.throws(
      () => c.observeSnapshot('c', 3, { index: 1, term: 5, conf: { voters: [], learners: [] } }),
      violates('state-machine-safety'),
    );
    assert.equal(c.committedIndex, 1);
  });

  it('leader completeness: a new leader holds every entry committed in an earlier term', () => {
    const c = new SafetyChecker(clock);
    c.observeCommitted('a', 2, entry(1, 1));
    c.observeCommitted('a', 2, entry(2, 2));
    c.checkLeaderCompleteness('b', 3, logOf(1, 2));
    c.checkLeaderCompleteness('b', 3, logOf(1, 2, 3));
    assert.throws(() => c.checkLeaderCompleteness('b', 3, logOf(1, 1)), violates('leader-completeness'));
    assert.throws(() => c.checkLeaderCompleteness('b', 3, logOf(1)), violates('leader-completeness'));
    // Entries known committed only in term 2 or later do not bind a leader of term 2.
    c.checkLeaderCompleteness('c', 2, logOf(1));
  });

  it('durable state: the term never goes back, the vote never changes within a term', () => {
    const c = new SafetyChecker(clock);
    c.observeDurableSave('a', { term: 1, vote: null, commit: 0 }, { term: 1, vote: 'a', commit: 0 }, 0);
    c.observeDurableSave('a', { term: 1, vote: 'a', commit: 0 }, { term: 2, vote: null, commit: 0 }, 0);
    assert.throws(
      () =>
        c.observeDurableSave('a', { term: 2, vote: null, commit: 0 }, { term: 1, vote: null, commit: 0 }, 0),
      violates('durable-state-monotonic'),
    );
    assert.throws(
      () =>
        c.observeDurableSave('a', { term: 2, vote: 'a', commit: 0 }, { term: 2, vote: 'b', commit: 0 }, 0),
      violates('durable-state-monotonic'),
    );
    assert.throws(
      () =>
        c.observeDurableSave('a', { term: 2, vote: 'a', commit: 0 }, { term: 2, vote: 'a', commit: 5 }, 4),
      violates('durable-state-monotonic'),
    );
    assert.throws(() => c.observeTerm('a', 3, 2), violates('term-monotonic'));
  });

  it('nothing acknowledged before it is durable', () => {
    const c = new SafetyChecker(clock);
    const vote = (granted: boolean, preVote = false): Message => ({
      type: 'voteResponse',
      from: 'a',
      to: 'b',
      term: 2,
      preVote,
      granted,
    });
    const ack = (index: number, reject = false): Message => ({
      type: 'appendResponse',
      from: 'a',
      to: 'b',
      term: 2,
      reject,
      index,
      rejectHintIndex: 0,
      rejectHintTerm: 0,
      commit: 0,
    });
    const none = () => undefined;
    c.observeSend(vote(true), durable({ term: 2, vote: 'b', commit: 0 }, []), none);
    c.observeSend(vote(true), durable({ term: 3, vote: null, commit: 0 }, []), none);
    c.observeSend(vote(true, true), durable({ term: 1, vote: null, commit: 0 }, []), none);
    c.observeSend(vote(false), durable({ term: 1, vote: null, commit: 0 }, []), none);
    assert.throws(
      () => c.observeSend(vote(true), durable({ term: 1, vote: null, commit: 0 }, []), none),
      violates('ack-before-durable'),
    );
    assert.throws(
      () => c.observeSend(vote(true), durable({ term: 2, vote: 'c', commit: 0 }, []), none),
      violates('ack-before-durable'),
    );
    c.observeSend(ack(2), durable({ term: 2, vote: null, commit: 0 }, [1, 2]), () => 2);
    c.observeSend(ack(5, true), durable({ term: 2, vote: null, commit: 0 }, [1]), none);
    c.observeSend(ack(3), durable({ term: 2, vote: null, commit: 0 }, [1, 1, 1], 3), none);
    assert.throws(
      () => c.observeSend(ack(3), durable({ term: 2, vote: null, commit: 0 }, [1, 2]), none),
      violates('ack-before-durable'),
    );
    assert.throws(
      () => c.observeSend(ack(2), durable({ term: 2, vote: null, commit: 0 }, [1, 1]), () => 2),
      violates('ack-before-durable'),
    );
  });

  it('leader append-only: a leader only appends after its last entry', () => {
    const c = new SafetyChecker(clock);
    c.checkLeaderAppendOnly('a', 2, 4, [entry(5, 2), entry(6, 2)]);
    c.checkLeaderAppendOnly('a', 2, 4, []);
    assert.throws(() => c.checkLeaderAppendOnly('a', 2, 4, [entry(4, 2)]), violates('leader-append-only'));
  });

  it('state machine determinism: equal results at each index', () => {
    const c = new SafetyChecker(clock);
    c.observeApplyResult('a', 1, { ok: true });
    c.observeApplyResult('b', 1, { ok: true });
    assert.throws(() => c.observeApplyResult('c', 1, { ok: false }), violates('state-machine-determinism'));
  });

  it('configuration safety: each committed configuration follows from the one before it', () => {
    const abc: ConfState = { voters: ['a', 'b', 'c'], learners: [] };
    const c = new SafetyChecker(clock, abc);
    c.observeCommitted('a', 1, entry(1, 1));
    // A single-server change, then a replacement through a joint configuration, then leaving it.
    c.observeCommitted(
      'a',
      1,
      config(2, 1, [{ type: 'addLearner', nodeId: 'd' }], { ...abc, learners: ['d'] }),
    );
    const joint: ConfState = { voters: ['a', 'b', 'd'], learners: [], votersOutgoing: ['a', 'b', 'c'] };
    c.observeCommitted(
      'a',
      1,
      config(
        3,
        1,
        [
          { type: 'addVoter', nodeId: 'd' },
          { type: 'removeNode', nodeId: 'c' },
        ],
        joint,
      ),
    );
    c.observeCommitted(
      'b',
      1,
      config(
        3,
        1,
        [
          { type: 'addVoter', nodeId: 'd' },
          { type: 'removeNode', nodeId: 'c' },
        ],
        joint,
      ),
    );
    const abd: ConfState = { voters: ['a', 'b', 'd'], learners: [] };
    c.observeCommitted('a', 1, config(4, 1, [], abd));
    assert.equal(c.confAt(1), abc);
    assert.deepEqual(c.confAt(3), joint);
    assert.deepEqual(c.confAt(99), abd);
    assert.equal(c.committedConfigs.length, 3);
    // A change decided against another configuration than the committed one before it.
    assert.throws(
      () =>
        c.observeCommitted(
          'a',
          2,
          config(5, 2, [{ type: 'removeNode', nodeId: 'c' }], { voters: ['a', 'b'], learners: [] }),
        ),
      violates('config-safety'),
    );
    // A configuration that does not match its own changes.
    assert.throws(
      () =>
        c.observeCommitted(
          'a',
          2,
          config(5, 2, [{ type: 'removeNode', nodeId: 'd' }], { voters: ['a'], learners: [] }),
        ),
      violates('config-safety'),
    );
    // Leaving a joint configuration that is not joint.
    assert.throws(() => c.observeCommitted('a', 2, config(5, 2, [], abd)), violates('config-safety'));
    // Snapshots carry the configuration committed as of their index.
    c.observeSnapshot('c', 2, { index: 4, term: 1, conf: abd });
    assert.throws(
      () => c.observeSnapshot('c', 2, { index: 2, term: 1, conf: abd }),
      violates('config-safety'),
    );
  });

  it('configuration safety: a change never starts from a joint configuration', () => {
    const ab: ConfState = { voters: ['a', 'b'], learners: [] };
    const c = new SafetyChecker(clock, ab);
    const joint: ConfState = { voters: ['c', 'd'], learners: [], votersOutgoing: ['a', 'b'] };
    const changes: MemberChange[] = [
      { type: 'addVoter', nodeId: 'c' },
      { type: 'addVoter', nodeId: 'd' },
      { type: 'removeNode', nodeId: 'a' },
      { type: 'removeNode', nodeId: 'b' },
    ];
    c.observeCommitted('a', 1, config(1, 1, changes, joint));
    assert.throws(
      () =>
        c.observeCommitted(
          'a',
          1,
          config(2, 1, [{ type: 'addLearner', nodeId: 'e' }], { ...joint, learners: ['e'] }),
        ),
      violates('config-safety'),
    );
  });

  it("configuration safety: a node's core has in force what its committed entries say", () => {
    const c = new SafetyChecker(clock);
    const ab: ConfState = { voters: ['a', 'b'], learners: [] };
    const abc: ConfState = { voters: ['a', 'b', 'c'], learners: [] };
    c.checkNodeConf('a', abc, { voters: ['c', 'b', 'a'], learners: [] }, abc, true);
    c.checkNodeConf('a', abc, abc, null, false);
    assert.throws(() => c.checkNodeConf('a', abc, ab, abc, true), violates('config-safety'));
    assert.throws(() => c.checkNodeConf('a', abc, abc, null, true), violates('config-safety'));
    assert.throws(() => c.checkNodeConf('a', abc, abc, abc, false), violates('config-safety'));
    assert.throws(() => c.checkNodeConf('a', abc, abc, ab, true), violates('config-safety'));
  });
});
