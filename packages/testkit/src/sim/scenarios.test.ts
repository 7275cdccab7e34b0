// Scenario tests in the spirit of the MIT 6.824 Raft lab and the Raft paper, scripted over the simulator.
// Every safety property is checked after every step throughout; these tests add the liveness and
// agreement claims of each scenario. Default cluster: election timeout 10 ticks of 10 ms (E = 100 ms).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type NodeId, type RaftConfig, RawNode } from '@tsraft/core';
import { createRawNodeWithFaults } from '@tsraft/core/testing';
import { ClientPool } from './client-pool.js';
import { FaultInjector, type FaultProfile } from './fault-injector.js';
import { decodeRegisterCommand, encodeRegisterCommand } from './register-state-machine.js';
import { createRegisterWorkload } from './register-workload.js';
import { Simulation } from './simulation.js';
import type { SimulationOptions } from './simulation-options.js';
import { InvariantViolation } from './violation.js';

/** One election timeout of the default configuration, in ms. */
const E = 100;
const SEEDS = [1, 2, 3, 4, 5];

function command(value: string, key = 'x'): Uint8Array {
  return encodeRegisterCommand({ op: 'write', key, value });
}

function valueAt(sim: Simulation, index: number): string | null {
  const entry = sim.committedEntry(index);
  if (entry?.data === null || entry === undefined) return null;
  const c = decodeRegisterCommand(entry.data);
  return c?.value ?? null;
}

/** Runs until a leader is elected (within `maxMs`) and returns it. */
function electLeader(sim: Simulation, maxMs = 20 * E): NodeId {
  assert.ok(
    sim.runUntil(() => sim.leader() !== null, maxMs),
    `no leader within ${maxMs} ms: ${JSON.stringify(sim.statuses())}`,
  );
  return sim.leader()!;
}

/**
 * Like the lab's `one()`: proposes `value` at whoever leads until it is committed and applied on at least
 * `expected` nodes; retries after a leader change. Returns the entry's index.
 */
function one(sim: Simulation, value: string, expected: number, maxMs = 30 * E): number {
  const deadline = sim.now + maxMs;
  while (sim.now < deadline) {
    const leader = sim.leader();
    if (leader === null) {
      sim.runFor(10);
      continue;
    }
    const handle = sim.propose(leader, command(value));
    const index = handle.index;
    if (index === null) {
      sim.runFor(10);
      continue;
    }
    sim.runUntil(
      () =>
        handle.outcome?.status === 'failed' ||
        (valueAt(sim, index) !== null && valueAt(sim, index) !== value) ||
        (valueAt(sim, index) === value && sim.appliedCount(index) >= expected),
      Math.min(3 * E, Math.max(1, deadline - sim.now)),
    );
    if (valueAt(sim, index) === value && sim.appliedCount(index) >= expected) return index;
  }
  assert.fail(
    `one(${value}) did not reach ${expected} nodes within ${maxMs} ms: ${JSON.stringify(sim.statuses())}`,
  );
}

function others(sim: Simulation, ...ids: NodeId[]): NodeId[] {
  return sim.nodeIds.filter((id) => !ids.includes(id));
}

/** Calls `campaign` on `id` until it leads (at most `attempts` times); returns whether it does. */
function campaignUntilLeader(sim: Simulation, id: NodeId, attempts = 3): boolean {
  for (let i = 0; i < attempts; i++) {
    sim.campaign(id);
    if (sim.runUntil(() => sim.status(id).role === 'leader', 50)) return true;
  }
  return false;
}

describe('initial election', () => {
  for (const seed of SEEDS) {
    it(`elects one leader that every node follows, and keeps it on a quiet network (seed ${seed})`, () => {
      const sim = new Simulation({ seed, nodes: 3 });
      const leader = electLeader(sim, 10 * E);
      sim.runFor(2 * E);
      const term = sim.status(leader).term;
      for (const s of sim.statuses()) {
        assert.equal(s.term, term, `${s.id} is in term ${s.term}`);
        assert.equal(s.leader, leader, `${s.id} follows ${s.leader}`);
      }
      sim.runFor(30 * E);
      assert.equal(sim.leader(), leader, 'no re-election without a failure');
      assert.equal(sim.status(leader).term, term, 'the term does not move without a failure');
    });
  }
});

