import type { ClientOptions } from './client-pool.js';
import type { FaultKind, FaultProfile } from './fault-injector.js';
import type { MembershipProfile } from './membership-changer.js';
import type { NetworkProfile } from './network.js';
import type { SimRandom } from './sim-random.js';
import type { DiskProfile, SimRaftSettings } from './simulation-options.js';

/** Everything a seed decides about a run before it starts. */
export interface RunPlan {
  readonly style: RunStyle;
  /** Initial cluster size. */
  readonly nodes: number;
  /** Extra ids that start absent, for membership changes to add (0 without membership changes). */
  readonly spareNodes: number;
  /** Core settings of every node. */
  readonly raft: SimRaftSettings;
  /** Each node's initial tick interval (ms), spare ids included: they differ (clock drift). */
  readonly tickIntervalMs: readonly number[];
  /** The network before any `weather` fault. */
  readonly network: NetworkProfile;
  readonly disk: DiskProfile;
  /** Each node snapshots and compacts every this many applied entries (0: never). */
  readonly snapshotEveryEntries: number;
  /** `null`: a fault-free run. */
  readonly faults: FaultProfile | null;
  /** `null`: the membership stays as it started. */
  readonly membership: MembershipProfile | null;
  readonly clients: ClientOptions;
  /** Registers the workload uses. */
  readonly keys: number;
  /** `electionTicks` × the slowest tick interval of the initial members. */
  readonly electionTimeoutMs: number;
}

/**
 * The two kinds of random run: `mixed` draws every fault kind with random weights; `leader-churn` keeps
 * cutting off whoever leads (often right after its election) with small messages and one append in flight,
 * the conditions under which a leader replicates entries of earlier terms one at a time (Raft Figure 8).
 */
export type RunStyle = 'mixed' | 'leader-churn';

const STYLE_WEIGHTS: Readonly<Record<RunStyle, number>> = { mixed: 1, 'leader-churn': 1 };

/** Base tick interval (ms) of every random run; each node deviates from it by up to ±25%. */
export const BASE_TICK_MS = 10;

/** Options of {@link chooseRunPlan}. */
export interface RunPlanOptions {
  /**
   * Draw membership changes (for about four runs in five) and spare servers. Default `true`. Without them
   * the plan, and the whole run, is exactly what it was before membership changes were simulated.
   */
  readonly membership?: boolean;
}

/**
 * Draws a run's shape from its generator: cluster size, core settings (pre-vote, check-quorum, message and
 * in-flight limits), per-node clock drift, network and disk profiles, snapshot frequency, the fault mix,
 * the clients and the membership changes. About one run in ten is fault-free.
 */
