import { isJoint } from '@tsraft/core';
import { ClientPool, type ProbeState } from './client-pool.js';
import { FaultInjector } from './fault-injector.js';
import { MembershipChanger } from './membership-changer.js';
import { createRegisterWorkload } from './register-workload.js';
import { BASE_TICK_MS, chooseRunPlan, describeRunPlan, type RunPlan } from './run-plan.js';
import { describeConf } from './safety-checker.js';
import { SimRandom } from './sim-random.js';
import { Simulation } from './simulation.js';
import type { RawNodeFactory } from './simulation-options.js';
import { type InvariantCode, InvariantViolation } from './violation.js';
import type { SimWorkload } from './workload.js';

/**
 * The liveness bound, in election timeouts (`electionTicks` × the base tick interval): once faults and
 * membership changes stop (the network heals and turns reliable, crashed nodes restart, paused ones resume,
 * clocks tick at the base rate again), a leader that is a voter of its configuration must be elected, the
 * configuration must not be joint, a fresh write must commit, and every member of that configuration must
 * apply it within this much virtual time, plus {@link livenessBacklogAllowanceMs} for the entries left
 * uncommitted by the faults or missing from a member's log.
 */
export const LIVENESS_BOUND_ELECTION_TIMEOUTS = 30;

/**
 * The part of the liveness bound that grows with the backlog: one network round trip and two disk writes
 * (the leader's and the follower's) for each of `uncommitted` entries, the time to replicate them one per
 * append when appends are limited to one entry and one in flight. `uncommitted` is the longest log minus the
 * highest index known committed when the network heals.
 */
export function livenessBacklogAllowanceMs(
  uncommitted: number,
  maxNetworkDelayMs: number,
  maxDiskDelayMs: number,
): number {
  return Math.max(0, uncommitted) * (2 * maxNetworkDelayMs + 2 * maxDiskDelayMs);
}

/** Options of {@link runSeed}. */
export interface RunSeedOptions {
  /** Events to run with faults and clients before healing. Default 2000. */
  readonly steps?: number;
  /** Builds each node's core (default `new RawNode(config)`). */
  readonly createRawNode?: RawNodeFactory;
  /** Makes the workload (state machine and clients' requests). Default: the register workload. */
  readonly workload?: (plan: RunPlan) => SimWorkload;
  /** Keep the whole event log in the report, not just its tail. Default `false`. */
  readonly fullTrace?: boolean;
  /** Events of the trace tail kept for a failure report (ticks left out). Default 40. */
  readonly traceTail?: number;
  /**
   * Change the membership during the run (in the runs whose plan draws it: about four in five). Default
   * `true`; with `false` every seed runs exactly as before membership changes were simulated.
   */
  readonly membership?: boolean;
}

/** What a failed seed broke. */
export interface SeedFailure {
  readonly invariant: InvariantCode;
  readonly message: string;
  /** Virtual time (ms) and step of detection. */
  readonly time: number;
  readonly step: number;
  /** The run phase: with faults, or after healing. */
  readonly phase: 'faults' | 'liveness' | 'history';
}

/** The outcome of one seed. */
export interface SeedReport {
  readonly seed: number;
  readonly ok: boolean;
  /** `null` when `ok`. */
  readonly failure: SeedFailure | null;
  /** Steps processed (all phases). */
  readonly steps: number;
  /** Virtual time at the end (ms). */
  readonly timeMs: number;
  /** Digest of the whole event log: equal runs have equal digests. */
  readonly digest: string;
  /** The run's shape, on one line. */
  readonly plan: string;
  /** The trace (its tail, or all of it with `fullTrace`); empty for passing seeds unless `fullTrace`. */
  readonly trace: readonly string[];
  /** Each node's state when the run ended. */
  readonly nodes: readonly string[];
  /** Counters. */
  readonly stats: {
    readonly operations: number;
    readonly unknownOutcomes: number;
    readonly leaders: number;
    readonly crashes: number;
    readonly messages: number;
    /** InstallSnapshot messages sent. */
    readonly snapshotsSent: number;
    /** Virtual time from healing to liveness (ms), when reached. */
    readonly recoveryMs: number | null;
    /** The unit of the liveness bound: `electionTicks` × the base tick interval (ms). */
    readonly electionTimeoutMs: number;
    /** Membership changes the leader accepted, and config entries committed (a joint change makes two). */
    readonly membershipChanges: number;
    readonly configsCommitted: number;
    /** The leader's configuration at the end (`null` when there was no leader). */
    readonly finalConf: string | null;
  };
}

