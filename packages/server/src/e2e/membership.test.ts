// End-to-end membership changes with real `tsraft serve` processes on the streaming transport: a 3-node
// cluster grows to 5 under write load (one node joins and promotes itself, one is added as a learner and
// promoted with the CLI), then loses two of its original members, the leader among them. Nothing
// acknowledged is lost, and reads never go back in time.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { type ClusterMembership, KvError } from '@tsraft/kv-client';
import { GetRequestSchema } from '@tsraft/proto';
import { ProcessCluster, until, WAIT_MS } from '../test-support/process-cluster.js';

const text = new TextDecoder();
const bytes = (s: string) => new TextEncoder().encode(s);
const ORIGINAL = ['n1', 'n2', 'n3'] as const;
const CONFIG_ID = /^[0-9a-f]{16}$/;

/** A linearizable read of `key` through member `id` alone. */
async function readAt(cluster: ProcessCluster, id: string, key: string): Promise<string | undefined> {
  const answer = await cluster
    .stub(id)
    .get(create(GetRequestSchema, { key: bytes(key) }), { deadlineMs: Date.now() + 5_000 });
  return answer.found ? text.decode(answer.value) : undefined;
}

/** Member `id` in `m`, or undefined. */
function memberOf(m: ClusterMembership, id: string) {
  return m.members.find((member) => member.id === id);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('membership changes of a process cluster on the streaming transport', { timeout: 180_000 }, () => {
  let cluster: ProcessCluster;
  /** Every write the cluster acknowledged, by key. */
  const acknowledged = new Map<string, string>();
  /** The counter's highest acknowledged value; a read that starts after it must see at least it. */
  let counterAcked = 0;
  let counterRead = 0;
  let reads = 0;
  let stopLoad = false;
  let load: Promise<unknown> = Promise.resolve();
  const violations: string[] = [];

  before(async () => {
    cluster = await ProcessCluster.start({ transport: 'streaming', snapshotIntervalEntries: 100 });
    await cluster.addNode('n4', ORIGINAL);
    await cluster.addNode('n5', ORIGINAL, ['--learner']);
    const writers = cluster.client(cluster.ids, { timeoutMs: 15_000 });

    /** Unique keys, two writers. */
    const writer = async (w: number) => {
      for (let k = 0; !stopLoad; k++) {
        const key = `w${w}-${k}`;
        try {
          await writers.put(key, `${k}`);
          acknowledged.set(key, `${k}`);
        } catch (error) {
          if (!(error instanceof KvError)) throw error; // not acknowledged: not checked
        }
        await sleep(15);
      }
    };
    /** One key counting up, written in order: each acknowledged value is a lower bound for later reads. */
    const counter = async () => {
      for (let n = 1; !stopLoad; ) {
        try {
          await writers.put('counter', String(n));
          acknowledged.set('counter', String(n));
          counterAcked = n;
          n++;
        } catch (error) {
          if (!(error instanceof KvError)) throw error;
          // The value may or may not have been written; the next write supersedes it either way.
          n++;
        }
        await sleep(10);
      }
    };
    /** Linearizable reads of the counter on every running member in turn, one at a time. */
    const reader = async () => {
      for (let i = 0; !stopLoad; i++) {
        const running = cluster.running();
        const id = running[i % running.length]!;
        const floor = counterAcked;
        try {
          const value = Number((await readAt(cluster, id, 'counter')) ?? '0');
          reads++;
          if (value < floor) violations.push(`read ${value} at ${id} after ${floor} was acknowledged`);
          if (value < counterRead) violations.push(`read ${value} at ${id} after reading ${counterRead}`);
          counterRead = Math.max(counterRead, value);
        } catch (error) {
          if (!(error instanceof KvError)) throw error; // a member stopping or without a leader: no answer
        }
      }
    };
    load = Promise.all([writer(0), writer(1), counter(), reader()]);
    await until('the load to get going (past a few snapshots)', async () =>
      acknowledged.size >= 300 && reads >= 20 ? true : undefined,
    );
  });

  after(async () => {
    stopLoad = true;
    await load.catch(() => {});
    await cluster?.close();
  });

  test('a node started with --join is added as a learner, catches up by snapshot and promotes itself', async () => {
    const admin = cluster.clusterClient(ORIGINAL);
    cluster.startNode('n4');
    const m = await until(
      'n4 to become a voter',
      async () => {
        const list = await admin.list();
        return memberOf(list, 'n4')?.role === 'voter' ? list : undefined;
      },
      WAIT_MS,
    );
    assert.equal(memberOf(m, 'n4')?.address, cluster.endpoint('n4'));
    const log = cluster.log('n4');
    assert.match(log, /joined the cluster as a learner/);
    assert.match(log, /restoring the state machine from a snapshot sent by the leader/);
    assert.match(log, /promoted to voter/);
  });

  test('member add --learner, then a --learner node joins, then member promote (compare-and-set)', async () => {
    const address = cluster.endpoint('n5');
    const added = await cluster.cli(['member', 'add', 'n5', address, '--learner']);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, new RegExp(`^added n5 as a learner at ${address}; config [0-9a-f]{16}\\n$`));

    // The node finds itself a learner already (the join is idempotent) and stays one (--learner).
    cluster.startNode('n5');
    const admin = cluster.clusterClient(ORIGINAL);
    const caughtUp = await until('n5 to catch up as a learner', async () => {
      const list = await admin.list();
      const n5 = memberOf(list, 'n5');
      return n5?.role === 'learner' && n5.matchIndex !== undefined && list.commitIndex - n5.matchIndex < 50
        ? list
        : undefined;
    });
    assert.match(cluster.log('n5'), /joined the cluster as a learner/);

    const stale = await cluster.cli(['member', 'promote', 'n5', '--expect-config', '0123456789abcdef']);
    assert.equal(stale.code, 1);
    assert.equal(stale.stdout, '');
    assert.match(stale.stderr, /^tsraft: CONFIG_MISMATCH: /);

    const promoted = await cluster.cli(['member', 'promote', 'n5', '--expect-config', caughtUp.configId]);
    assert.equal(promoted.code, 0, promoted.stderr);
    assert.match(promoted.stdout, /^promoted n5 to voter; config [0-9a-f]{16}\n$/);

    const again = await cluster.cli(['member', 'promote', 'n5']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^tsraft: INVALID_ARGUMENT: n5 is already a voter\n$/);

    const list = await cluster.cli(['member', 'list']);
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^cluster tsraft, config [0-9a-f]{16}, leader n\d, term \d+, commit \d+$/);
    assert.match(lines[1]!, /^ID +ROLE +LEADER +ADDRESS +MATCH +LAG$/);
    assert.deepEqual(
      lines.slice(2).map((line) => line.split(/ +/).slice(0, 2)),
      ['n1', 'n2', 'n3', 'n4', 'n5'].map((id) => [id, 'voter']),
    );
    assert.equal(lines.slice(2).filter((line) => line.split(/ +/)[2] === 'yes').length, 1);
    const json = JSON.parse((await cluster.cli(['member', 'list', '--json'])).stdout) as ClusterMembership;
    assert.match(json.configId, CONFIG_ID);
    assert.deepEqual(
      json.members.map((m) => [m.id, m.role, m.address]),
      cluster.ids.map((id) => [id, 'voter', cluster.endpoint(id)]),
    );
  });

  test('two original members are removed, the leader among them; they exit with status 3', async () => {
    // Make sure an original member leads, so that removing it removes the leader.
    let leader = await cluster.waitForLeader();
    if (!(ORIGINAL as readonly string[]).includes(leader)) {
      const moved = await cluster.cli(['transfer-leader', 'n1']);
      assert.equal(moved.code, 0, moved.stderr);
      assert.match(moved.stdout, /^leader is now n1 \(term \d+\)\n$/);
      leader = 'n1';
    }
    const follower = ORIGINAL.find((id) => id !== leader)!;
    const kept = ORIGINAL.find((id) => id !== leader && id !== follower)!;

    const removed = await cluster.cli(['member', 'remove', follower]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, new RegExp(`^removed ${follower}; config [0-9a-f]{16}\\n$`));
    assert.deepEqual(await cluster.exited(follower), { code: 3, signal: null });
    assert.match(cluster.log(follower), /removed from the cluster/);

    const twice = await cluster.cli(['member', 'remove', follower]);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, new RegExp(`^tsraft: INVALID_ARGUMENT: ${follower} is not a member\\n$`));

    const before = acknowledged.size;
    const removedLeader = await cluster.cli(['member', 'remove', leader]);
    assert.equal(removedLeader.code, 0, removedLeader.stderr);
    assert.match(removedLeader.stdout, new RegExp(`^removed ${leader}; config [0-9a-f]{16}\\n$`));
    assert.deepEqual(await cluster.exited(leader), { code: 3, signal: null });

    const remaining = [kept, 'n4', 'n5'];
    const newLeader = await cluster.waitForLeader(remaining);
    assert.ok(remaining.includes(newLeader));
    await until('the load to carry on on the new configuration', async () =>
      acknowledged.size >= before + 100 ? true : undefined,
    );
    const list = await cluster.clusterClient(remaining).list();
    assert.deepEqual(
      list.members.map((m) => [m.id, m.role]),
      remaining.sort().map((id) => [id, 'voter']),
    );
  });

  test("member replace: a caught-up learner takes a voter's place in one joint change", async () => {
    const through = cluster.running();
    await cluster.addNode('n6', through, ['--learner']);
    cluster.startNode('n6');
    const admin = cluster.clusterClient(through);
    await until('n6 to catch up as a learner', async () => {
      const list = await admin.list();
      const n6 = memberOf(list, 'n6');
      return n6?.role === 'learner' && n6.matchIndex !== undefined && list.commitIndex - n6.matchIndex < 50
        ? true
        : undefined;
    });
    const replaced = await cluster.cli(['member', 'replace', 'n5', 'n6']);
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.match(replaced.stdout, /^replaced n5 by n6; config [0-9a-f]{16}\n$/);
    assert.deepEqual(await cluster.exited('n5'), { code: 3, signal: null });
    const remaining = cluster.running();
    const list = await cluster.clusterClient(remaining).list();
    assert.equal(list.joint, false);
    assert.deepEqual(
      list.members.map((m) => [m.id, m.role]),
      [...remaining].sort().map((id) => [id, 'voter']),
    );
    // It went through a joint configuration: n5 and n6 both voted in it.
    assert.match(cluster.log('n6'), /"votersOutgoing":\[[^\]]*"n5"/);
    const before = acknowledged.size;
    await until('the load to carry on after the replacement', async () =>
      acknowledged.size >= before + 50 ? true : undefined,
    );
  });

  test('nothing acknowledged is lost: every write reads back, linearizably, on every remaining member', async () => {
    stopLoad = true;
    await load;
    assert.deepEqual(violations, []);
    assert.ok(reads > 50, `only ${reads} counter reads succeeded`);
    const remaining = cluster.running();
    assert.equal(remaining.length, 3);
    await cluster.waitConverged(remaining);
    const keys = [...acknowledged.keys()];
    for (const id of remaining) {
      for (let i = 0; i < keys.length; i += 64) {
        await Promise.all(
          keys.slice(i, i + 64).map(async (key) => {
            assert.equal(await readAt(cluster, id, key), acknowledged.get(key), `${key} at ${id}`);
          }),
        );
      }
    }
  });

  test('a fresh node with the id of a voter, or of another cluster, is refused and exits 2', async () => {
    const remaining = cluster.running();
    const join = `--join=${remaining.map((id) => cluster.endpoint(id)).join(',')}`;
    const serve = (id: string, dir: string, extra: readonly string[] = []) =>
      cluster.cli(
        [
          'serve',
          `--id=${id}`,
          `--listen=127.0.0.1:${0}`,
          `--advertise=127.0.0.1:1`,
          join,
          `--data-dir=${cluster.scratchDir(dir)}`,
          '--log-level=warn',
          ...extra,
        ],
        null,
      );
    // As if n4 had lost its data directory and came back empty: it must not vote again as n4.
    const voter = await serve('n4', 'lost-n4');
    assert.equal(voter.code, 2, voter.stderr);
    assert.match(voter.stderr, /tsraft: --join: the cluster refused: n4 is already a voter of this cluster/);
    assert.match(voter.stderr, /Remove it first \("tsraft member remove n4"\)/);
    const other = await serve('n9', 'other-n9', ['--cluster-id=elsewhere']);
    assert.equal(other.code, 2, other.stderr);
    assert.match(
      other.stderr,
      /tsraft: --join: the cluster refused: this is cluster "tsraft"; n9 was started with --cluster-id "elsewhere"/,
    );
  });

  test('restarted members use the stored configuration, not their bootstrap or join flags', async () => {
    const remaining = cluster.running();
    const original = remaining.find((id) => (ORIGINAL as readonly string[]).includes(id))!;
    // Its --peers still name n1, n2 and n3; n4 restarts with --join: neither flag matters any more.
    const n4LogBefore = cluster.log('n4').length;
    for (const id of [original, 'n4']) {
      const exit = await cluster.stop(id, 'SIGTERM');
      assert.equal(exit.code, 0, cluster.logTail(id));
      cluster.startNode(id);
    }
    await cluster.waitForLeader(remaining);
    await cluster.client(remaining).put('after-restart', 'yes');
    await cluster.waitConverged(remaining);
    const list = await cluster.cli(['member', 'list', '--json'], remaining);
    const m = JSON.parse(list.stdout) as ClusterMembership;
    assert.deepEqual(
      m.members.map((member) => [member.id, member.role]),
      [...remaining].sort().map((id) => [id, 'voter']),
    );
    assert.doesNotMatch(cluster.log('n4').slice(n4LogBefore), /asking the cluster/);
    for (const id of remaining) assert.equal(await readAt(cluster, id, 'after-restart'), 'yes');
  });
});
