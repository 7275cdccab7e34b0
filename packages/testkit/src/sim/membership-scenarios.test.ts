// Membership change scenarios (Raft thesis chapter 4), scripted over the simulator. Every safety property,
// configuration safety included, is checked after every step; these tests add what each scenario promises.
// Default cluster: election timeout 10 ticks of 10 ms (E = 100 ms), pre-vote and check-quorum on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ConfState, configId, isJoint, type MemberChange, type NodeId } from '@tsraft/core';
import { encodeRegisterCommand, type RegisterStateMachine } from './register-state-machine.js';
import { describeConf } from './safety-checker.js';
import { type RequestHandle, Simulation } from './simulation.js';

const E = 100;
const SEEDS = [1, 2, 3];

function sorted(ids: readonly NodeId[]): NodeId[] {
  return [...ids].sort();
}

function leaderOf(sim: Simulation, maxMs = 20 * E): NodeId {
  assert.ok(
    sim.runUntil(() => sim.leader() !== null, maxMs),
    `no leader within ${maxMs} ms`,
  );
  return sim.leader()!;
}

/** Writes `key = value` at whoever leads until the write is applied on `expected` nodes. Returns its index. */
function write(sim: Simulation, key: string, value: string, expected: number, maxMs = 30 * E): number {
  const deadline = sim.now + maxMs;
  while (sim.now < deadline) {
    const leader = sim.leader();
    if (leader === null) {
      sim.runFor(10);
      continue;
    }
    const handle = sim.propose(leader, encodeRegisterCommand({ op: 'write', key, value }));
    if (handle.index === null) {
      sim.runFor(10);
      continue;
    }
    const index = handle.index;
    sim.runUntil(
      () =>
        handle.outcome !== null && (handle.outcome.status !== 'ok' || sim.appliedCount(index) >= expected),
      Math.min(5 * E, Math.max(1, deadline - sim.now)),
    );
    if (handle.outcome?.status === 'ok' && sim.appliedCount(index) >= expected) return index;
  }
  assert.fail(`write ${key}=${value} did not reach ${expected} nodes within ${maxMs} ms: ${nodes(sim)}`);
}

/** Whether `key = value` can be committed within `ms` (at whoever leads, once). */
function canCommit(sim: Simulation, key: string, value: string, ms: number): boolean {
  const deadline = sim.now + ms;
  while (sim.now < deadline) {
    const leader = sim.leader();
    if (leader === null) {
      sim.runFor(10);
      continue;
    }
    const handle = sim.propose(leader, encodeRegisterCommand({ op: 'write', key, value }));
    if (handle.index === null) {
      sim.runFor(10);
      continue;
    }
    sim.runUntil(() => handle.outcome !== null, Math.max(1, deadline - sim.now));
    if (handle.outcome?.status === 'ok') return true;
  }
  return false;
}

function nodes(sim: Simulation): string {
  return sim
    .statuses()
    .map(
      (s) =>
        `${s.id} ${s.membership} ${s.up ? 'up' : 'down'} ${s.role} t${s.term} applied ${s.applied} ${describeConf(s.conf)}`,
    )
    .join('; ');
}

/**
 * Asks whoever leads for `changes` until one such change is applied on the leader that accepted it, then
 * waits for a joint configuration to be left. Returns the accepted handle.
 */
function changeMembership(sim: Simulation, changes: readonly MemberChange[], maxMs = 30 * E): RequestHandle {
  const deadline = sim.now + maxMs;
  while (sim.now < deadline) {
    const leader = sim.leader();
    if (leader === null) {
      sim.runFor(10);
      continue;
    }
    const handle = sim.proposeConfChange(leader, changes);
    if (handle.index === null) {
      const o = handle.outcome;
      assert.ok(
        o?.status === 'failed' && o.code !== 'INVALID_ARGUMENT' && o.code !== 'CONFIG_MISMATCH',
        `refused: ${JSON.stringify(o)}`,
      );
      sim.runFor(10);
      continue;
    }
    sim.runUntil(() => handle.outcome !== null, Math.max(1, deadline - sim.now));
    if (handle.outcome?.status !== 'ok') continue;
    assert.ok(
      sim.runUntil(() => {
        const l = sim.leader();
        return l !== null && !isJoint(sim.conf(l));
      }, 10 * E),
      `the joint configuration was not left: ${nodes(sim)}`,
    );
    return handle;
  }
  assert.fail(`membership change not applied within ${maxMs} ms: ${nodes(sim)}`);
}