describe('re-election', () => {
  for (const seed of SEEDS) {
    it(`elects a new leader when the leader is cut off, and the old one follows it on rejoining (seed ${seed})`, () => {
      const sim = new Simulation({ seed, nodes: 3 });
      const first = electLeader(sim);
      one(sim, 'a', 3);
      sim.isolate(first);
      assert.ok(
        sim.runUntil(() => {
          const l = sim.leader();
          return l !== null && l !== first;
        }, 10 * E),
        'the two connected nodes elect a leader',
      );
      const second = sim.leader()!;
      assert.ok(sim.status(second).term > sim.status(first).term || sim.status(first).role !== 'leader');
      sim.heal();
      assert.ok(
        sim.runUntil(
          () => sim.status(first).role === 'follower' && sim.status(first).leader === second,
          5 * E,
        ),
        'the old leader follows the new one',
      );
      one(sim, 'b', 3);
      // Cut the new leader off too: the other two elect again.
      sim.isolate(second);
      assert.ok(sim.runUntil(() => sim.leader() !== null && sim.leader() !== second, 10 * E));
      sim.heal();
      one(sim, 'c', 3);
    });
  }
});

describe('no leader without a quorum', () => {
  for (const seed of SEEDS) {
    it(`has no leader while a majority is cut off, and elects one once it heals (seed ${seed})`, () => {
      const sim = new Simulation({ seed, nodes: 3 });
      const leader = electLeader(sim);
      const [f] = others(sim, leader);
      sim.isolate(leader);
      sim.isolate(f!);
      // Check-quorum makes the old leader step down; nobody can win an election.
      sim.runFor(5 * E);
      assert.ok(
        sim.runUntil(() => sim.leaders().length > 0, 20 * E) === false,
        `a leader without a quorum: ${sim.leaders().join(', ')}`,
      );
      sim.heal();
      electLeader(sim, 10 * E);
      one(sim, 'after', 3);
    });
  }
});

describe('agreement despite a failed follower', () => {
  for (const seed of SEEDS) {
    it(`commits with one of three followers down, and the follower catches up after restarting (seed ${seed})`, () => {
      const sim = new Simulation({ seed, nodes: 3 });
      const leader = electLeader(sim);
      one(sim, '101', 3);
      const [down] = others(sim, leader);
      sim.crash(down!);
      one(sim, '102', 2);
      one(sim, '103', 2);
      sim.runFor(5 * E);
      one(sim, '104', 2);
      sim.restart(down!);
      const index = one(sim, '105', 3);
      assert.ok(sim.status(down!).applied >= index);
      // The same with the follower only cut off, not crashed.
      const l2 = electLeader(sim);
      const [cutOff] = others(sim, l2);
      sim.isolate(cutOff!);
      one(sim, '106', 2);
      sim.heal();
      one(sim, '107', 3);
    });
  }
});

describe('no agreement without a quorum', () => {
  for (const seed of SEEDS) {
    it(`commits nothing while three of five are down, and commits again after they restart (seed ${seed})`, () => {
      const sim = new Simulation({ seed, nodes: 5 });
      const leader = electLeader(sim);
      one(sim, '10', 5);
      const down = others(sim, leader).slice(0, 3);
      for (const id of down) sim.crash(id);
      const committedBefore = sim.committedIndex;
      const handle = sim.propose(leader, command('20'));
      assert.equal(handle.index, committedBefore + 1, 'the leader still accepts the proposal');
      sim.runFor(10 * E);
      assert.equal(sim.committedIndex, committedBefore, 'nothing commits without a majority');
      assert.equal(sim.appliedCount(handle.index!), 0);
      for (const id of down) sim.restart(id);
      one(sim, '30', 5);
    });
  }
});

