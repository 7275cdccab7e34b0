import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RaftError } from '../errors.js';
import { MemoryStorage } from '../memory/memory-storage.js';
import { createMemoryNetwork } from '../memory/memory-transport.js';
import type { Message } from '../message.js';
import { SnapshotData } from '../snapshot-data.js';
import {
  cmd,
  MemoryLogger,
  RecordingMachine,
  TestCluster,
  WAIT_MS,
  within,
} from '../test-support/cluster-harness.js';
import type { StorageUpdate } from './log-storage.js';
import { createNode, type RaftNode } from './node.js';

/** Asserts that `promise` rejects with a RaftError of `code` and returns it. */
async function rejectsWith(promise: Promise<unknown>, code: string): Promise<RaftError> {
  const error = await within(
    promise.then(
      () => assert.fail(`expected a ${code} rejection, got a result`),
      (e: unknown) => e,
    ),
    WAIT_MS,
    `a ${code} rejection`,
  );
  assert.ok(error instanceof RaftError, `expected a RaftError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  return error;
}

/** Resolves once `node` sees `leader` as the leader. */
function leaderIs(node: RaftNode<string>, leader: string): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      if (node.status().leader === leader) return resolve();
      const off = node.onLeaderChange((now) => {
        if (now !== leader) return;
        off();
        resolve();
      });
    }),
    WAIT_MS,
    `${leader} to lead`,
  );
}

/** Runs `body` with a started cluster and always closes it. */
async function withCluster(
  body: (cluster: TestCluster) => Promise<void>,
  options?: ConstructorParameters<typeof TestCluster>[0],
): Promise<void> {
  const cluster = new TestCluster(options);
  try {
    await cluster.start();
    await body(cluster);
  } finally {
    await within(cluster.close(), WAIT_MS, 'the cluster to close');
  }
}

describe('createNode: a 3-node in-memory cluster', () => {
  test('elects exactly one leader that every node knows', () =>
    withCluster(async (cluster) => {
      const leader = await cluster.waitForLeader();
      const leaders = [...cluster.nodes.values()].filter((n) => n.status().role === 'leader');
      assert.deepEqual(
        leaders.map((n) => n.id),
        [leader],
      );
      for (const node of cluster.nodes.values()) assert.equal(node.status().leader, leader);
    }));

  test('a proposal resolves with the state machine result, and all nodes apply the same sequence', () =>
    withCluster(async (cluster) => {
      const leader = await cluster.waitForLeader();
      const node = cluster.node(leader);
      const results = await within(
        Promise.all(['a', 'b', 'c', 'd', 'e'].map((c) => node.propose(cmd(c), { timeoutMs: WAIT_MS }))),
        WAIT_MS,
        'five proposals',
      );
      // Each result is "<index>:<command>" as computed by the leader's state machine for exactly that entry.
      assert.deepEqual(
        results.map((r) => r.split(':')[1]),
        ['a', 'b', 'c', 'd', 'e'],
      );
      const indexes = results.map((r) => Number(r.split(':')[0]));
      assert.deepEqual(
        indexes,
        indexes.map((_, i) => indexes[0]! + i),
      );
      await within(
        Promise.all([...cluster.machines.values()].map((m) => m.whenApplied(5))),
        WAIT_MS,
        'every node to apply five commands',
      );
      for (const machine of cluster.machines.values())
        assert.deepEqual(machine.commands, ['a', 'b', 'c', 'd', 'e']);
    }));

  test('propose on a follower rejects at once with NOT_LEADER naming the leader', () =>
    withCluster(async (cluster) => {
      const leader = await cluster.waitForLeader();
      const follower = [...cluster.nodes.keys()].find((id) => id !== leader)!;
      const error = await rejectsWith(cluster.node(follower).propose(cmd('x')), 'NOT_LEADER');
      assert.equal(error.leader, leader);
      assert.equal(error.retryable, true);
    }));

  test('read() after a write sees the write on every node, followers included', () =>
    withCluster(async (cluster) => {
      const { leader } = await cluster.proposeAtLeader('x=1');
      for (const [id, node] of cluster.nodes) {
        await within(node.read({ timeoutMs: WAIT_MS }), WAIT_MS, `read on ${id}`);
        assert.ok(
          cluster.machine(id).commands.includes('x=1'),
          `${id} (leader ${leader}) must see x=1 after read()`,
        );
      }
    }));

  test('a proposal that cannot commit rejects with TIMEOUT, and an aborted one with ABORTED', () =>
    withCluster(async (cluster) => {
      const leader = await cluster.waitForLeader();
      const node = cluster.node(leader);
      cluster.network.isolate(leader);
      const timedOut = await rejectsWith(node.propose(cmd('lost'), { timeoutMs: 30 }), 'TIMEOUT');
      assert.match(timedOut.message, /may or may not have been applied/);

      const controller = new AbortController();
      const aborted = node.propose(cmd('cancelled'), { signal: controller.signal });
      controller.abort();
      const abortError = await rejectsWith(aborted, 'ABORTED');
      assert.match(abortError.message, /may or may not have been applied/);

      await rejectsWith(node.propose(cmd('never'), { signal: AbortSignal.abort() }), 'ABORTED');
      await rejectsWith(node.read({ timeoutMs: 30 }), 'TIMEOUT');
      await rejectsWith(node.propose(cmd('bad'), { timeoutMs: -1 }), 'INVALID_ARGUMENT');
    }));

  test('leader isolation: a new leader is elected, proposals continue, the old leader catches up', () =>
    withCluster(async (cluster) => {
      const { leader: old } = await cluster.proposeAtLeader('before');
      cluster.network.isolate(old);
      const rest = [...cluster.nodes.keys()].filter((id) => id !== old);
      const fresh = await cluster.waitForNewLeader(old, rest);
      assert.notEqual(fresh, old);
      const { result } = await cluster.proposeAtLeader('after', rest);
      assert.match(result, /:after$/);

      cluster.network.heal();
      const healed = await cluster.waitForLeader();
      // The old leader's log lacks "after", so it cannot win again (Raft §5.4.1).
      assert.notEqual(healed, old);
      await within(
        Promise.all([...cluster.machines.values()].map((m) => m.whenApplied(2))),
        WAIT_MS,
        'every node, the old leader included, to apply both commands',
      );
      for (const machine of cluster.machines.values())
        assert.deepEqual(machine.commands, ['before', 'after']);
    }));

  test('a proposal on a deposed leader rejects with PROPOSAL_DROPPED once the new leader overwrites it', () =>
    withCluster(async (cluster) => {
      const { leader: old } = await cluster.proposeAtLeader('first');
      cluster.network.isolate(old);
      // The isolated leader still accepts the proposal, but can never commit it.
      const doomed = cluster.node(old).propose(cmd('doomed'));
      const rest = [...cluster.nodes.keys()].filter((id) => id !== old);
      await cluster.waitForNewLeader(old, rest);
      await cluster.proposeAtLeader('winner', rest);
      cluster.network.heal();
      const error = await rejectsWith(doomed, 'PROPOSAL_DROPPED');
      assert.equal(error.retryable, true);
      await within(cluster.machine(old).whenApplied(2), WAIT_MS, 'the old leader to catch up');
      assert.deepEqual(cluster.machine(old).commands, ['first', 'winner']);
    }));

  test('a follower that fell behind the compacted log catches up from a snapshot', () =>
    withCluster(
      async (cluster) => {
        const { leader } = await cluster.proposeAtLeader('c0');
        const lagging = [...cluster.nodes.keys()].find((id) => id !== leader)!;
        await within(cluster.machine(lagging).whenApplied(1), WAIT_MS, 'the follower to apply c0');
        cluster.network.isolate(lagging);
        const rest = [...cluster.nodes.keys()].filter((id) => id !== lagging);
        const expected = ['c0'];
        for (let i = 1; i <= 12; i++) {
          await cluster.proposeAtLeader(`c${i}`, rest);
          expected.push(`c${i}`);
        }
        const leaderNow = await cluster.waitForLeader(rest);
        assert.ok(cluster.storages.get(leaderNow)!.firstIndex() > 3, 'the leader compacted its log');
        cluster.network.heal();
        await within(cluster.machine(lagging).whenApplied(13), WAIT_MS, 'the lagging follower to catch up');
        assert.deepEqual(cluster.machine(lagging).commands, expected);
        assert.equal(cluster.machine(lagging).restores, 1, 'the follower was restored from a snapshot');
        await within(cluster.node(lagging).read(), WAIT_MS, 'a read on the caught-up follower');
      },
      { node: { snapshotIntervalEntries: 4 } },
    ));

  test('snapshotIntervalBytes triggers snapshots by applied bytes when the entry interval is off', () =>
    withCluster(
      async (cluster) => {
        const big = 'x'.repeat(100);
        const { leader } = await cluster.proposeAtLeader(`b0-${big}`);
        const storage = cluster.storages.get(leader)!;
        assert.equal(storage.firstIndex(), 1, 'nothing compacted below the byte threshold');
        for (let i = 1; i <= 4; i++) await cluster.proposeAtLeader(`b${i}-${big}`);
        const now = await cluster.waitForLeader();
        assert.ok(cluster.storages.get(now)!.firstIndex() > 2, 'about 300 applied bytes compacted the log');
      },
      { node: { snapshotIntervalEntries: 0, snapshotIntervalBytes: 250 } },
    ));

  test('proposals made together are batched into one Ready (one log write) by default', () =>
    withCluster(async (cluster) => {
      const leader = await cluster.waitForLeader();
      const storage = cluster.storages.get(leader)!;
      const node = cluster.node(leader);
      const writesBefore = storage.saves;
      await within(
        Promise.all(Array.from({ length: 20 }, (_, i) => node.propose(cmd(`b${i}`), { timeoutMs: WAIT_MS }))),
        WAIT_MS,
        '20 batched proposals',
      );
      assert.ok(storage.saves - writesBefore < 10, `${storage.saves - writesBefore} writes for 20 proposals`);
    }));

  test('with proposalBatching off every proposal gets its own Ready (its own log write)', () =>
    withCluster(
      async (cluster) => {
        const leader = await cluster.waitForLeader();
        const storage = cluster.storages.get(leader)!;
        const node = cluster.node(leader);
        const writesBefore = storage.saves;
        const results = await within(
          Promise.all(
            Array.from({ length: 20 }, (_, i) => node.propose(cmd(`u${i}`), { timeoutMs: WAIT_MS })),
          ),
          WAIT_MS,
          '20 unbatched proposals',
        );
        assert.deepEqual(
          results.map((r) => r.split(':')[1]),
          Array.from({ length: 20 }, (_, i) => `u${i}`),
          'applied in the order proposed',
        );
        assert.ok(
          storage.saves - writesBefore >= 20,
          `${storage.saves - writesBefore} writes for 20 proposals`,
        );
      },
      { node: { proposalBatching: false } },
    ));

  test('with asyncWrites every node applies the same proposals in order, and the writes overlap', () =>
    withCluster(
      async (cluster) => {
        const leader = await cluster.waitForLeader();
        const storage = cluster.storages.get(leader)!;
        const node = cluster.node(leader);
        let inFlight = 0;
        let overlapped = false;
        const save = storage.save.bind(storage);
        storage.save = async (update) => {
          inFlight++;
          if (inFlight > 1) overlapped = true;
          try {
            // A slow disk, so that the next Ready is taken while this write is in flight.
            await new Promise((resolve) => setTimeout(resolve, 5));
            await save(update);
          } finally {
            inFlight--;
          }
        };
        const results = await within(
          Promise.all(
            Array.from({ length: 60 }, (_, i) => node.propose(cmd(`p${i}`), { timeoutMs: WAIT_MS })),
          ),
          WAIT_MS,
          '60 proposals with pipelined writes',
        );
        assert.deepEqual(
          results.map((r) => r.split(':')[1]),
          Array.from({ length: 60 }, (_, i) => `p${i}`),
        );
        assert.ok(overlapped, 'no two writes of the leader were ever in flight together');
        for (const id of cluster.nodes.keys()) {
          await within(cluster.machine(id).whenApplied(60), WAIT_MS, `${id} to apply`);
          assert.deepEqual(
            cluster.machine(id).commands.slice(-60),
            cluster.machine(leader).commands.slice(-60),
          );
        }
      },
      { node: { asyncWrites: true } },
    ));

  test('transferLeadership moves the leader to the named node', () =>
    withCluster(async (cluster) => {
      const { leader } = await cluster.proposeAtLeader('warm-up');
      const target = [...cluster.nodes.keys()].find((id) => id !== leader)!;
      // Wait until the target has the whole log, so the transfer is not delayed by catching up.
      await within(cluster.machine(target).whenApplied(1), WAIT_MS, 'the target to catch up');
      const moved = new Promise<void>((resolve) => {
        const off = cluster.node(target).onLeaderChange((now) => {
          if (now === target) {
            off();
            resolve();
          }
        });
      });
      cluster.node(leader).transferLeadership(target);
      await within(moved, WAIT_MS, `leadership to move to ${target}`);
      assert.equal(await cluster.waitForLeader(), target);
      const { result, leader: now } = await cluster.proposeAtLeader('after-transfer');
      assert.equal(now, target);
      assert.match(result, /:after-transfer$/);
    }));

  test('a node whose storage fails crash-stops; the other two keep committing', () =>
    withCluster(async (cluster) => {
      const { leader } = await cluster.proposeAtLeader('ok');
      cluster.storages.get(leader)!.failSaves = true;
      const node = cluster.node(leader);
      const pendingRead = node.read({ timeoutMs: WAIT_MS });
      const error = await rejectsWith(node.propose(cmd('doomed'), { timeoutMs: WAIT_MS }), 'STORAGE_FAILED');
      assert.equal(error.retryable, false);
      await rejectsWith(pendingRead, 'STORAGE_FAILED');

      const status = node.status();
      assert.equal(status.stopped, true);
      assert.equal(status.error?.code, 'STORAGE_FAILED');
      assert.equal((await node.whenStopped())?.code, 'STORAGE_FAILED', 'whenStopped reports the crash');
      assert.ok(cluster.loggers.get(leader)!.lines.some((l) => l.level === 'error'));
      await rejectsWith(node.propose(cmd('later')), 'STORAGE_FAILED');
      const savesAtCrash = cluster.storages.get(leader)!.saves;

      const rest = [...cluster.nodes.keys()].filter((id) => id !== leader);
      await cluster.waitForNewLeader(leader, rest);
      const { result } = await cluster.proposeAtLeader('still-going', rest);
      assert.match(result, /:still-going$/);
      for (const id of rest) {
        await within(cluster.node(id).read({ timeoutMs: WAIT_MS }), WAIT_MS, `read on ${id}`);
        assert.ok(cluster.machine(id).commands.includes('still-going'));
      }
      // The crashed node neither persisted nor applied anything more.
      assert.equal(cluster.storages.get(leader)!.saves, savesAtCrash);
      assert.ok(!cluster.machine(leader).commands.includes('still-going'));
    }));

  test('a state machine that throws crash-stops the node with STOPPED', () =>
    withCluster(async (cluster) => {
      const leader = await cluster.waitForLeader();
      cluster.machine(leader).failWith = new Error('boom');
      const error = await rejectsWith(
        cluster.node(leader).propose(cmd('x'), { timeoutMs: WAIT_MS }),
        'STOPPED',
      );
      assert.equal((error.cause as Error | undefined)?.message, 'boom');
      assert.equal(cluster.node(leader).status().error?.code, 'STOPPED');
    }));

  test('close() rejects everything pending with STOPPED, is idempotent, and later calls fail', () =>
    withCluster(async (cluster) => {
      const leader = await cluster.waitForLeader();
      const node = cluster.node(leader);
      cluster.network.isolate(leader);
      const pendingProposal = node.propose(cmd('pending'));
      const pendingRead = node.read();
      const first = node.close();
      const second = node.close();
      assert.equal(first, second);
      await rejectsWith(pendingProposal, 'STOPPED');
      await rejectsWith(pendingRead, 'STOPPED');
      await within(Promise.all([first, second, node.close()]), WAIT_MS, 'close');
      assert.equal(node.status().stopped, true);
      assert.equal(node.status().error, null);
      await rejectsWith(node.propose(cmd('late')), 'STOPPED');
      await rejectsWith(node.read(), 'STOPPED');
      await rejectsWith(node.start(), 'STOPPED');
      assert.throws(
        () => node.transferLeadership('n1'),
        (e: unknown) => (e as RaftError).code === 'STOPPED',
      );
    }));
});

describe('createNode: single nodes and hostile input', () => {
  test('a one-node cluster elects itself and commits alone', async () => {
    const cluster = new TestCluster({ ids: ['solo'] });
    try {
      await cluster.start();
      await cluster.waitForLeader();
      const node = cluster.node('solo');
      assert.match(await within(node.propose(cmd('alone')), WAIT_MS, 'a proposal'), /:alone$/);
      await within(node.read(), WAIT_MS, 'a read');
      await within(node.read({ lease: true }), WAIT_MS, 'a lease read');
      assert.deepEqual(node.status().conf.voters, ['solo']);
      const full = node.status();
      assert.deepEqual(node.basicStatus(), {
        id: full.id,
        role: full.role,
        leader: full.leader,
        term: full.hardState.term,
        commit: full.hardState.commit,
      });
      const stopped = node.whenStopped();
      await cluster.close();
      assert.equal(await within(stopped, WAIT_MS, 'whenStopped after close'), null);
    } finally {
      await cluster.close();
    }
  });

  test('a malformed inbound message is logged and dropped; the node keeps working', async () => {
    const network = createMemoryNetwork();
    const logger = new MemoryLogger();
    const machine = new RecordingMachine();
    const node = createNode<string>({
      id: 'a',
      storage: new MemoryStorage({ conf: { voters: ['a'], learners: [] } }),
      transport: network.transport('a'),
      stateMachine: machine,
      tickIntervalMs: 5,
      logger,
    });
    const rogue = network.transport('rogue');
    try {
      await node.start();
      await rogue.start({ onMessage: () => {}, onUnreachable: () => {} });
      await leaderIs(node, 'a');
      const bad = { type: 'append', from: 'rogue', to: 'a', term: 1, prevLogIndex: -5 } as unknown as Message;
      const logged = logger.next((line) => line.level === 'warn' && /malformed/.test(line.message));
      rogue.send(bad);
      await within(logged, WAIT_MS, 'the malformed message to be logged');
      assert.equal(node.status().stopped, false);
      assert.match(
        await within(node.propose(cmd('fine'), { timeoutMs: WAIT_MS }), WAIT_MS + 1000, 'propose'),
        /:fine$/,
      );
    } finally {
      await node.close();
      await rogue.close();
    }
  });

  test('close() waits for the save in progress before closing storage', async () => {
    const events: string[] = [];
    let releaseSave: () => void = () => {};
    let markStarted: () => void = () => {};
    const saveStarted = new Promise<void>((resolve) => {
      markStarted = resolve;
    });
    class SlowStorage extends MemoryStorage {
      hold = false;
      override async save(update: StorageUpdate): Promise<void> {
        if (this.hold) {
          events.push('save started');
          markStarted();
          await new Promise<void>((resolve) => {
            releaseSave = resolve;
          });
          events.push('save finished');
        }
        return super.save(update);
      }
      override async close(): Promise<void> {
        events.push('storage closed');
        return super.close();
      }
    }
    const storage = new SlowStorage({ conf: { voters: ['a'], learners: [] } });
    const network = createMemoryNetwork();
    const node = createNode<string>({
      id: 'a',
      storage,
      transport: network.transport('a'),
      stateMachine: new RecordingMachine(),
      tickIntervalMs: 5,
    });
    await node.start();
    await leaderIs(node, 'a');
    storage.hold = true;
    const proposal = node.propose(cmd('x'));
    await within(saveStarted, WAIT_MS, 'the save to start');
    const closed = node.close();
    await rejectsWith(proposal, 'STOPPED');
    assert.deepEqual(events, ['save started'], 'storage stays open while the save is in flight');
    releaseSave();
    await within(closed, WAIT_MS, 'close');
    assert.deepEqual(events, ['save started', 'save finished', 'storage closed']);
  });

  test('createNode rejects out-of-range options with INVALID_CONFIG', () => {
    const network = createMemoryNetwork();
    const base = {
      id: 'a',
      storage: new MemoryStorage({ conf: { voters: ['a'], learners: [] } }),
      transport: network.transport('a'),
      stateMachine: new RecordingMachine(),
    };
    assert.throws(
      () => createNode({ ...base, tickIntervalMs: 0 }),
      (e: unknown) => (e as RaftError).code === 'INVALID_CONFIG',
    );
    assert.throws(
      () => createNode({ ...base, snapshotIntervalEntries: -1 }),
      (e: unknown) => (e as RaftError).code === 'INVALID_CONFIG',
    );
    assert.throws(
      () => createNode({ ...base, snapshotIntervalBytes: 1.5 }),
      (e: unknown) => (e as RaftError).code === 'INVALID_CONFIG',
    );
    assert.throws(
      () => createNode({ ...base, electionTicks: 1, heartbeatTicks: 1 }),
      (e: unknown) => (e as RaftError).code === 'INVALID_CONFIG',
    );
  });

  test('start() restores the state machine from a stored snapshot it is behind', async () => {
    const network = createMemoryNetwork();
    const machine = new RecordingMachine();
    const snapshotData = new TextEncoder().encode(JSON.stringify(['s1', 's2']));
    const storage = new MemoryStorage({
      snapshot: {
        meta: { index: 2, term: 1, conf: { voters: ['a'], learners: [] } },
        data: SnapshotData.of(snapshotData),
      },
      hardState: { term: 1, vote: 'a', commit: 2 },
    });
    const node = createNode<string>({
      id: 'a',
      storage,
      transport: network.transport('a'),
      stateMachine: machine,
      tickIntervalMs: 5,
    });
    try {
      await node.start();
      assert.deepEqual(machine.commands, ['s1', 's2']);
      await leaderIs(node, 'a');
      const result = await within(node.propose(cmd('s3')), WAIT_MS, 'a proposal after restore');
      assert.equal(result.split(':')[1], 's3');
      assert.ok(Number(result.split(':')[0]) > 2);
      assert.deepEqual(machine.commands, ['s1', 's2', 's3']);
    } finally {
      await node.close();
    }
  });
});
