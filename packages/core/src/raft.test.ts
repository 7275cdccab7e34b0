// One test per claim of the Raft paper / thesis, each citing its section, over the synchronous TestCluster.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RaftError } from './errors.js';
import { MemoryStorage } from './memory/memory-storage.js';
import type { AppendResponse, Message } from './message.js';
import { RawNode } from './raw-node.js';
import { TestCluster } from './test-support/test-cluster.js';

const ids = ['a', 'b', 'c'];
const bytes = (s: string) => new TextEncoder().encode(s);

describe('election (Raft §5.2)', () => {
  it('elects exactly one leader, and every node learns who it is', () => {
    const c = new TestCluster(ids);
    c.tick(30);
    assert.equal(c.leaders().length, 1);
    const leader = c.leaders()[0]!;
    for (const id of ids) assert.equal(c.node(id).status().leader, leader);
  });

  it('a candidate counts its own vote only once the vote is durable', () => {
    const storage = new MemoryStorage({ conf: { voters: ['solo'], learners: [] } });
    const node = new RawNode({ id: 'solo', storage, randomSeed: 1 });
    node.campaign();
    assert.equal(node.status().role, 'candidate', 'still a candidate before the Ready is persisted');
    const ready = node.ready();
    assert.equal(ready.hardState?.vote, 'solo');
    assert.equal(ready.mustSync, true);
    storage.saveSync({ hardState: ready.hardState, entries: ready.entries, snapshot: null, sync: true });
    node.advance(ready);
    assert.equal(node.status().role, 'leader');
  });

  it('grants at most one vote per term (§5.2) and only to up-to-date logs (§5.4.1)', () => {
    const c = new TestCluster(ids, { preVote: false });
    c.elect('a');
    c.propose('a', 'x');
    // b and c hold entry 2; a fresh candidate with a shorter log must be refused.
    const votes: Message[] = [];
    c.node('c').step({
      type: 'vote',
      from: 'z',
      to: 'c',
      term: 5,
      preVote: false,
      lastLogIndex: 1,
      lastLogTerm: 1,
      leadershipTransfer: true,
    });
    votes.push(...c.node('c').ready().persistedMessages);
    assert.equal(votes.length, 1);
    assert.equal(votes[0]!.type === 'voteResponse' && votes[0]!.granted, false);
  });

  it('a node never votes twice in one term', () => {
    const storage = new MemoryStorage({ conf: { voters: ['a', 'b', 'c'], learners: [] } });
    const node = new RawNode({ id: 'a', storage, randomSeed: 1, preVote: false, checkQuorum: false });
    const ask = (from: string) =>
      node.step({
        type: 'vote',
        from,
        to: 'a',
        term: 2,
        preVote: false,
        lastLogIndex: 0,
        lastLogTerm: 0,
        leadershipTransfer: false,
      });
    ask('b');
    ask('c');
    const grants = node
      .ready()
      .persistedMessages.filter((m) => m.type === 'voteResponse' && m.granted)
      .map((m) => m.to);
    assert.deepEqual(grants, ['b']);
  });

  it('pre-vote keeps a partitioned node from bumping its term and disrupting the cluster (thesis §9.6)', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    const term = c.node('a').status().hardState.term;
    c.isolate('c');
    c.tick(50, ['c']);
    assert.equal(c.node('c').status().hardState.term, term, 'pre-vote failed, so the term did not move');
    c.heal();
    c.tick(5);
    assert.equal(c.leaders()[0], 'a');
    assert.equal(c.node('a').status().hardState.term, term);
  });

  it('without pre-vote, a rejoining node with a higher term still cannot depose a live leader (lease, §4.2.3)', () => {
    const c = new TestCluster(ids, { preVote: false });
    c.elect('a');
    c.isolate('c');
    c.tick(30, ['c']);
    assert.ok(c.node('c').status().hardState.term > c.node('a').status().hardState.term);
    c.heal();
    // Votes from c are ignored while a and b hear from a live leader; c catches up via the stale-term reply.
    c.tick(1, ['a', 'b']);
    assert.equal(c.node('b').status().leader, 'a');
  });

  it('check-quorum: a leader cut off from a quorum steps down within an election timeout (thesis §6.2)', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    c.isolate('a');
    c.tick(25, ['a']);
    assert.equal(c.node('a').status().role, 'follower');
  });

  it('no leader is elected without a quorum', () => {
    const c = new TestCluster(ids);
    c.isolate('b');
    c.isolate('c');
    c.tick(100);
    assert.equal(c.leaders().length, 0);
  });
});