describe('concurrent proposals', () => {
  for (const seed of SEEDS) {
    it(`commits every proposal made at once, in one order everywhere (seed ${seed})`, () => {
      const sim = new Simulation({ seed, nodes: 3 });
      const leader = electLeader(sim);
      one(sim, 'warm-up', 3);
      const handles = Array.from({ length: 10 }, (_, i) => sim.propose(leader, command(`c${i}`)));
      assert.ok(
        sim.runUntil(() => handles.every((h) => h.outcome !== null), 10 * E),
        'every proposal is answered',
      );
      const indexes = new Set<number>();
      for (const [i, h] of handles.entries()) {
        assert.equal(h.outcome?.status, 'ok', `proposal ${i}: ${JSON.stringify(h.outcome)}`);
        indexes.add(h.index!);
        assert.equal(valueAt(sim, h.index!), `c${i}`);
      }
      assert.equal(indexes.size, handles.length, 'each at its own index');
      const last = Math.max(...indexes);
      assert.ok(
        sim.runUntil(() => sim.appliedCount(last) === 3, 5 * E),
        'every node applies all of them',
      );
    });

    it(`keeps concurrent clients' reads, writes and compare-and-sets linearizable (seed ${seed})`, () => {
      const workload = createRegisterWorkload({ keys: 2 });
      const sim = new Simulation({ seed, nodes: 5, workload });
      const clients = new ClientPool(sim, workload, { count: 5, requestTimeoutMs: 10 * E });
      clients.start();
      sim.runFor(50 * E);
      clients.stop();
      assert.ok(sim.runUntil(() => clients.pending === 0, 20 * E));
      const ok = clients.history.filter((op) => op.status === 'ok').length;
      assert.ok(ok > 50, `only ${ok} operations completed`);
      const verdict = workload.check!(clients.history);
      assert.ok(verdict.ok, verdict.reason);
    });
  }
});

describe('rejoin of a partitioned leader', () => {
  for (const seed of SEEDS) {
    it(`discards the cut-off leader's uncommitted entries when it rejoins (seed ${seed})`, () => {
      const sim = new Simulation({ seed, nodes: 3 });
      one(sim, '101', 3);
      const leader1 = sim.leader()!;
      sim.isolate(leader1);
      // The cut-off leader accepts proposals it can never commit.
      const stale = ['102', '103', '104'].map((v) => sim.propose(leader1, command(v)));
      assert.ok(stale.every((h) => h.index !== null));
      one(sim, '103b', 2);
      const leader2 = sim.leader()!;
      assert.notEqual(leader2, leader1);
      // Now the new leader is cut off and the old one comes back with the third node.
      const [third] = others(sim, leader1, leader2);
      sim.partition([[leader1, third!], [leader2]]);
      one(sim, '104b', 2);
      sim.heal();
      one(sim, '105', 3);
      for (const h of stale) {
        assert.notEqual(h.outcome?.status, 'ok', 'a cut-off leader never commits');
        assert.ok(
          !['102', '103', '104'].includes(valueAt(sim, h.index!) ?? ''),
          'its entries were overwritten',
        );
      }
    });
  }
});

