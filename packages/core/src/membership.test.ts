import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyMemberChanges, configId, isJoint, isMember, leaveJoint } from './conf-change.js';
import { decodeConfChange, encodeConfChange } from './conf-change-codec.js';
import type { ConfState, MemberChange } from './conf-state.js';
import type { NodeId } from './entry.js';
import { RaftError } from './errors.js';
import type { Ready } from './ready.js';
import { TestCluster } from './test-support/test-cluster.js';

function clusterWithLeader(ids: NodeId[] = ['n1', 'n2', 'n3']): TestCluster {
  const c = new TestCluster(ids);
  c.elect('n1');
  return c;
}

function change(c: TestCluster, on: NodeId, changes: MemberChange[], expectedConfigId?: string): void {
  c.node(on).proposeConfChange(changes, expectedConfigId === undefined ? {} : { expectedConfigId });
  c.stabilize();
}

function conf(c: TestCluster, id: NodeId): ConfState {
  return c.node(id).status().conf;
}

function sorted(ids: readonly NodeId[] | undefined): NodeId[] {
  return [...(ids ?? [])].sort();
}

function raftCode(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof RaftError, String(error));
    return error.code;
  }
  assert.fail('expected a RaftError');
}

/** The configurations carried by the config entries `id` applied, in order. */
function appliedConfs(c: TestCluster, id: NodeId): ConfState[] {
  return c
    .member(id)
    .applied.filter((e) => e.type === 'config')
    .map((e) => decodeConfChange(e.data).conf);
}