describe('replication (Raft §5.3)', () => {
  it('replicates and commits an entry on every node, in order', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    c.propose('a', 'x');
    c.propose('a', 'y');
    for (const id of ids) assert.deepEqual(c.appliedText(id), ['x', 'y']);
  });

  it('batches every proposal made before a Ready into one append per follower', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    const before = c.sent.length;
    for (let i = 0; i < 10; i++) c.node('a').propose(bytes(`p${i}`));
    c.stabilize();
    const appends = c.sent.slice(before).filter((m) => m.type === 'append' && m.entries.length > 0);
    assert.equal(appends.length, 2);
    for (const m of appends) assert.equal(m.type === 'append' && m.entries.length, 10);
    for (const id of ids) assert.equal(c.appliedText(id).length, 10);
  });

  it('commits despite a failed follower, and not without a quorum', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    c.isolate('c');
    c.propose('a', 'one');
    assert.deepEqual(c.appliedText('a'), ['one']);
    c.isolate('b');
    c.propose('a', 'two');
    assert.deepEqual(c.appliedText('a'), ['one'], 'no quorum, no commit');
    c.heal();
    c.tick(2);
    for (const id of ids) assert.deepEqual(c.appliedText(id), ['one', 'two']);
  });

  it('truncates a follower’s conflicting suffix and converges with fast back-off over long divergent logs', () => {
    const c = new TestCluster(['a', 'b', 'c', 'd', 'e'], { preVote: false, checkQuorum: false });
    c.elect('a');
    c.propose('a', 'base');
    // a leads alone with b: 50 uncommitted entries that will be overwritten.
    c.isolate('c');
    c.isolate('d');
    c.isolate('e');
    for (let i = 0; i < 50; i++) c.node('a').propose(bytes(`lost${i}`));
    c.stabilize();
    c.heal();
    c.isolate('a');
    c.isolate('b');
    c.elect('c');
    for (let i = 0; i < 50; i++) c.node('c').propose(bytes(`kept${i}`));
    c.stabilize();
    c.heal();
    const before = c.sent.length;
    c.tick(3);
    const rejects = c.sent.slice(before).filter((m) => m.type === 'appendResponse' && m.reject);
    assert.ok(rejects.length <= 4, `fast back-off needed ${rejects.length} rejections`);
    const expected = ['base', ...Array.from({ length: 50 }, (_, i) => `kept${i}`)];
    for (const id of ['c', 'd', 'e']) assert.deepEqual(c.appliedText(id), expected);
    assert.equal(c.node('a').status().lastIndex, c.node('c').status().lastIndex);
    assert.deepEqual(
      c
        .member('a')
        .storage.entries(1, c.node('a').status().lastIndex + 1)
        .map((e) => e.term),
      c
        .member('c')
        .storage.entries(1, c.node('c').status().lastIndex + 1)
        .map((e) => e.term),
    );
  });

  for (const disableFigure8Rule of [false, true]) {
    it(`only counts replicas of an entry of the current term towards commitment (§5.4.2, Figure 8)${disableFigure8Rule ? ': the test-only fault breaks it' : ''}`, () => {
      const conf = { voters: ['a', 'b', 'c'], learners: [] };
      const entry = (index: number, term: number) => ({
        index,
        term,
        type: 'normal' as const,
        data: bytes(`${index}@${term}`),
      });
      const storage = new MemoryStorage({ conf, hardState: { term: 3, vote: null, commit: 1 } });
      storage.saveSync({ hardState: null, entries: [entry(1, 1), entry(2, 2)], snapshot: null, sync: true });
      const config = { id: 'a', storage, randomSeed: 1, preVote: false };
      const a = disableFigure8Rule ? RawNode.withFaults(config, { disableFigure8Rule }) : new RawNode(config);
      const drain = () => {
        const ready = a.ready();
        storage.saveSync({ hardState: ready.hardState, entries: ready.entries, snapshot: null, sync: true });
        a.advance(ready);
      };
      a.campaign();
      drain();
      a.step({ type: 'voteResponse', from: 'c', to: 'a', term: 4, preVote: false, granted: true });
      assert.equal(a.status().role, 'leader');
      drain(); // the noop of term 4 at index 3, durable on a
      // b acknowledges the term-2 entry only: index 2 is now on a majority (a, b), index 3 is not.
      a.step({
        type: 'appendResponse',
        from: 'b',
        to: 'a',
        term: 4,
        reject: false,
        index: 2,
        rejectHintIndex: 0,
        rejectHintTerm: 0,
        commit: 0,
      });
      assert.equal(a.status().hardState.commit, disableFigure8Rule ? 2 : 1);
      a.step({
        type: 'appendResponse',
        from: 'b',
        to: 'a',
        term: 4,
        reject: false,
        index: 3,
        rejectHintIndex: 0,
        rejectHintTerm: 0,
        commit: 0,
      });
      assert.equal(
        a.status().hardState.commit,
        3,
        'committing the term-4 entry commits everything before it',
      );
    });
  }

  it('flow control: a full in-flight window pauses sending to that follower', () => {
    const c = new TestCluster(ids, { maxInflightMessages: 2, maxMessageBytes: 1 });
    c.elect('a');
    c.dropIf = (m) => m.type === 'appendResponse' && m.from === 'b';
    for (let i = 0; i < 10; i++) c.node('a').propose(bytes(`x${i}`));
    c.stabilize();
    const toB = c.sent.filter((m) => m.type === 'append' && m.to === 'b' && m.entries.length > 0);
    const toC = c.sent.filter((m) => m.type === 'append' && m.to === 'c' && m.entries.length > 0);
    assert.ok(toB.length <= 3, `b got ${toB.length} appends with a window of 2`);
    assert.ok(toC.length >= 10, 'c, acknowledging, gets everything');
    assert.equal(c.node('a').status().progress?.get('b')?.inflightMessages, 2);
  });

  it('rejects proposals past the uncommitted bound with TOO_MANY_UNCOMMITTED', () => {
    const c = new TestCluster(ids, { maxUncommittedBytes: 100 });
    c.elect('a');
    c.isolate('b');
    c.isolate('c');
    c.node('a').propose(new Uint8Array(60));
    assert.throws(
      () => c.node('a').propose(new Uint8Array(60)),
      (e: unknown) => e instanceof RaftError && e.code === 'TOO_MANY_UNCOMMITTED',
    );
  });

  it('a follower rejects proposals with NOT_LEADER naming the leader', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    assert.throws(
      () => c.node('b').propose(bytes('x')),
      (e: unknown) => e instanceof RaftError && e.code === 'NOT_LEADER' && e.leader === 'a',
    );
  });
});