describe('fast back-off over long divergent logs', () => {
  for (const seed of SEEDS) {
    it(`brings back followers with 50 divergent entries in a few round trips per term (seed ${seed})`, () => {
      // Small messages so catching up takes many appends, as it would with large entries.
      const sim = new Simulation({ seed, nodes: 5, raft: { maxMessageBytes: 4096 } });
      one(sim, 'start', 5);
      const leader1 = sim.leader()!;
      const [follower1, a, b, c] = others(sim, leader1) as [NodeId, NodeId, NodeId, NodeId];
      // The old leader and one follower are cut off; the old leader takes 50 proposals it cannot commit.
      sim.partition([
        [leader1, follower1],
        [a, b, c],
      ]);
      for (let i = 0; i < 50; i++) sim.propose(leader1, command(`lost${i}`));
      sim.runFor(2 * E);
      // The other three elect a leader and commit 50 entries.
      for (let i = 0; i < 50; i++) one(sim, `kept${i}`, 3);
      const leader2 = sim.leader()!;
      const other = [a, b, c].find((id) => id !== leader2)!;
      // The new leader and one follower are cut off; the new leader takes 50 proposals it cannot commit.
      sim.partition([
        [leader2, other],
        [leader1, follower1, ...[a, b, c].filter((id) => id !== leader2 && id !== other)],
      ]);
      for (let i = 0; i < 50; i++) sim.propose(leader2, command(`lost2-${i}`));
      sim.runFor(2 * E);
      // The old leader's side (with one node holding the 50 committed entries) elects a leader and must
      // overwrite 50 divergent entries on two nodes.
      const rejectionsBefore = sim.stats.appendRejections;
      for (let i = 0; i < 50; i++) one(sim, `again${i}`, 3);
      const rejections = sim.stats.appendRejections - rejectionsBefore;
      assert.ok(
        rejections <= 20,
        `${rejections} rejected appends to overwrite 50 divergent entries on two nodes`,
      );
      sim.heal();
      const last = one(sim, 'end', 5);
      assert.ok(sim.runUntil(() => sim.appliedCount(last) === 5, 20 * E));
    });
  }
});

describe('restart of all nodes', () => {
  for (const seed of SEEDS) {
    it(`keeps every committed entry when every node crashes and restarts (seed ${seed})`, () => {
      const sim = new Simulation({ seed, nodes: 3 });
      const first = one(sim, '11', 3);
      for (const id of sim.nodeIds) sim.crash(id);
      for (const id of sim.nodeIds) sim.restart(id);
      one(sim, '12', 3);
      const leader = sim.leader()!;
      sim.crash(leader);
      sim.restart(leader);
      one(sim, '13', 3);
      // Crash everyone in turn while entries are in flight.
      const l = sim.leader()!;
      for (let i = 0; i < 5; i++) sim.propose(l, command(`inflight${i}`));
      sim.runFor(5);
      for (const id of sim.nodeIds) sim.crash(id);
      sim.runFor(E);
      for (const id of sim.nodeIds) sim.restart(id);
      const last = one(sim, '14', 3);
      assert.ok(sim.runUntil(() => sim.appliedCount(last) === 3, 10 * E));
      assert.equal(valueAt(sim, first), '11');
    });

    it(`rebuilds state machines from snapshots after a full restart (seed ${seed})`, () => {
      const sim = new Simulation({ seed, nodes: 3, snapshotEveryEntries: 5 });
      for (let i = 0; i < 23; i++) one(sim, `v${i}`, 3);
      for (const id of sim.nodeIds) assert.ok(sim.status(id).snapshotIndex > 0, `${id} took a snapshot`);
      for (const id of sim.nodeIds) sim.crash(id);
      for (const id of sim.nodeIds) sim.restart(id);
      const last = one(sim, 'after', 3);
      assert.ok(sim.runUntil(() => sim.appliedCount(last) === 3, 10 * E));
      for (const id of sim.nodeIds) {
        const sm = sim.stateMachine(id) as { get(key: string): string | null };
        assert.equal(sm.get('x'), 'after', `${id}'s state machine`);
      }
    });

    it(`brings a far-behind follower up to date with a snapshot (seed ${seed})`, () => {
      const sim = new Simulation({ seed, nodes: 3, snapshotEveryEntries: 5 });
      one(sim, 'first', 3);
      const laggard = others(sim, sim.leader()!)[0]!;
      sim.crash(laggard);
      for (let i = 0; i < 30; i++) one(sim, `w${i}`, 2);
      sim.restart(laggard);
      const last = one(sim, 'last', 3);
      assert.ok(sim.runUntil(() => sim.appliedCount(last) === 3, 10 * E));
      assert.ok(sim.stats.sent.snapshot > 0, 'the leader sent a snapshot');
    });
  }
});

