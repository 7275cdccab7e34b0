import type { NodeId } from '@tsraft/core';
import type { NetworkProfile } from './network.js';
import type { Simulation } from './simulation.js';

/** The kinds of fault the injector chooses from. */
export type FaultKind =
  /** Split the nodes into two or three groups that cannot talk to each other. */
  | 'partition'
  /** Cut every link of one node. */
  | 'isolate'
  /** Cut a few links in one direction only. */
  | 'oneWay'
  /** Restore every link. */
  | 'heal'
  /** Crash one node and restart it later (it loses whatever was not yet durable). */
  | 'crash'
  /** Crash every node and restart them later. */
  | 'crashAll'
  /** Pause one node (a stalled process) for a while. */
  | 'pause'
  /** Change one node's tick rate (clock drift). */
  | 'drift'
  /** Change the network's loss, duplication and reordering rates (or calm it down). */
  | 'weather'
  /** Ask the leader to hand leadership to another node (thesis §3.10), whatever state the network is in. */
  | 'transfer';

/** What faults a run suffers and how often. Times are virtual milliseconds. */
export interface FaultProfile {
  /** Mean time between fault decisions (each waits uniformly between half and one and a half of it). */
  readonly meanIntervalMs: number;
  /** Relative weight of each kind of fault. */
  readonly weights: Readonly<Record<FaultKind, number>>;
  /** Longest time a crashed node stays down. */
  readonly maxDowntimeMs: number;
  /** Longest pause. */
  readonly maxPauseMs: number;
  /** Largest relative deviation of a node's tick interval from the base interval (0.2 = ±20%). */
  readonly maxDrift: number;
  /** Probability that a fault aimed at one node aims at the current leader. */
  readonly leaderBias: number;
  /**
   * Probability that a newly elected leader is cut off within a few milliseconds of its election, before its
   * first entries reach a majority: the adversarial timing that Figure 8 of the Raft paper needs.
   */
  readonly electionShockRate: number;
  /** Probability that a leader is cut off within a few milliseconds of committing entries, before its followers learn of it. */
  readonly commitShockRate: number;
  /** Probability that a partition or isolation replaces the links cut so far instead of adding to them. */
  readonly replaceCutsRate: number;
  /** The worst network `weather` may bring (rates drawn up to these). */
  readonly worstNetwork: Pick<
    NetworkProfile,
    'lossRate' | 'duplicateRate' | 'reorderRate' | 'reorderDelayMs'
  >;
}

const CODE_FAULT = 300;
const CODE_SHOCK = 301;

/**
 * Injects faults into a {@link Simulation} at random times, every choice drawn from the simulation's
 * generator: partitions of any shape, crashes and restarts, pauses, clock drift and network weather.
 */
export class FaultInjector {
  private active = false;
  private listening = false;
  private readonly baseTickMs: number[];
  private readonly calm: NetworkProfile;

  constructor(
    private readonly sim: Simulation,
    private readonly profile: FaultProfile,
  ) {
    this.baseTickMs = sim.nodeIds.map((id) => sim.status(id).tickIntervalMs);
    this.calm = sim.network.profile;
  }

  /** Starts injecting. */
  start(): void {
    this.active = true;
    this.scheduleNext();
    if (this.listening) return;
    this.listening = true;
    if (this.profile.electionShockRate > 0) {
      this.sim.onRoleChange((id, role) => {
        if (this.active && role === 'leader' && this.sim.random.chance(this.profile.electionShockRate)) {
          this.shock(id, 'election');
        }
      });
    }
    if (this.profile.commitShockRate > 0) {
      this.sim.onCommit((id, role) => {
        if (this.active && role === 'leader' && this.sim.random.chance(this.profile.commitShockRate)) {
          this.shock(id, 'commit');
        }
      });
    }
  }

  /** Cuts `id` off a moment from now (before the messages it just sent have all landed). */
  private shock(id: NodeId, cause: string): void {
    const sim = this.sim;
    const delay = sim.random.int(0, sim.network.profile.minDelayMs);
    sim.schedule(delay, CODE_SHOCK, `${cause} shock for ${id}`, () => {
      if (!this.active) return;
      if (sim.random.chance(this.profile.replaceCutsRate)) sim.heal();
      sim.isolate(id);
    });
  }

  /** Stops injecting (faults in effect stay until healed; scheduled restarts and resumes still happen). */
  stop(): void {
    this.active = false;
  }