/** Runs until every running member holds configuration `conf`; fails otherwise. */
function settle(sim: Simulation, conf: ConfState, maxMs = 10 * E): void {
  const id = configId(conf);
  const ok = sim.runUntil(
    () =>
      [...conf.voters, ...conf.learners].every((n) => {
        const s = sim.status(n);
        return s.up && configId(s.conf) === id;
      }),
    maxMs,
  );
  assert.ok(ok, `not every member has ${describeConf(conf)}: ${nodes(sim)}`);
}

function valueOn(sim: Simulation, id: NodeId, key: string): string | null {
  return (sim.stateMachine(id) as RegisterStateMachine).get(key);
}

describe('growing the cluster from 3 to 5 voters', () => {
  for (const seed of SEEDS) {
    it(`adds a learner, promotes it, adds a voter directly; the five then tolerate two failures (seed ${seed})`, () => {
      const sim = new Simulation({ seed, nodes: 3, spareNodes: 2 });
      leaderOf(sim);
      write(sim, 'a', 'before', 3);
      assert.equal(sim.status('n4').membership, 'spare');

      const learner = changeMembership(sim, [{ type: 'addLearner', nodeId: 'n4', address: 'sim://n4' }]);
      settle(sim, { voters: ['n1', 'n2', 'n3'], learners: ['n4'], addresses: { n4: 'sim://n4' } });
      assert.ok(
        sim.runUntil(() => sim.status('n4').applied >= learner.index!, 10 * E),
        'the learner catches up',
      );
      assert.equal(valueOn(sim, 'n4', 'a'), 'before', 'the learner replayed the log from the start');
      assert.notEqual(sim.status('n4').role, 'leader');

      changeMembership(sim, [{ type: 'addVoter', nodeId: 'n4' }]);
      changeMembership(sim, [{ type: 'addVoter', nodeId: 'n5' }]);
      const five = sim.conf(sim.leader()!);
      assert.deepEqual(sorted(five.voters), ['n1', 'n2', 'n3', 'n4', 'n5']);
      assert.deepEqual(five.learners, []);
      settle(sim, five);
      write(sim, 'b', 'five', 5);
      for (const id of sim.nodeIds)
        assert.equal(valueOn(sim, id, 'a'), 'before', `${id} has the first write`);

      // Quorum is now 3 of 5: two original members failing leaves the new ones and one old one, enough.
      const leader = sim.leader()!;
      const victims = ['n1', 'n2', 'n3'].filter((id) => id !== leader).slice(0, 2);
      for (const id of victims) sim.crash(id);
      write(sim, 'c', 'three-left', 3);
      assert.ok(['n4', 'n5'].every((id) => sim.status(id).applied >= sim.committedIndex - 1));
    });
  }
});