/** The lab's Figure 8 test: leaders crash at random points, others restart; agreement must survive. */
function figure8Run(seed: number, unreliable: boolean): void {
  const options: SimulationOptions = unreliable
    ? {
        seed,
        nodes: 5,
        network: {
          lossRate: 0.1,
          duplicateRate: 0.05,
          reorderRate: 0.25,
          reorderDelayMs: 20 * E,
          maxDelayMs: 20,
        },
      }
    : { seed, nodes: 5 };
  const sim = new Simulation(options);
  const random = sim.random;
  let up = sim.nodeIds.length;
  for (let iter = 0; iter < (unreliable ? 300 : 150); iter++) {
    const leader = sim.leader();
    if (leader !== null) {
      sim.propose(leader, command(`f${iter}`));
      if (unreliable) sim.propose(leader, command(`g${iter}`));
    }
    sim.runFor(random.chance(0.1) ? random.int(0, 5 * E) : random.int(0, 13));
    if (leader !== null && sim.status(leader).up && random.chance(0.5)) {
      sim.crash(leader);
      up--;
    }
    if (up < 3) {
      const down = sim.nodeIds.filter((id) => !sim.status(id).up);
      sim.restart(random.pick(down));
      up++;
    }
  }
  for (const id of sim.nodeIds) if (!sim.status(id).up) sim.restart(id);
  sim.setNetwork({ lossRate: 0, duplicateRate: 0, reorderRate: 0, maxDelayMs: 5 });
  one(sim, 'final', 5, 100 * E);
}

describe('Figure 8', () => {
  for (const seed of SEEDS) {
    it(`keeps committed entries while leaders crash at random points (reliable network, seed ${seed})`, () => {
      figure8Run(seed, false);
    });
    it(`keeps committed entries while leaders crash at random points (unreliable network, seed ${seed})`, () => {
      figure8Run(seed, true);
    });
  }

  /**
   * The paper's Figure 8, step by step (5 nodes): (a) n1 leads and replicates entry e at index 3 to n2 only;
   * (b) n5 is elected without e and appends its own entry at 3, which reaches nobody; (c) n1 is elected again and
   * replicates e to a majority, which must not commit it, as it is of an earlier term; (d) n5 can be elected again
   * and overwrite e. Elections are started by hand (`campaign`); timers are too slow to interfere.
   */
  function paperFigure8(createRawNode?: (config: RaftConfig) => RawNode): Simulation {
    const sim = new Simulation({
      seed: 8,
      nodes: 5,
      raft: {
        electionTicks: 1000,
        preVote: false,
        checkQuorum: false,
        maxMessageBytes: 1,
        maxInflightMessages: 1,
      },
      ...(createRawNode === undefined ? {} : { createRawNode }),
    });
    // (a)
    assert.ok(campaignUntilLeader(sim, 'n1'));
    one(sim, 'a', 5);
    sim.partition([
      ['n1', 'n2'],
      ['n3', 'n4', 'n5'],
    ]);
    const e = sim.propose('n1', command('e'));
    assert.equal(e.index, 3);
    assert.ok(sim.runUntil(() => sim.status('n2').lastIndex >= 3, 5 * E));
    // (b)
    sim.crash('n1');
    sim.campaign('n5');
    assert.ok(
      sim.runUntil(() => sim.status('n5').role === 'leader', 5 * E),
      'n5 wins with n3 and n4',
    );
    sim.isolate('n5'); // its first append (index 3) reaches nobody
    sim.runFor(50);
    sim.crash('n5');
    // (c)
    sim.restart('n1');
    sim.heal();
    assert.ok(campaignUntilLeader(sim, 'n1'), 'n1 wins with n2, n3 and n4');
    assert.ok(sim.runUntil(() => sim.status('n1').commit >= 3, 10 * E));
    sim.isolate('n1'); // cut off before anything else reaches the others
    sim.runFor(50);
    // (d)
    sim.restart('n5');
    sim.isolate('n1');
    campaignUntilLeader(sim, 'n5', 3);
    sim.runFor(5 * E);
    return sim;
  }

  it('does not commit an entry of an earlier term by counting replicas (the paper, step by step)', () => {
    const sim = paperFigure8();
    assert.notEqual(sim.leader(), 'n5', 'n5 cannot win: a majority holds an entry of a newer term');
    sim.heal();
    for (const id of sim.nodeIds) if (!sim.status(id).up) sim.restart(id);
    // Timers are too slow to elect anyone, and n1 may lead a stale term: n2 (whose log matches n1's) campaigns.
    assert.ok(campaignUntilLeader(sim, 'n2', 3));
    one(sim, 'z', 5, 50 * E);
    assert.equal(valueAt(sim, 3), 'e', 'e was committed (by an entry of the current term) and survives');
  });

  it('catches a core that commits by counting replicas of an earlier term (the paper, step by step)', () => {
    assert.throws(
      () => paperFigure8((config) => createRawNodeWithFaults(config, { disableFigure8Rule: true })),
      (error: unknown) =>
        error instanceof InvariantViolation &&
        (error.invariant === 'leader-completeness' || error.invariant === 'state-machine-safety'),
    );
  });
});