describe('membership changes (thesis §4)', () => {
  it('a learner receives the log but never counts towards a quorum and never campaigns', () => {
    const c = clusterWithLeader();
    c.addNode('n4');
    change(c, 'n1', [{ type: 'addLearner', nodeId: 'n4', address: '10.0.0.4:7000' }]);
    c.propose('n1', 'a');
    assert.deepEqual(c.appliedText('n4'), ['a']);
    assert.deepEqual(conf(c, 'n4').learners, ['n4']);
    assert.equal(conf(c, 'n4').addresses?.n4, '10.0.0.4:7000');
    assert.equal(c.node('n1').status().progress?.get('n4')?.isLearner, true);

    // With two voters gone, the learner's acknowledgement must not make a quorum.
    c.isolate('n2');
    c.isolate('n3');
    const { index } = c.node('n1').propose(new TextEncoder().encode('b'));
    c.stabilize();
    assert.ok(c.node('n1').status().hardState.commit < index, 'committed with a learner in the quorum');

    // The learner never campaigns, however long it hears nothing.
    c.isolate('n1');
    c.tick(100, ['n4']);
    assert.equal(c.node('n4').status().role, 'follower');
    assert.equal(c.node('n4').status().hardState.term, c.node('n1').status().hardState.term);
  });

  it('grows 3 → 5 one voter at a time; a new node learns the membership from the log alone', () => {
    const c = clusterWithLeader();
    c.propose('n1', 'before');
    for (const id of ['n4', 'n5']) {
      c.addNode(id);
      change(c, 'n1', [{ type: 'addVoter', nodeId: id }]);
    }
    for (const id of ['n1', 'n2', 'n3', 'n4', 'n5']) {
      assert.deepEqual(sorted(conf(c, id).voters), ['n1', 'n2', 'n3', 'n4', 'n5'], id);
    }
    assert.deepEqual(c.appliedText('n5'), ['before']);
    // Five voters: two down still commits, three down does not.
    c.isolate('n2');
    c.isolate('n3');
    c.propose('n1', 'with three of five');
    assert.deepEqual(c.appliedText('n4'), ['before', 'with three of five']);
    c.isolate('n4');
    const { index } = c.node('n1').propose(new TextEncoder().encode('with two of five'));
    c.stabilize();
    assert.ok(c.node('n1').status().hardState.commit < index);
  });

  it('shrinks 5 → 3, and the removed nodes learn they were removed', () => {
    const c = clusterWithLeader(['n1', 'n2', 'n3', 'n4', 'n5']);
    change(c, 'n1', [{ type: 'removeNode', nodeId: 'n5' }]);
    change(c, 'n1', [{ type: 'removeNode', nodeId: 'n4' }]);
    for (const id of ['n1', 'n2', 'n3']) assert.deepEqual(sorted(conf(c, id).voters), ['n1', 'n2', 'n3']);
    assert.ok(!conf(c, 'n4').voters.includes('n4'), 'n4 did not learn its removal');
    assert.ok(!conf(c, 'n5').voters.includes('n5'), 'n5 did not learn its removal');
    // A quorum of the three remaining commits without the removed nodes.
    c.isolate('n4');
    c.isolate('n5');
    c.isolate('n3');
    c.propose('n1', 'two of three');
    assert.deepEqual(c.appliedText('n2'), ['two of three']);
  });

  it('a node removed while cut off learns of its removal when it comes back, and stops disturbing', () => {
    const c = clusterWithLeader();
    c.isolate('n3');
    change(c, 'n1', [{ type: 'removeNode', nodeId: 'n3' }]);
    c.propose('n1', 'while n3 was away');
    assert.deepEqual(sorted(conf(c, 'n3').voters), ['n1', 'n2', 'n3']);
    c.heal();
    // n3 hears nothing (it is no longer replicated to), times out and asks for votes: the leader then
    // replicates to it until it has the entry that removed it.
    c.tick(30);
    assert.deepEqual(sorted(conf(c, 'n3').voters), ['n1', 'n2']);
    assert.deepEqual(c.leaders(), ['n1']);
    assert.equal(c.node('n1').status().progress?.has('n3'), false, 'n1 still replicates to n3');
  });

  it('replaces a voter in one change through a joint configuration, which the leader leaves by itself', () => {
    const c = clusterWithLeader();
    c.addNode('n4');
    change(c, 'n1', [
      { type: 'addVoter', nodeId: 'n4' },
      { type: 'removeNode', nodeId: 'n3' },
    ]);
    const confs = appliedConfs(c, 'n1');
    assert.equal(confs.length, 2);
    assert.deepEqual(sorted(confs[0]!.voters), ['n1', 'n2', 'n4']);
    assert.deepEqual(sorted(confs[0]!.votersOutgoing), ['n1', 'n2', 'n3']);
    assert.ok(!isJoint(confs[1]!));
    for (const id of ['n1', 'n2', 'n4']) {
      assert.deepEqual(sorted(conf(c, id).voters), ['n1', 'n2', 'n4'], id);
      assert.ok(!isJoint(conf(c, id)), id);
    }
    // The voter count was 3 before, 3 + 3 (both majorities) while joint, and 3 after: never 4.
  });

  it('a joint configuration needs a majority of both the old and the new voters', () => {
    const c = clusterWithLeader();
    c.addNode('n4');
    c.addNode('n5');
    // The new voters are unreachable: the joint entry commits under the old voters, nothing after it does.
    c.isolate('n4');
    c.isolate('n5');
    change(c, 'n1', [
      { type: 'addVoter', nodeId: 'n4' },
      { type: 'addVoter', nodeId: 'n5' },
      { type: 'removeNode', nodeId: 'n3' },
    ]);
    assert.ok(isJoint(conf(c, 'n1')));
    const { index } = c.node('n1').propose(new TextEncoder().encode('x'));
    c.stabilize();
    assert.ok(c.node('n1').status().hardState.commit < index, 'committed without the new majority');
    c.heal();
    c.tick(3);
    assert.ok(c.node('n1').status().hardState.commit >= index);
    for (const id of ['n1', 'n2', 'n4', 'n5']) {
      assert.deepEqual(sorted(conf(c, id).voters), ['n1', 'n2', 'n4', 'n5'], id);
      assert.ok(!isJoint(conf(c, id)), id);
    }
  });

  it('removing the leader: it commits the change, then hands leadership to an up-to-date voter', () => {
    const c = clusterWithLeader();
    c.propose('n1', 'a');
    change(c, 'n1', [{ type: 'removeNode', nodeId: 'n1' }]);
    // n1 hands over, and steps down when its heartbeats are answered in its successor's term.
    c.tick(3);
    const leaders = c.leaders();
    assert.equal(leaders.length, 1);
    assert.notEqual(leaders[0], 'n1');
    assert.notEqual(c.node('n1').status().role, 'leader');
    for (const id of ['n1', 'n2', 'n3']) assert.deepEqual(sorted(conf(c, id).voters), ['n2', 'n3'], id);
    const leader = leaders[0]!;
    c.propose(leader, 'b');
    assert.deepEqual(c.appliedText(leader === 'n2' ? 'n3' : 'n2'), ['a', 'b']);
    // The removed node stays quiet: ticking it for long moves nobody's term.
    const term = c.node(leader).status().hardState.term;
    c.tick(100);
    assert.equal(c.node(leader).status().hardState.term, term);
    assert.equal(c.leaders().length, 1);
  });

  it('accepts one change at a time, and refuses changes that do not fit the latest configuration', () => {
    const c = clusterWithLeader();
    c.addNode('n4');
    c.node('n1').proposeConfChange([{ type: 'addLearner', nodeId: 'n4' }]);
    assert.equal(
      raftCode(() => c.node('n1').proposeConfChange([{ type: 'removeNode', nodeId: 'n2' }])),
      'CONF_CHANGE_IN_PROGRESS',
    );
    c.stabilize();
    assert.equal(
      raftCode(() => c.node('n1').proposeConfChange([{ type: 'addLearner', nodeId: 'n4' }])),
      'INVALID_ARGUMENT',
    );
    assert.equal(
      raftCode(() => c.node('n1').proposeConfChange([{ type: 'addVoter', nodeId: 'n2' }])),
      'INVALID_ARGUMENT',
    );
    assert.equal(
      raftCode(() => c.node('n1').proposeConfChange([{ type: 'removeNode', nodeId: 'n9' }])),
      'INVALID_ARGUMENT',
    );
    assert.equal(
      raftCode(() => c.node('n1').proposeConfChange([])),
      'INVALID_ARGUMENT',
    );
    assert.equal(
      raftCode(() => c.node('n2').proposeConfChange([{ type: 'removeNode', nodeId: 'n4' }])),
      'NOT_LEADER',
    );
    // Promotion of the learner.
    change(c, 'n1', [{ type: 'addVoter', nodeId: 'n4' }]);
    assert.deepEqual(sorted(conf(c, 'n4').voters), ['n1', 'n2', 'n3', 'n4']);
    assert.deepEqual(conf(c, 'n4').learners, []);
  });

  it('compare-and-set: a change decided against a stale configuration is refused', () => {
    const c = clusterWithLeader();
    const seen = configId(conf(c, 'n1'));
    c.addNode('n4');
    change(c, 'n1', [{ type: 'addLearner', nodeId: 'n4' }], seen);
    assert.notEqual(configId(conf(c, 'n1')), seen);
    assert.equal(
      raftCode(() =>
        c.node('n1').proposeConfChange([{ type: 'removeNode', nodeId: 'n4' }], { expectedConfigId: seen }),
      ),
      'CONFIG_MISMATCH',
    );
    change(c, 'n1', [{ type: 'removeNode', nodeId: 'n4' }], configId(conf(c, 'n1')));
    assert.deepEqual(conf(c, 'n1').learners, []);
  });

  it('a new leader accepts no change before it committed an entry of its term', () => {
    const c = new TestCluster(['n1', 'n2', 'n3']);
    c.dropIf = (m) => m.type === 'append';
    c.elect('n1');
    assert.equal(c.node('n1').status().role, 'leader');
    c.addNode('n4');
    assert.equal(
      raftCode(() => c.node('n1').proposeConfChange([{ type: 'addLearner', nodeId: 'n4' }])),
      'CONF_CHANGE_IN_PROGRESS',
    );
    c.dropIf = () => false;
    c.tick(1);
    change(c, 'n1', [{ type: 'addLearner', nodeId: 'n4' }]);
    assert.deepEqual(conf(c, 'n4').learners, ['n4']);
  });

  it('a restarted node rebuilds the membership from its storage and log', () => {
    const c = clusterWithLeader();
    c.addNode('n4');
    change(c, 'n1', [{ type: 'addVoter', nodeId: 'n4' }]);
    c.restart('n2');
    c.stabilize();
    c.tick(2);
    assert.deepEqual(sorted(conf(c, 'n2').voters), ['n1', 'n2', 'n3', 'n4']);
  });
});

