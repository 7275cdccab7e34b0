import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RaftError } from '../errors.js';
import { TestCluster, WAIT_MS, within } from '../test-support/cluster-harness.js';

const sorted = (ids: readonly string[]) => [...ids].sort();

describe('createNode: membership changes', () => {
  test('adds a voter to a running cluster: it catches up, counts, and snapshots record the membership', async () => {
    const cluster = new TestCluster({ node: { snapshotIntervalEntries: 5 } });
    try {
      await cluster.start();
      for (let i = 0; i < 8; i++) await cluster.proposeAtLeader(`before-${i}`);
      const n4 = cluster.addNode('n4');
      await n4.start();
      const leader = await cluster.waitForLeader(['n1', 'n2', 'n3']);
      const seen: string[][] = [];
      cluster.node(leader).onMembershipChange((conf) => seen.push(sorted(conf.voters)));
      const conf = await within(
        cluster.node(leader).changeMembership([{ type: 'addVoter', nodeId: 'n4', address: 'mem:n4' }], {
          timeoutMs: WAIT_MS,
        }),
        WAIT_MS,
        'the change to apply',
      );
      assert.deepEqual(sorted(conf.voters), ['n1', 'n2', 'n3', 'n4']);
      assert.deepEqual(seen, [['n1', 'n2', 'n3', 'n4']]);
      for (let i = 0; i < 8; i++) await cluster.proposeAtLeader(`after-${i}`);
      await within(cluster.machine('n4').whenApplied(16), WAIT_MS, 'n4 to catch up');
      assert.deepEqual(cluster.machine('n4').commands.slice(-8), cluster.machine(leader).commands.slice(-8));
      // The leader's latest snapshot was taken after the change: it records n4.
      const snapshot = cluster.storages.get(leader)!.snapshot();
      assert.ok(snapshot.meta.index > 0);
      assert.deepEqual(sorted(snapshot.meta.conf.voters), ['n1', 'n2', 'n3', 'n4']);
      assert.equal(snapshot.meta.conf.addresses?.n4, 'mem:n4');
    } finally {
      await within(cluster.close(), WAIT_MS, 'the cluster to close');
    }
  });

  test('removing the leader: the change resolves, leadership moves, and the old leader stops as REMOVED', async () => {
    const cluster = new TestCluster();
    try {
      await cluster.start();
      await cluster.proposeAtLeader('a');
      const leader = await cluster.waitForLeader();
      const others = ['n1', 'n2', 'n3'].filter((id) => id !== leader);
      const stopped = cluster.node(leader).whenStopped();
      const conf = await cluster.node(leader).changeMembership([{ type: 'removeNode', nodeId: leader }], {
        timeoutMs: WAIT_MS,
      });
      assert.deepEqual(sorted(conf.voters), others);
      const reason = await within(stopped, WAIT_MS, 'the removed leader to stop');
      assert.ok(reason instanceof RaftError);
      assert.equal(reason.code, 'REMOVED');
      const next = await cluster.waitForNewLeader(leader, others);
      assert.ok(others.includes(next));
      const { result } = await cluster.proposeAtLeader('b', others);
      assert.equal(result.split(':')[1], 'b');
      await assert.rejects(cluster.node(leader).propose(new Uint8Array([1])), (e: unknown) => {
        return e instanceof RaftError && e.code === 'REMOVED';
      });
    } finally {
      await within(cluster.close(), WAIT_MS, 'the cluster to close');
    }
  });

  test('refusals: a follower answers NOT_LEADER, a stale expected configuration CONFIG_MISMATCH', async () => {
    const cluster = new TestCluster();
    try {
      await cluster.start();
      const { leader } = await cluster.proposeAtLeader('settled');
      const follower = ['n1', 'n2', 'n3'].find((id) => id !== leader)!;
      await assert.rejects(
        cluster.node(follower).changeMembership([{ type: 'addLearner', nodeId: 'n9' }]),
        (e: unknown) => e instanceof RaftError && e.code === 'NOT_LEADER' && e.leader === leader,
      );
      await assert.rejects(
        cluster
          .node(leader)
          .changeMembership([{ type: 'addLearner', nodeId: 'n9' }], { expectedConfigId: 'stale' }),
        (e: unknown) => e instanceof RaftError && e.code === 'CONFIG_MISMATCH',
      );
    } finally {
      await within(cluster.close(), WAIT_MS, 'the cluster to close');
    }
  });
});