describe('churn', () => {
  const churn: FaultProfile = {
    meanIntervalMs: E,
    weights: {
      partition: 3,
      isolate: 2,
      oneWay: 1,
      heal: 4,
      crash: 4,
      crashAll: 0.5,
      pause: 1,
      drift: 1,
      weather: 1,
      transfer: 1,
    },
    maxDowntimeMs: 5 * E,
    maxPauseMs: 3 * E,
    maxDrift: 0.3,
    leaderBias: 0.5,
    electionShockRate: 0.1,
    commitShockRate: 0.02,
    replaceCutsRate: 0.7,
    worstNetwork: { lossRate: 0.2, duplicateRate: 0.1, reorderRate: 0.2, reorderDelayMs: 5 * E },
  };
  for (const seed of SEEDS) {
    for (const unreliable of [false, true]) {
      it(`stays safe and linearizable with clients running through crashes and partitions (${unreliable ? 'unreliable' : 'reliable'} network, seed ${seed})`, () => {
        const workload = createRegisterWorkload({ keys: 3 });
        const sim = new Simulation({
          seed,
          nodes: 5,
          workload,
          snapshotEveryEntries: 10,
          ...(unreliable
            ? { network: { lossRate: 0.1, duplicateRate: 0.05, reorderRate: 0.1, reorderDelayMs: 3 * E } }
            : {}),
        });
        const clients = new ClientPool(sim, workload, { count: 4, requestTimeoutMs: 10 * E });
        const faults = new FaultInjector(sim, churn);
        clients.start();
        faults.start();
        sim.runFor(100 * E);
        faults.stop();
        clients.stop();
        sim.healAll();
        for (const id of sim.nodeIds) sim.setTickInterval(id, 10);
        one(sim, 'settled', 5, 30 * E);
        assert.ok(sim.runUntil(() => clients.pending === 0, 20 * E));
        assert.ok(sim.stats.crashes > 0, 'nodes crashed');
        const verdict = workload.check!(clients.history);
        assert.ok(verdict.ok, verdict.reason);
      });
    }
  }
});