  private scheduleNext(): void {
    const mean = this.profile.meanIntervalMs;
    const delay = this.sim.random.int(
      Math.max(1, Math.floor(mean / 2)),
      Math.max(1, Math.ceil((mean * 3) / 2)),
    );
    this.sim.schedule(delay, CODE_FAULT, 'fault injector wakes', () => {
      if (!this.active) return;
      this.inject();
      this.scheduleNext();
    });
  }

  private inject(): void {
    const sim = this.sim;
    const random = sim.random;
    // The servers of the cluster now: spare ids not yet added and removed nodes are left alone.
    const ids = sim.presentNodeIds();
    const kind = random.weighted(this.profile.weights);
    switch (kind) {
      case 'partition': {
        if (ids.length < 2) return;
        const order = random.shuffled(ids);
        const groups = ids.length >= 4 && random.chance(0.3) ? 3 : 2;
        const cuts = random
          .shuffled(Array.from({ length: ids.length - 1 }, (_, i) => i + 1))
          .slice(0, groups - 1);
        cuts.sort((a, b) => a - b);
        const parts: NodeId[][] = [];
        let from = 0;
        for (const c of [...cuts, ids.length]) {
          parts.push(order.slice(from, c));
          from = c;
        }
        // Ids outside the cluster join a random side (a server added during the partition lands in one).
        for (const id of sim.nodeIds) if (!ids.includes(id)) random.pick(parts).push(id);
        if (!random.chance(this.profile.replaceCutsRate)) {
          // Add this partition's cuts to those already in place.
          const cut = sim.network.cutLinks();
          sim.partition(parts);
          for (const [a, b] of cut) sim.network.cutOneWay(a, b);
          return;
        }
        sim.partition(parts);
        return;
      }
      case 'isolate': {
        const id = this.target();
        if (random.chance(this.profile.replaceCutsRate)) sim.heal();
        sim.isolate(id);
        return;
      }
      case 'oneWay': {
        if (ids.length < 2) return;
        const links = random.int(1, ids.length);
        for (let k = 0; k < links; k++) {
          const from = random.pick(ids);
          const to = random.pick(ids);
          if (from !== to) sim.cutOneWay(from, to);
        }
        return;
      }
      case 'heal':
        sim.heal();
        return;
      case 'crash': {
        const id = this.target();
        if (sim.status(id).up) sim.crashFor(id, random.int(1, this.profile.maxDowntimeMs));
        return;
      }
      case 'crashAll':
        for (const id of ids)
          if (sim.status(id).up) sim.crashFor(id, random.int(1, this.profile.maxDowntimeMs));
        return;
      case 'pause': {
        const id = this.target();
        sim.pauseFor(id, random.int(1, this.profile.maxPauseMs));
        return;
      }
      case 'drift': {
        const id = random.pick(ids);
        const base = this.baseTickMs[sim.nodeIds.indexOf(id)]!;
        const d = this.profile.maxDrift;
        const ms = Math.max(1, Math.round(base * (1 + (random.float() * 2 - 1) * d)));
        sim.setTickInterval(id, ms);
        sim.note(`drift: ${id} ticks every ${ms} ms`);
        return;
      }
      case 'transfer': {
        const leader = sim.leader();
        if (leader === null || ids.length < 2) return;
        const status = sim.status(leader);
        if (!status.up || status.paused || status.role !== 'leader') return;
        // Leadership can only go to a voter of the leader's configuration.
        const voters = status.conf.voters.filter((id) => id !== leader && ids.includes(id));
        if (voters.length === 0) return;
        const to = random.pick(voters);
        sim.note(`transfer: ${leader} asked to hand leadership to ${to}`);
        sim.transferLeadership(leader, to);
        return;
      }
      case 'weather': {
        if (random.chance(0.4)) {
          sim.setNetwork(this.calm);
          sim.note('weather: network back to its base profile');
          return;
        }
        const w = this.profile.worstNetwork;
        const profile = {
          lossRate: random.float() * w.lossRate,
          duplicateRate: random.float() * w.duplicateRate,
          reorderRate: random.float() * w.reorderRate,
          reorderDelayMs: random.int(0, w.reorderDelayMs),
        };
        sim.setNetwork(profile);
        sim.note(
          `weather: loss ${profile.lossRate.toFixed(3)} dup ${profile.duplicateRate.toFixed(3)} reorder ${profile.reorderRate.toFixed(3)} up to ${profile.reorderDelayMs} ms`,
        );
        return;
      }
    }
  }

  /** A node to aim a fault at: often the leader, else any. */
  private target(): NodeId {
    const random = this.sim.random;
    const leader = this.sim.leader();
    if (random.chance(this.profile.leaderBias) && leader !== null) return leader;
    return random.pick(this.sim.presentNodeIds());
  }
}