describe('configuration arithmetic and encoding', () => {
  const base: ConfState = {
    voters: ['a', 'b', 'c'],
    learners: [],
    addresses: { a: 'h:1', b: 'h:2', c: 'h:3' },
  };

  it('enters a joint configuration only when more than one voter changes', () => {
    const single = applyMemberChanges(base, [{ type: 'addVoter', nodeId: 'd', address: 'h:4' }]);
    assert.ok(!isJoint(single));
    const replaced = applyMemberChanges(base, [
      { type: 'addVoter', nodeId: 'd' },
      { type: 'removeNode', nodeId: 'c' },
    ]);
    assert.deepEqual(replaced.votersOutgoing, ['a', 'b', 'c']);
    const left = leaveJoint(replaced);
    assert.deepEqual(left.voters, ['a', 'b', 'd']);
    assert.deepEqual(left.addresses, { a: 'h:1', b: 'h:2' });
    assert.throws(() => applyMemberChanges(replaced, [{ type: 'addLearner', nodeId: 'e' }]), /joint/);
    assert.throws(
      () =>
        applyMemberChanges(base, [
          { type: 'removeNode', nodeId: 'a' },
          { type: 'removeNode', nodeId: 'b' },
          { type: 'removeNode', nodeId: 'c' },
        ]),
      /at least one voter/,
    );
    assert.throws(() => applyMemberChanges(base, [{ type: 'addLearner', nodeId: 'a' }]), /demot/);
  });

  it('configId tells configurations apart and ignores order', () => {
    assert.equal(configId(base), configId({ ...base, voters: ['c', 'a', 'b'] }));
    assert.notEqual(
      configId(base),
      configId({ ...base, learners: ['d'], addresses: { ...base.addresses, d: 'x' } }),
    );
    assert.match(configId(base), /^[0-9a-f]{16}$/);
  });

  it('round-trips a change and rejects malformed bytes with INVALID_ARGUMENT', () => {
    const joint = applyMemberChanges(base, [
      { type: 'addVoter', nodeId: 'd', address: 'h:4' },
      { type: 'removeNode', nodeId: 'c' },
    ]);
    const changes: MemberChange[] = [
      { type: 'addVoter', nodeId: 'd', address: 'h:4' },
      { type: 'removeNode', nodeId: 'c' },
    ];
    assert.deepEqual(decodeConfChange(encodeConfChange({ changes, conf: joint })), { changes, conf: joint });
    const bytes = encodeConfChange({ changes, conf: joint });
    for (let cut = 0; cut < bytes.length; cut++) {
      try {
        decodeConfChange(bytes.subarray(0, cut));
      } catch (error) {
        assert.ok(error instanceof RaftError && error.code === 'INVALID_ARGUMENT', String(error));
      }
    }
    assert.throws(() => decodeConfChange(new Uint8Array([0x0a, 0x02, 0x08, 0x09])), /INVALID_ARGUMENT/);
    // A configuration breaking its invariants (a voter listed twice) is refused.
    const bad = encodeConfChange({ changes: [], conf: { voters: ['a', 'a'], learners: [] } });
    assert.throws(() => decodeConfChange(bad), /twice/);
  });
});