describe('shrinking the cluster from 5 to 3 voters', () => {
  for (const seed of SEEDS) {
    it(`removes two followers one at a time; they stop, and two of the three left form a quorum (seed ${seed})`, () => {
      const sim = new Simulation({ seed, nodes: 5 });
      const leader = leaderOf(sim);
      write(sim, 'a', 'five', 5);
      const gone = sim.nodeIds.filter((id) => id !== leader).slice(0, 2);
      for (const id of gone) changeMembership(sim, [{ type: 'removeNode', nodeId: id }]);
      const three = sim.conf(sim.leader()!);
      assert.deepEqual(
        sorted(three.voters),
        sim.nodeIds.filter((id) => !gone.includes(id)),
      );
      settle(sim, three);
      for (const id of gone) {
        assert.ok(
          sim.runUntil(() => sim.status(id).membership === 'removed' && !sim.status(id).up, 20 * E),
          `${id} applied its removal and stopped: ${nodes(sim)}`,
        );
      }
      // With 5 voters, 2 alive could not commit; with 3 they can.
      const rest = three.voters.filter((id) => id !== sim.leader());
      sim.crash(rest[0]!);
      write(sim, 'b', 'two-of-three', 2);
      for (const id of three.voters.filter((v) => v !== rest[0])) assert.equal(valueOn(sim, id, 'a'), 'five');
    });

    it(`removes two voters in one change through a joint configuration (seed ${seed})`, () => {
      const sim = new Simulation({ seed, nodes: 5 });
      const leader = leaderOf(sim);
      write(sim, 'a', 'five', 5);
      const gone = sim.nodeIds.filter((id) => id !== leader).slice(-2);
      const handle = changeMembership(
        sim,
        gone.map((nodeId) => ({ type: 'removeNode', nodeId })) as MemberChange[],
      );
      const configs = sim.checker.committedConfigs;
      const joint = configs.find((c) => c.index === handle.index)!;
      assert.ok(isJoint(joint.conf), `entry ${handle.index} is joint: ${describeConf(joint.conf)}`);
      const left = configs[configs.length - 1]!;
      assert.ok(
        left.index > handle.index! && !isJoint(left.conf),
        'a second entry leaves the joint configuration',
      );
      assert.deepEqual(
        sorted(left.conf.voters),
        sim.nodeIds.filter((id) => !gone.includes(id)),
      );
      settle(sim, left.conf);
      write(sim, 'b', 'three', 3);
    });
  }
});

describe('replacing a failed node', () => {
  for (const seed of SEEDS) {
    it(`replaces a crashed voter by a new one in one change; the new one holds the whole log and votes (seed ${seed})`, () => {
      const sim = new Simulation({ seed, nodes: 3, spareNodes: 1, snapshotEveryEntries: 5 });
      const leader = leaderOf(sim);
      for (let i = 0; i < 12; i++) write(sim, `k${i}`, `v${i}`, 3);
      const failed = sim.nodeIds.find((id) => id !== leader && id !== 'n4')!;
      sim.crash(failed); // never restarted
      write(sim, 'after', 'crash', 2);

      changeMembership(sim, [
        { type: 'addVoter', nodeId: 'n4' },
        { type: 'removeNode', nodeId: failed },
      ]);
      const conf = sim.conf(sim.leader()!);
      assert.deepEqual(
        sorted(conf.voters),
        sorted([...sim.nodeIds.filter((id) => id !== failed && id !== 'n4'), 'n4']),
      );
      assert.ok(!isJoint(conf));
      settle(sim, conf);
      write(sim, 'replaced', 'yes', 3);
      for (let i = 0; i < 12; i++) assert.equal(valueOn(sim, 'n4', `k${i}`), `v${i}`, `n4 has k${i}`);
      assert.ok(sim.stats.sent.snapshot > 0, 'the new node was brought up by InstallSnapshot');

      // The new node is a full voter: with the other original one down, leader and n4 still commit.
      const other = conf.voters.find((id) => id !== sim.leader() && id !== 'n4')!;
      sim.crash(other);
      write(sim, 'with-n4', 'yes', 2);
      assert.equal(valueOn(sim, 'n4', 'with-n4'), 'yes');
    });
  }
});