/**
 * Runs one seed: draws a {@link RunPlan}, runs `steps` events with random faults and clients, then heals
 * everything and checks liveness within {@link LIVENESS_BOUND_ELECTION_TIMEOUTS}, lets the clients finish,
 * and checks the client history (linearizability for the register workload). Safety is checked after every
 * step throughout. Never throws: the report says what failed (an unexpected exception is a `core-error`).
 */
export function runSeed(seed: number, options: RunSeedOptions = {}): SeedReport {
  const steps = options.steps ?? 2000;
  const random = new SimRandom(seed);
  const plan = chooseRunPlan(random, { membership: options.membership ?? true });
  const workload = options.workload?.(plan) ?? createRegisterWorkload({ keys: plan.keys });
  const sim = new Simulation({
    seed,
    random,
    nodes: plan.nodes,
    spareNodes: plan.spareNodes,
    raft: plan.raft,
    tickIntervalMs: plan.tickIntervalMs,
    network: plan.network,
    disk: plan.disk,
    snapshotEveryEntries: plan.snapshotEveryEntries,
    workload,
    ...(options.createRawNode === undefined ? {} : { createRawNode: options.createRawNode }),
    trace: { full: options.fullTrace ?? false, capacity: 8 * (options.traceTail ?? 40) },
  });
  const clients = new ClientPool(sim, workload, plan.clients);
  const faults = plan.faults === null ? null : new FaultInjector(sim, plan.faults);
  const membership = plan.membership === null ? null : new MembershipChanger(sim, plan.membership);
  let phase: SeedFailure['phase'] = 'faults';
  let failure: SeedFailure | null = null;
  let recoveryMs: number | null = null;
  let electionTimeoutMs = plan.electionTimeoutMs;
  try {
    clients.start();
    faults?.start();
    membership?.start();
    sim.runSteps(steps);

    phase = 'liveness';
    faults?.stop();
    membership?.stop();
    clients.stop();
    sim.note('faults stop; the network heals');
    sim.healAll();
    // Clock drift is one of the faults: from here on every node ticks at the base rate.
    for (const id of sim.nodeIds) sim.setTickInterval(id, BASE_TICK_MS);
    const healedAt = sim.now;
    electionTimeoutMs = plan.raft.electionTicks * BASE_TICK_MS;
    const uncommitted = Math.max(...sim.statuses().map((s) => s.lastIndex)) - sim.committedIndex;
    // A server added late (or cut off for long) must still fetch the committed log, one entry per append
    // when messages are that small and no snapshot covers it.
    const missing = Math.max(
      0,
      ...sim.presentNodeIds().map((id) => sim.committedIndex - sim.status(id).lastIndex),
    );
    const backlogMs = livenessBacklogAllowanceMs(
      uncommitted + missing,
      sim.network.profile.maxDelayMs,
      sim.disk.maxDelayMs,
    );
    const boundMs = LIVENESS_BOUND_ELECTION_TIMEOUTS * electionTimeoutMs + backlogMs;
    const probe = clients.startProbe(3 * electionTimeoutMs);
    if (!sim.runUntil(() => isLive(sim, probe), boundMs)) {
      throw new InvariantViolation(
        'liveness',
        `${livenessGap(sim, probe)}${strandedVoters(sim)} within ${boundMs} ms (${LIVENESS_BOUND_ELECTION_TIMEOUTS} election timeouts of ${electionTimeoutMs} ms + ${backlogMs} ms for ${uncommitted} uncommitted and ${missing} missing entries) after healing at ${healedAt} ms`,
        sim.now,
        sim.steps,
      );
    }
    recoveryMs = sim.now - healedAt;
    sim.runUntil(() => clients.pending === 0, (plan.clients.requestTimeoutMs ?? 1000) + electionTimeoutMs);

    phase = 'history';
    const verdict = workload.check?.(clients.history);
    if (verdict !== undefined && !verdict.ok) {
      throw new InvariantViolation(
        workload.name === 'register' ? 'linearizability' : 'workload',
        verdict.reason,
        sim.now,
        sim.steps,
      );
    }
  } catch (error) {
    failure =
      error instanceof InvariantViolation
        ? { invariant: error.invariant, message: error.message, time: error.time, step: error.step, phase }
        : {
            invariant: 'core-error',
            message: `core-error: unexpected exception: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
            time: sim.now,
            step: sim.steps,
            phase,
          };
  }
  const stats = sim.stats;
  const full = options.fullTrace ?? false;
  const finalLeader = sim.leader();
  return {
    seed,
    ok: failure === null,
    failure,
    steps: sim.steps,
    timeMs: sim.now,
    digest: sim.trace.digest,
    plan: describeRunPlan(plan),
    trace: full ? sim.trace.lines() : failure !== null ? traceTail(sim, options.traceTail ?? 40) : [],
    nodes: sim
      .statuses()
      .map((s) =>
        s.membership === 'spare'
          ? `${s.id}: spare (never added)`
          : `${s.id}: ${s.membership === 'removed' ? 'removed ' : ''}${s.up ? (s.paused ? 'paused' : 'up') : 'down'} ${s.role} term ${s.term} leader ${s.leader ?? '-'} applied ${s.applied} commit ${s.commit} last ${s.lastIndex} snapshot ${s.snapshotIndex} durable (term ${s.durable.term}, vote ${s.durable.vote ?? '-'}, commit ${s.durable.commit}) conf ${describeConf(s.conf)}`,
      ),
    stats: {
      operations: clients.history.length,
      unknownOutcomes: clients.history.filter((op) => op.status === 'unknown').length,
      leaders: sim.checker.leaderCount,
      crashes: stats.crashes,
      messages: Object.values(stats.sent).reduce((a, b) => a + b, 0),
      snapshotsSent: stats.sent.snapshot,
      recoveryMs,
      electionTimeoutMs,
      membershipChanges: membership?.stats.accepted ?? 0,
      configsCommitted: sim.checker.committedConfigs.length,
      finalConf: finalLeader === null ? null : describeConf(sim.status(finalLeader).conf),
    },
  };
}

/** The last `count` lines of the trace, leaving out ticks (they crowd out everything else). */
function traceTail(sim: Simulation, count: number): string[] {
  return sim.trace
    .lines()
    .filter((line) => !TICK_LINE.test(line))
    .slice(-count);
}

const TICK_LINE = /\btick \S+$/;

/**
 * When some running voters can never win an election: the configuration in force on them needs votes of
 * nodes that were removed (and stopped), because they have not learned that the change removing those
 * nodes committed. Describes them, or returns ''.
 */
function strandedVoters(sim: Simulation): string {
  const out: string[] = [];
  const present = new Set(sim.presentNodeIds());
  for (const id of present) {
    const s = sim.status(id);
    if (!s.up) continue;
    const sets = [s.conf.voters, ...(isJoint(s.conf) ? [s.conf.votersOutgoing ?? []] : [])];
    if (!sets.some((set) => set.includes(id))) continue;
    const gone = new Set<string>();
    const stuck = sets.some((set) => {
      const alive = set.filter((v) => present.has(v)).length;
      for (const v of set) if (!present.has(v)) gone.add(v);
      return set.length > 0 && alive <= set.length / 2;
    });
    if (stuck) {
      out.push(
        `${id} (commit ${s.commit}, last ${s.lastIndex}) has ${describeConf(s.conf)} in force, whose quorum needs ${[...gone].join(',')}, which applied their removal and stopped`,
      );
    }
  }
  return out.length === 0 ? '' : `; ${out.join('; ')}`;
}

/**
 * A leader exists and votes in its configuration, which is not joint; the probe write was acknowledged, and
 * every member of that configuration (voters and learners) applied it.
 */
function isLive(sim: Simulation, probe: ProbeState): boolean {
  const op = probe.succeeded;
  if (op === null || op.index === null) return false;
  const leader = sim.leader();
  if (leader === null) return false;
  const conf = sim.status(leader).conf;
  if (isJoint(conf) || !conf.voters.includes(leader)) return false;
  for (const id of conf.voters) if (sim.status(id).applied < op.index) return false;
  for (const id of conf.learners) if (sim.status(id).applied < op.index) return false;
  return true;
}

function livenessGap(sim: Simulation, probe: ProbeState): string {
  const op = probe.succeeded;
  const leader = sim.leader();
  if (leader === null) return 'no leader was elected';
  const conf = sim.status(leader).conf;
  if (isJoint(conf)) return `the leader ${leader} is still in the joint configuration ${describeConf(conf)}`;
  if (!conf.voters.includes(leader))
    return `the leader ${leader} is not a voter of its configuration ${describeConf(conf)}`;
  if (op === null || op.index === null)
    return `a fresh write was not acknowledged (${probe.attempts} attempts)`;
  const behind = [...conf.voters, ...conf.learners]
    .map((id) => sim.status(id))
    .filter((s) => s.applied < op.index!)
    .map((s) => `${s.id} at ${s.applied}`);
  return `not every member of ${describeConf(conf)} applied the fresh write at index ${op.index} (${behind.join(', ')})`;
}