describe('disruptive rejoiner held off by pre-vote', () => {
  for (const seed of SEEDS) {
    it(`a follower cut off for long does not raise its term or depose the leader on rejoining (seed ${seed})`, () => {
      const sim = new Simulation({ seed, nodes: 3, raft: { preVote: true } });
      const leader = electLeader(sim);
      one(sim, 'a', 3);
      const term = sim.status(leader).term;
      const [loner] = others(sim, leader);
      sim.isolate(loner!);
      sim.runFor(20 * E);
      assert.equal(sim.status(loner!).term, term, 'pre-vote fails, so the term stays');
      sim.heal();
      sim.runFor(10 * E);
      assert.equal(sim.leader(), leader);
      assert.equal(sim.status(leader).term, term, 'the leader was not disturbed');
      one(sim, 'b', 3);
    });

    it(`without pre-vote (and check-quorum) the same rejoiner raises the term and deposes the leader (seed ${seed})`, () => {
      const sim = new Simulation({ seed, nodes: 3, raft: { preVote: false, checkQuorum: false } });
      const leader = electLeader(sim);
      one(sim, 'a', 3);
      const term = sim.status(leader).term;
      const [loner] = others(sim, leader);
      sim.isolate(loner!);
      sim.runFor(20 * E);
      assert.ok(sim.status(loner!).term > term, 'each timeout starts an election in a new term');
      sim.heal();
      assert.ok(
        sim.runUntil(() => sim.status(leader).term > term, 10 * E),
        'the rejoiner forces a new term on the leader',
      );
      one(sim, 'b', 3);
    });
  }
});

describe('leader stepping down on check-quorum', () => {
  for (const seed of SEEDS) {
    it(`a leader cut off from a majority steps down within two election timeouts (seed ${seed})`, () => {
      const sim = new Simulation({ seed, nodes: 5, raft: { checkQuorum: true } });
      const leader = electLeader(sim);
      one(sim, 'a', 5);
      const term = sim.status(leader).term;
      sim.isolate(leader);
      assert.ok(
        sim.runUntil(() => sim.status(leader).role !== 'leader', 2 * E + 10),
        'it steps down',
      );
      assert.equal(sim.status(leader).term, term, 'stepping down does not change its term');
    });

    it(`without check-quorum the cut-off leader keeps believing it leads (seed ${seed})`, () => {
      const sim = new Simulation({ seed, nodes: 5, raft: { checkQuorum: false } });
      const leader = electLeader(sim);
      one(sim, 'a', 5);
      sim.isolate(leader);
      sim.runFor(10 * E);
      assert.equal(sim.status(leader).role, 'leader');
    });
  }
});

describe('one-way links and pauses', () => {
  for (const seed of SEEDS) {
    it(`recovers when the leader can send but not receive, and after a long pause (seed ${seed})`, () => {
      const sim = new Simulation({ seed, nodes: 3 });
      const leader = electLeader(sim);
      one(sim, 'a', 3);
      for (const id of others(sim, leader)) sim.cutOneWay(id, leader);
      // Its heartbeats still arrive, but it hears nothing: check-quorum deposes it and the others elect.
      assert.ok(sim.runUntil(() => sim.leader() !== null && sim.leader() !== leader, 20 * E));
      sim.heal();
      one(sim, 'b', 3);
      const l2 = sim.leader()!;
      sim.pauseFor(l2, 10 * E);
      assert.ok(sim.runUntil(() => sim.leader() !== null && sim.leader() !== l2, 10 * E));
      sim.runFor(10 * E);
      one(sim, 'c', 3);
    });
  }
});

describe('clock drift', () => {
  it('elects and replicates with nodes ticking at very different rates', () => {
    const sim = new Simulation({ seed: 3, nodes: 5, tickIntervalMs: [5, 8, 10, 13, 17] });
    electLeader(sim, 20 * E);
    for (let i = 0; i < 10; i++) one(sim, `d${i}`, 5);
  });
});

describe('a stock RawNode factory', () => {
  it('runs the same as the default', () => {
    const a = new Simulation({ seed: 4, nodes: 3 });
    const b = new Simulation({ seed: 4, nodes: 3, createRawNode: (config) => new RawNode(config) });
    one(a, 'x', 3);
    one(b, 'x', 3);
    assert.equal(a.trace.digest, b.trace.digest);
  });
});