describe('removing the leader', () => {
  for (const seed of SEEDS) {
    it(`the leader removes itself: it hands over, steps down and stops, and another voter leads (seed ${seed})`, () => {
      const sim = new Simulation({ seed, nodes: 3 });
      const old = leaderOf(sim);
      write(sim, 'a', 'before', 3);
      const roles: string[] = [];
      sim.onRoleChange((id, role) => {
        if (id === old) roles.push(role);
      });
      const handle = sim.proposeConfChange(old, [{ type: 'removeNode', nodeId: old }]);
      assert.notEqual(handle.index, null, JSON.stringify(handle.outcome));
      const start = sim.now;
      assert.ok(
        sim.runUntil(() => sim.status(old).membership === 'removed', 5 * E),
        `removal applied: ${nodes(sim)}`,
      );
      sim.runUntil(() => handle.outcome !== null, E);
      assert.equal(handle.outcome?.status, 'ok', 'the leader applied its own removal');
      assert.ok(
        sim.runUntil(() => {
          const l = sim.leader();
          return l !== null && l !== old;
        }, E),
        `another voter leads within an election timeout (a handover, not an election timeout): ${nodes(sim)}`,
      );
      const next = sim.leader()!;
      assert.ok(sim.now - start < E);
      // It steps down once it hears of its successor's term (its heartbeats are answered in that term).
      sim.runUntil(() => roles.length > 0, 5 * E);
      assert.equal(roles[0], 'follower', `${old} stepped down (roles: ${roles.join(', ')})`);
      assert.ok(
        sim.runUntil(() => !sim.status(old).up, 20 * E),
        `${old} stopped`,
      );
      // The new leader may have campaigned before it learned that the removal committed; it applies it
      // once it commits an entry of its own term.
      const conf = { voters: sim.nodeIds.filter((id) => id !== old), learners: [] };
      settle(sim, conf);
      assert.ok(sim.status(next).term > sim.status(old).term || sim.status(old).role !== 'leader');
      write(sim, 'b', 'after', 2);
      assert.equal(valueOn(sim, next, 'a'), 'before', 'the write made under the old leader survives');
    });
  }
});

describe('a change started just before a partition', () => {
  for (const seed of SEEDS) {
    it(`the entry never left the leader: the majority overwrites it and the configuration stays (seed ${seed})`, () => {
      const sim = new Simulation({ seed, nodes: 3, spareNodes: 1 });
      const old = leaderOf(sim);
      write(sim, 'a', 'before', 3);
      const handle = sim.proposeConfChange(old, [{ type: 'addVoter', nodeId: 'n4' }]);
      assert.notEqual(handle.index, null);
      sim.isolate(old); // before any message carrying the entry left
      const majority = sim.nodeIds.filter((id) => id !== old && id !== 'n4');
      assert.ok(
        sim.runUntil(() => {
          const l = sim.leader();
          return l !== null && majority.includes(l);
        }, 20 * E),
      );
      write(sim, 'b', 'majority', 2);
      sim.heal();
      assert.ok(
        sim.runUntil(() => handle.outcome !== null, 20 * E),
        `the old leader learns what became of its change: ${nodes(sim)}`,
      );
      assert.notEqual(handle.outcome!.status, 'ok', 'the change never took effect');
      settle(sim, { voters: ['n1', 'n2', 'n3'], learners: [] });
      assert.equal(sim.checker.committedConfigs.length, 0, 'no config entry was committed');
      // The change can be made again, and then takes effect once.
      changeMembership(sim, [{ type: 'addVoter', nodeId: 'n4' }]);
      settle(sim, { voters: ['n1', 'n2', 'n3', 'n4'], learners: [] });
      assert.equal(sim.checker.committedConfigs.length, 1);
      write(sim, 'c', 'four', 4);
      assert.equal(valueOn(sim, 'n4', 'b'), 'majority');
    });

    it(`the entry reached the followers but not the commit: the new leader commits it (seed ${seed})`, () => {
      const sim = new Simulation({ seed, nodes: 3, spareNodes: 1 });
      const old = leaderOf(sim);
      write(sim, 'a', 'before', 3);
      const followers = sim.nodeIds.filter((id) => id !== old && id !== 'n4');
      // The leader's messages get out, but no acknowledgement comes back.
      for (const f of followers) sim.cutOneWay(f, old);
      sim.cutOneWay('n4', old);
      const handle = sim.proposeConfChange(old, [{ type: 'addVoter', nodeId: 'n4' }]);
      const index = handle.index!;
      assert.ok(
        sim.runUntil(() => followers.every((f) => sim.status(f).lastIndex >= index), 5 * E),
        'the followers hold the entry',
      );
      assert.ok(sim.status(old).commit < index, 'the leader did not commit it');
      sim.isolate(old);
      assert.ok(
        sim.runUntil(() => {
          const l = sim.leader();
          return l !== null && l !== old;
        }, 20 * E),
      );
      const four = { voters: ['n1', 'n2', 'n3', 'n4'], learners: [] };
      assert.ok(
        sim.runUntil(() => sim.checker.committedConfigs.length === 1, 10 * E),
        `the new leader commits the change: ${nodes(sim)}`,
      );
      assert.equal(configId(sim.checker.committedConfigs[0]!.conf), configId(four));
      sim.heal();
      settle(sim, four);
      write(sim, 'b', 'after', 4);
      assert.equal(sim.checker.committedConfigs.length, 1, 'the change took effect exactly once');
    });
  }
});

