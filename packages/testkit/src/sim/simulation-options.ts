import type { RaftConfig, RawNode } from '@tsraft/core';
import type { NetworkProfile } from './network.js';
import type { SimRandom } from './sim-random.js';
import type { TraceOptions } from './trace.js';
import type { SimWorkload } from './workload.js';

/** Builds the core of one node incarnation. The default is `new RawNode(config)`. */
export type RawNodeFactory = (config: RaftConfig) => RawNode;

/** The core settings every simulated node runs with (see {@link RaftConfig}). */
export interface SimRaftSettings {
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly maxMessageBytes: number;
  readonly maxInflightMessages: number;
  readonly maxUncommittedBytes: number;
  readonly maxCommittedBytesPerReady: number;
}

/** The core settings a simulation uses where its options give none. */
export const DEFAULT_SIM_RAFT_SETTINGS: SimRaftSettings = Object.freeze({
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  maxMessageBytes: 1024 * 1024,
  maxInflightMessages: 256,
  maxUncommittedBytes: 0,
  maxCommittedBytesPerReady: 0,
});

/** How long a stable-storage write takes (uniform in `[minDelayMs, maxDelayMs]`, in virtual ms). */
export interface DiskProfile {
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
}

/** Options of {@link Simulation}. Everything not given has a quiet default: no faults, a reliable network. */
export interface SimulationOptions {
  /** The seed of the run's one random generator. Default 1. */
  readonly seed?: number;
  /** Use this generator instead of a new one from `seed` (when the options were themselves drawn from it). */
  readonly random?: SimRandom;
  /** Initial cluster size; nodes are named `n1`, `n2`, .... Default 3. */
  readonly nodes?: number;
  /**
   * Extra node ids (after the initial members) that start absent: servers a membership change can add
   * (`Simulation.proposeConfChange` starts one with empty storage when it is added). Default 0.
   */
  readonly spareNodes?: number;
  /** Core settings. Defaults: `electionTicks` 10, `heartbeatTicks` 1, `preVote` and `checkQuorum` on. */
  readonly raft?: Partial<SimRaftSettings>;
  /** Milliseconds between a node's ticks: one value for all, or one per node (clock drift). Default 10. */
  readonly tickIntervalMs?: number | readonly number[];
  /** The network on links that are up. Default {@link RELIABLE_NETWORK}. */
  readonly network?: Partial<NetworkProfile>;
  /** Disk write latency. Default 1–3 ms. */
  readonly disk?: Partial<DiskProfile>;
  /** Each node snapshots its state machine (and compacts its log) every this many applied entries; 0 never. Default 0. */
  readonly snapshotEveryEntries?: number;
  /** Builds each node's core; use it to run a modified core (`createRawNodeWithFaults` from `@tsraft/core/testing`). */
  readonly createRawNode?: RawNodeFactory;
  /** The state machine and what reads return. Default: the register workload. */
  readonly workload?: SimWorkload;
  /** What to keep of the event log. */
  readonly trace?: TraceOptions;
}