export function chooseRunPlan(random: SimRandom, options: RunPlanOptions = {}): RunPlan {
  const style = random.weighted(STYLE_WEIGHTS);
  const churn = style === 'leader-churn';
  const nodes = churn
    ? Number(random.weighted({ 3: 3, 5: 2 }))
    : Number(random.weighted({ 1: 2, 2: 3, 3: 45, 4: 8, 5: 35, 7: 7 }));
  const electionTicks = random.pick([5, 10, 10, 10, 15, 20]);
  const heartbeatTicks = random.int(1, Math.max(1, Math.floor(electionTicks / 4)));
  const raft: SimRaftSettings = {
    electionTicks,
    heartbeatTicks,
    preVote: random.chance(0.8),
    checkQuorum: random.chance(churn ? 0.5 : 0.8),
    maxMessageBytes: churn && random.chance(0.7) ? 1 : random.pick([1, 64, 1024, 1024 * 1024]),
    maxInflightMessages: churn && random.chance(0.7) ? 1 : random.pick([1, 2, 4, 256]),
    maxUncommittedBytes: random.pick([0, 0, 512, 1024 * 1024]),
    maxCommittedBytesPerReady: random.pick([0, 0, 1, 256]),
  };
  const drift = random.pick([0, 0.05, 0.1, 0.25]);
  const tickIntervalMs = Array.from({ length: nodes }, () =>
    Math.max(1, Math.round(BASE_TICK_MS * (1 + (random.float() * 2 - 1) * drift))),
  );
  const minDelayMs = random.int(1, 3);
  const network: NetworkProfile = {
    minDelayMs,
    maxDelayMs: minDelayMs + random.int(0, 12),
    lossRate: random.pick([0, 0, 0.01, 0.05, 0.1, 0.2]),
    duplicateRate: random.pick([0, 0, 0.02, 0.1]),
    reorderRate: random.pick([0, 0, 0.05, 0.2]),
    reorderDelayMs: random.int(10, 100),
  };
  const disk: DiskProfile = { minDelayMs: 1, maxDelayMs: random.pick([1, 3, 10, 25]) };
  const snapshotEveryEntries = random.pick([0, 3, 8, 20, 50]);
  const electionTimeoutMs = electionTicks * Math.max(...tickIntervalMs);

  let faults: FaultProfile | null = null;
  if (churn) {
    faults = {
      meanIntervalMs: random.pick([0.3, 0.5, 0.8]) * electionTimeoutMs,
      weights: {
        partition: 1,
        isolate: 8,
        oneWay: 0,
        heal: 1,
        crash: random.pick([0, 1, 2]),
        crashAll: 0,
        pause: random.pick([0, 1]),
        drift: 0,
        weather: 0,
        transfer: 0,
      },
      maxDowntimeMs: random.int(1, 3) * electionTimeoutMs,
      maxPauseMs: random.int(1, 3) * electionTimeoutMs,
      maxDrift: 0.1,
      leaderBias: 0.9,
      electionShockRate: random.pick([0.3, 0.5, 0.7]),
      commitShockRate: random.pick([0.1, 0.3, 0.5]),
      replaceCutsRate: 1,
      worstNetwork: {
        lossRate: 0.1,
        duplicateRate: 0.05,
        reorderRate: 0.1,
        reorderDelayMs: electionTimeoutMs,
      },
    };
  } else if (!random.chance(0.1)) {
    const weights: Record<FaultKind, number> = {
      partition: random.pick([0, 2, 4]),
      isolate: random.pick([0, 2, 4]),
      oneWay: random.pick([0, 1, 3]),
      heal: random.pick([3, 6, 10]),
      crash: random.pick([0, 2, 4, 6]),
      crashAll: random.pick([0, 0, 0.3, 1]),
      pause: random.pick([0, 1, 3]),
      drift: random.pick([0, 1, 2]),
      weather: random.pick([0, 1, 2]),
      transfer: random.pick([0, 1, 2]),
    };
    faults = {
      meanIntervalMs: random.pick([0.25, 0.5, 1, 2]) * electionTimeoutMs,
      weights,
      maxDowntimeMs: random.int(1, 4) * electionTimeoutMs,
      maxPauseMs: random.int(1, 4) * electionTimeoutMs,
      maxDrift: random.pick([0.1, 0.25, 0.5]),
      leaderBias: random.pick([0.2, 0.5, 0.8]),
      electionShockRate: random.pick([0, 0.1, 0.3, 0.6]),
      commitShockRate: random.pick([0, 0, 0.02, 0.1]),
      replaceCutsRate: random.pick([0.3, 0.7, 1]),
      worstNetwork: {
        lossRate: 0.3,
        duplicateRate: 0.2,
        reorderRate: 0.3,
        reorderDelayMs: 3 * electionTimeoutMs,
      },
    };
  }
  const clients: ClientOptions = {
    count: random.int(1, 4),
    requestTimeoutMs: random.int(3, 10) * electionTimeoutMs,
    thinkTimeMs: [0, random.pick([0, 5, 20, 50])],
    latencyMs: [1, random.int(1, 5)],
  };
  const keys = random.int(1, 3);
  // Membership is drawn last, so that without it every earlier choice (and the run) stays as it was.
  let membership: MembershipProfile | null = null;
  let spareNodes = 0;
  if ((options.membership ?? true) && random.chance(0.8)) {
    spareNodes = random.int(1, 3);
    for (let i = 0; i < spareNodes; i++) {
      tickIntervalMs.push(Math.max(1, Math.round(BASE_TICK_MS * (1 + (random.float() * 2 - 1) * drift))));
    }
    membership = {
      meanIntervalMs: random.pick([1, 2, 4]) * electionTimeoutMs,
      weights: {
        addLearner: random.pick([1, 2]),
        promote: random.pick([1, 2]),
        addVoter: random.pick([1, 2]),
        removeVoter: random.pick([1, 2]),
        replace: random.pick([1, 2]),
        removeLearner: random.pick([0.5, 1]),
        resize: random.pick([0, 0.5, 1]),
      },
      minVoters: Math.min(nodes, random.pick([1, 2, 3, 3])),
      maxVoters: Math.max(nodes, random.pick([3, 5, 5, 7])),
      leaderBias: random.pick([0.2, 0.4, 0.6]),
    };
  }
  return {
    style,
    nodes,
    spareNodes,
    raft,
    tickIntervalMs,
    network,
    disk,
    snapshotEveryEntries,
    faults,
    membership,
    clients,
    keys,
    electionTimeoutMs,
  };
}

/** One line describing a plan, for reports. */
export function describeRunPlan(plan: RunPlan): string {
  const r = plan.raft;
  const n = plan.network;
  const parts = [
    `${plan.style}: ${plan.nodes} nodes`,
    `election ${r.electionTicks} ticks, heartbeat ${r.heartbeatTicks}`,
    `preVote ${r.preVote ? 'on' : 'off'}, checkQuorum ${r.checkQuorum ? 'on' : 'off'}`,
    `maxMessageBytes ${r.maxMessageBytes}, maxInflight ${r.maxInflightMessages}`,
    `ticks ${plan.tickIntervalMs.join('/')} ms`,
    `net ${n.minDelayMs}-${n.maxDelayMs} ms loss ${n.lossRate} dup ${n.duplicateRate} reorder ${n.reorderRate}`,
    `disk ≤${plan.disk.maxDelayMs} ms`,
    `snapshot every ${plan.snapshotEveryEntries || '∞'}`,
    plan.faults === null
      ? 'no faults'
      : `faults every ~${plan.faults.meanIntervalMs} ms (${Object.entries(plan.faults.weights)
          .filter(([, w]) => w > 0)
          .map(([k]) => k)
          .join(' ')})`,
    plan.membership === null
      ? 'no membership changes'
      : `membership changes every ~${plan.membership.meanIntervalMs} ms, ${plan.membership.minVoters}-${plan.membership.maxVoters} voters, ${plan.spareNodes} spare`,
    `${plan.clients.count} clients on ${plan.keys} keys`,
  ];
  return parts.join('; ');
}