describe('learners and removed nodes', () => {
  for (const seed of SEEDS) {
    it(`a learner receives the log but does not count towards a quorum (seed ${seed})`, () => {
      const sim = new Simulation({ seed, nodes: 3, spareNodes: 1 });
      leaderOf(sim);
      changeMembership(sim, [{ type: 'addLearner', nodeId: 'n4' }]);
      const index = write(sim, 'a', 'all', 4);
      assert.ok(sim.status('n4').applied >= index);
      const leader = sim.leader()!;
      for (const id of ['n1', 'n2', 'n3'].filter((v) => v !== leader)) sim.crash(id);
      // Leader and learner are two of four nodes, but one voter of three: no commit.
      assert.equal(canCommit(sim, 'b', 'lost', 10 * E), false);
      assert.notEqual(sim.status('n4').role, 'leader');
      assert.notEqual(sim.status('n4').role, 'candidate');
    });

    it(`a voter removed while it was down learns it when it comes back, and stops (seed ${seed})`, () => {
      const sim = new Simulation({ seed, nodes: 3 });
      const leader = leaderOf(sim);
      write(sim, 'a', 'before', 3);
      const down = sim.nodeIds.find((id) => id !== leader)!;
      sim.crash(down);
      changeMembership(sim, [{ type: 'removeNode', nodeId: down }]);
      write(sim, 'b', 'two', 2);
      sim.restart(down);
      assert.ok(
        sim.runUntil(() => sim.status(down).membership === 'removed' && !sim.status(down).up, 30 * E),
        `${down} learns its removal: ${nodes(sim)}`,
      );
      write(sim, 'c', 'still two', 2);
      const conf = sim.conf(sim.leader()!);
      assert.ok(!conf.voters.includes(down));
    });
  }
});

describe('the voters left know that their removal committed', () => {
  // A configuration takes effect when applied. The voter left may not know yet that the entry removing the
  // leader committed: it still has the two-voter configuration in force and needs the old leader's vote. The old
  // leader therefore keeps answering until it heard of its successor and nobody needs it (docs/membership.md).
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`the leader of a two-voter cluster removes itself; the other voter then leads (seed ${seed})`, () => {
      const sim = new Simulation({ seed, nodes: 2 });
      const old = leaderOf(sim);
      write(sim, 'a', 'before', 2);
      const handle = sim.proposeConfChange(old, [{ type: 'removeNode', nodeId: old }]);
      assert.notEqual(handle.index, null);
      const ok = sim.runUntil(() => {
        const l = sim.leader();
        return l !== null && l !== old;
      }, 30 * E);
      assert.ok(ok, `no leader after the leader removed itself: ${nodes(sim)}`);
    });
  }
});