describe('durability ordering (Ready contract)', () => {
  it('append and vote acknowledgements wait for persistence; the leader’s appends do not', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    c.node('a').propose(bytes('x'));
    const leaderReady = c.node('a').ready();
    assert.ok(
      leaderReady.messages.some((m) => m.type === 'append'),
      'leader sends before its own write',
    );
    assert.equal(leaderReady.entries.length, 1);
    const append = leaderReady.messages.find((m) => m.type === 'append' && m.to === 'b')!;
    c.member('a').storage.saveSync({
      hardState: leaderReady.hardState,
      entries: leaderReady.entries,
      snapshot: null,
      sync: true,
    });
    c.node('a').advance(leaderReady);
    c.node('b').step(append);
    const followerReady = c.node('b').ready();
    assert.equal(followerReady.messages.filter((m) => m.type === 'appendResponse').length, 0);
    assert.equal(followerReady.persistedMessages.filter((m) => m.type === 'appendResponse').length, 1);
  });

  it('applies only entries that are durable locally', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    c.node('a').propose(bytes('x'));
    const ready = c.node('a').ready();
    assert.equal(ready.committedEntries.length, 0);
  });
});

describe('linearizable reads (thesis §6.4)', () => {
  it('answers ReadIndex on the leader after a quorum confirms, with the commit index', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    c.propose('a', 'x');
    c.node('a').readIndex(7);
    c.stabilize();
    const rs = c.member('a').readStates;
    assert.deepEqual(rs, [{ requestId: 7, ok: true, index: c.node('a').status().hardState.commit }]);
  });

  it('a follower forwards reads to the leader', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    c.propose('a', 'x');
    c.node('b').readIndex(3);
    c.stabilize();
    const rs = c.member('b').readStates[0];
    assert.ok(rs?.ok && rs.index >= 2);
  });

  it('a leader without a quorum never answers a read', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    c.isolate('b');
    c.isolate('c');
    c.node('a').readIndex(1);
    c.stabilize();
    assert.equal(c.member('a').readStates.length, 0);
    c.tick(25, ['a']);
    assert.deepEqual(c.member('a').readStates[0], {
      requestId: 1,
      ok: false,
      code: 'NOT_LEADER',
      leader: null,
    });
  });

  it('a new leader serves no read until it has committed an entry of its term', () => {
    const c = new TestCluster(ids);
    c.dropIf = (m) => m.type === 'appendResponse';
    c.elect('a');
    c.node('a').readIndex(1);
    c.stabilize();
    assert.equal(c.member('a').readStates.length, 0);
    c.dropIf = () => false;
    c.tick(2);
    assert.equal(c.member('a').readStates.length, 1);
  });
});