describe('removal: durable commit, release, and a removed leader', () => {
  it('a leader syncs the commit of a configuration entry before telling anyone of it', () => {
    const c = clusterWithLeader();
    const leader = c.node('n1');
    const readies: Ready[] = [];
    const ready = leader.ready.bind(leader);
    leader.ready = () => {
      const r = ready();
      readies.push(r);
      return r;
    };
    const { index } = leader.proposeConfChange([{ type: 'removeNode', nodeId: 'n3' }]);
    c.stabilize();
    const first = readies.findIndex((r) => (r.hardState?.commit ?? 0) >= index);
    assert.ok(first >= 0, 'the change committed');
    assert.equal(readies[first]!.mustSync, true, 'the write of that commit index is synced');
    const told = (r: Ready) =>
      r.messages.some((m) => (m.type === 'append' || m.type === 'heartbeat') && m.commit >= index);
    assert.ok(!readies.slice(0, first + 1).some(told), 'told before its write was durable');
    assert.ok(readies.slice(first + 1).some(told), 'told once durable');
    assert.ok(!isMember(conf(c, 'n3'), 'n3'), 'n3 applied its removal');
  });

  it('a removed node is released only once every voter reported its removal committed', () => {
    const c = clusterWithLeader();
    // n2 misses the commit: n1 and n3 commit the removal of n3 between them.
    c.cut('n1', 'n2');
    change(c, 'n1', [{ type: 'removeNode', nodeId: 'n3' }]);
    assert.ok(!isMember(conf(c, 'n3'), 'n3'), 'n3 applied its removal');
    assert.equal(c.node('n3').released(), false, 'n2 may still need n3 to elect a leader');

    c.heal();
    c.tick(3, ['n1']);
    assert.ok(!isMember(conf(c, 'n2'), 'n3'), 'n2 applied the removal');
    assert.equal(c.node('n3').released(), true);
    const release = c.sent.find((m) => m.type === 'heartbeat' && m.to === 'n3' && m.release === true);
    assert.ok(release !== undefined && release.type === 'heartbeat');
  });

  it('a removed leader takes no proposals and stays leader until it hands over', () => {
    const c = clusterWithLeader();
    c.dropIf = (m) => m.type === 'timeoutNow';
    change(c, 'n1', [{ type: 'removeNode', nodeId: 'n1' }]);
    const leader = c.node('n1');
    assert.ok(!isMember(leader.status().conf, 'n1'), 'n1 applied its own removal');
    assert.equal(leader.status().role, 'leader');
    assert.equal(
      raftCode(() => leader.propose(new TextEncoder().encode('x'))),
      'NOT_LEADER',
    );

    // Cut off from every voter, it does not step down (check-quorum): it may be the only node that knows its
    // removal committed, and it serves no client.
    c.isolate('n2');
    c.isolate('n3');
    c.tick(50, ['n1']);
    assert.equal(leader.status().role, 'leader');
  });
});