describe('lease reads (thesis §6.4.1)', () => {
  /** A leader `a` with one committed entry of its term, then cut off from both followers. */
  function isolatedLeader(options: { checkQuorum?: boolean } = {}): TestCluster {
    const c = new TestCluster(ids, options);
    c.elect('a');
    c.propose('a', 'x');
    c.stabilize();
    c.isolate('b');
    c.isolate('c');
    return c;
  }

  it('a leader in its lease answers at once from its commit index, with no heartbeat round', () => {
    const c = isolatedLeader();
    const sentBefore = c.sent.length;
    c.node('a').readIndex(5, { lease: true });
    c.stabilize();
    const commit = c.node('a').status().hardState.commit;
    assert.deepEqual(c.member('a').readStates, [{ requestId: 5, ok: true, index: commit }]);
    assert.equal(c.sent.length, sentBefore, 'no message was needed');
    // The same read without the lease needs the quorum it cannot reach.
    c.node('a').readIndex(6);
    c.stabilize();
    assert.equal(c.member('a').readStates.length, 1);
  });

  it('once a check-quorum period passes without hearing from a quorum, the lease is gone', () => {
    const c = isolatedLeader();
    c.tick(10, ['a']); // one election timeout: the check passes on the earlier contact, then resets
    assert.equal(c.node('a').status().role, 'leader');
    c.node('a').readIndex(5, { lease: true });
    c.stabilize();
    assert.equal(c.member('a').readStates.length, 0, 'fell back to a read index round, unanswered');
  });

  it('without check-quorum there is no lease: the read waits for a quorum', () => {
    const c = isolatedLeader({ checkQuorum: false });
    c.node('a').readIndex(5, { lease: true });
    c.stabilize();
    assert.equal(c.member('a').readStates.length, 0);
  });

  it('on a follower a lease read is an ordinary read index through the leader', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    c.propose('a', 'x');
    c.stabilize();
    c.node('b').readIndex(3, { lease: true });
    c.stabilize();
    const state = c.member('b').readStates[0];
    assert.ok(state?.ok && state.index === c.node('a').status().hardState.commit);
    assert.ok(c.sent.some((m) => m.type === 'readIndex' && m.from === 'b'));
  });
});

describe('leadership transfer (thesis §3.10)', () => {
  it('catches the target up, then hands over', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    c.isolate('c');
    c.propose('a', 'x');
    c.heal();
    c.node('a').transferLeadership('c');
    c.stabilize();
    assert.deepEqual(c.leaders(), ['c']);
    assert.ok(c.appliedText('c').includes('x'));
  });

  it('rejects proposals while a transfer is in progress', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    c.isolate('c');
    c.node('a').transferLeadership('c');
    assert.throws(
      () => c.node('a').propose(bytes('x')),
      (e: unknown) => e instanceof RaftError && e.code === 'TRANSFER_IN_PROGRESS',
    );
    c.tick(12, ['a', 'b']);
    assert.doesNotThrow(
      () => c.node('a').propose(bytes('y')),
      'the transfer was abandoned after an election timeout',
    );
  });
});

describe('snapshots (Raft §7)', () => {
  it('a follower behind the compaction point catches up from a snapshot', async () => {
    const c = new TestCluster(ids);
    c.elect('a');
    c.isolate('c');
    for (let i = 0; i < 5; i++) c.propose('a', `v${i}`);
    const leader = c.member('a');
    const commit = c.node('a').status().hardState.commit;
    await leader.storage.saveSnapshot(
      { index: commit, term: leader.storage.term(commit), conf: { voters: ids, learners: [] } },
      bytes('state'),
    );
    c.heal();
    c.tick(3);
    assert.equal(c.member('c').storage.snapshot().meta.index, commit);
    assert.equal(c.node('c').status().hardState.commit, commit);
    c.propose('a', 'after');
    assert.deepEqual(c.appliedText('c'), ['after']);
  });
});

describe('restart', () => {
  it('a restarted node keeps its term and vote, and re-applies committed entries', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    c.propose('a', 'x');
    const before = c.node('b').status().hardState;
    c.restart('b');
    assert.equal(c.node('b').status().hardState.term, before.term);
    assert.equal(c.node('b').status().hardState.vote, before.vote);
    c.tick(2);
    assert.deepEqual(c.appliedText('b'), ['x']);
  });
});

describe('input validation', () => {
  it('rejects malformed messages with INVALID_ARGUMENT and changes nothing', () => {
    const storage = new MemoryStorage({ conf: { voters: ['a', 'b'], learners: [] } });
    const node = new RawNode({ id: 'a', storage, randomSeed: 1 });
    const before = node.status();
    const bad: unknown[] = [
      {
        type: 'append',
        from: 'b',
        to: 'a',
        term: 1,
        prevLogIndex: -1,
        prevLogTerm: 0,
        entries: [],
        commit: 0,
      },
      {
        type: 'append',
        from: 'b',
        to: 'a',
        term: 1,
        prevLogIndex: 0,
        prevLogTerm: 0,
        entries: [{ index: 5, term: 1, type: 'normal', data: new Uint8Array() }],
        commit: 0,
      },
      { type: 'nonsense', from: 'b', to: 'a', term: 1 },
      { type: 'heartbeat', from: '', to: 'a', term: 1, commit: 0, context: 0 },
      {
        type: 'appendResponse',
        from: 'b',
        to: 'a',
        term: 1.5,
        reject: false,
        index: 0,
        rejectHintIndex: 0,
        rejectHintTerm: 0,
        commit: 0,
      } satisfies Omit<AppendResponse, 'term'> & { term: number },
    ];
    for (const m of bad) {
      assert.throws(
        () => node.step(m as Message),
        (e: unknown) => e instanceof RaftError && e.code === 'INVALID_ARGUMENT',
      );
    }
    assert.deepEqual(node.status(), before);
  });

  it('a leader refuses an acknowledgement past its own log without touching its progress', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    const before = c.node('a').status().progress?.get('b');
    const term = c.node('a').status().hardState.term;
    assert.throws(
      () =>
        c.node('a').step({
          type: 'appendResponse',
          from: 'b',
          to: 'a',
          term,
          reject: false,
          index: 1e9,
          rejectHintIndex: 0,
          rejectHintTerm: 0,
          commit: 0,
        }),
      (e: unknown) => e instanceof RaftError && e.code === 'INVALID_ARGUMENT',
    );
    assert.deepEqual(c.node('a').status().progress?.get('b'), before);
    c.propose('a', 'still works');
    assert.deepEqual(c.appliedText('b'), ['still works']);
  });

  it('rejects bad configuration with INVALID_CONFIG', () => {
    const storage = new MemoryStorage();
    assert.throws(
      () => new RawNode({ id: 'a', storage, randomSeed: 1, electionTicks: 1, heartbeatTicks: 1 }),
      (e: unknown) => e instanceof RaftError && e.code === 'INVALID_CONFIG',
    );
  });
});
