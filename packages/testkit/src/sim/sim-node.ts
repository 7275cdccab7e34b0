import type {
  ConfState,
  HardState,
  MemoryStorage,
  NodeId,
  RawNode,
  Ready,
  Role,
  StateMachine,
} from '@tsraft/core';
import type { RequestOutcome } from './node-request.js';
import type { DurableView } from './safety-checker.js';
import type { ShadowLog } from './shadow-log.js';
import type { SimEvent } from './sim-events.js';

/** A proposal made at a node, waiting for the entry at (`index`, `term`) to be applied there. */
export interface PendingProposal {
  readonly index: number;
  readonly term: number;
  readonly onOutcome: (outcome: RequestOutcome) => void;
}

/** A read made at a node: first waiting for its read index, then for the state machine to reach it. */
export interface PendingRead {
  readonly query: unknown;
  readonly onOutcome: (outcome: RequestOutcome) => void;
}

/**
 * Where a node stands in the life of the cluster: a `spare` id has never been started (a server not yet
 * added); a `joined` node was started (it may or may not be in the configuration yet, and may be down); a
 * `removed` node applied a configuration without itself after being a member, and is (or soon will be)
 * stopped for good.
 */
export type SimMembership = 'spare' | 'joined' | 'removed';

/**
 * One simulated server: its stable storage (which survives crashes) and everything volatile (the core,
 * the state machine, the write in flight, pending requests), which a crash drops.
 */
export class SimNode implements DurableView {
  /** The core, or `null` while the node is down. */
  raw: RawNode | null = null;
  /** The state machine of the current incarnation (`null` while down). */
  stateMachine: StateMachine | null = null;
  /** Incremented on every crash and restart: events of an earlier incarnation are ignored. */
  generation = 0;
  /** Index of the last entry applied to `stateMachine`. */
  applied = 0;
  /** The Ready whose stable-storage write is in flight (one at a time), if any. */
  inflight: Ready | null = null;
  /** A paused process handles nothing; events addressed to it wait in `backlog`. */
  paused = false;
  /** Events that arrived while paused, replayed in order on resume. */
  backlog: SimEvent[] = [];
  /** Whether a tick fell due while paused (the timer restarts on resume). */
  tickParked = false;
  /** Milliseconds between ticks: nodes differ (clock drift). */
  tickIntervalMs: number;
  /** Role, term and leader as last observed (after every event the node handled). */
  role: Role = 'follower';
  currentTerm = 0;
  leader: NodeId | null = null;
  /** The core's log, as seen in its Readys. */
  log: ShadowLog;
  /** The term in which this node was leader when its previous Ready was taken (0 when it was not). */
  leaderTermAtLastReady = 0;
  /** A leadership to check for completeness at the next Ready (when the shadow log has caught up with the core). */
  completeness: { readonly term: number } | null = null;
  /** Proposals made here, by log index. */
  proposals = new Map<number, PendingProposal[]>();
  /** Reads waiting for their read index, by request id. */
  reads = new Map<number, PendingRead>();
  /** Reads with a read index, waiting for `applied` to reach it. */
  readsWaiting: { readonly index: number; readonly read: PendingRead }[] = [];
  /** How many times this node crashed. */
  crashes = 0;
  /** A removed node that stopped by itself (for good); until then a crashed removed node is restarted. */
  shutDown = false;
  /** A removed node to stop as soon as the Ready it has in flight is finished. */
  stopWhenIdle = false;
  /** Spare (never started), joined, or removed from the cluster. */
  membership: SimMembership = 'joined';
  /**
   * The configuration as of the last committed entry (or snapshot) the core handed out: the one the core
   * must have in force, and the one a snapshot at `applied` carries once that Ready is finished.
   */
  conf: ConfState;

  constructor(
    /** The node's id (`n1`, `n2`, ...). */
    readonly id: NodeId,
    /** Position in the simulation's node list. */
    readonly index: number,
    /** Stable storage: survives crashes. */
    readonly storage: MemoryStorage,
    tickIntervalMs: number,
    log: ShadowLog,
  ) {
    this.tickIntervalMs = tickIntervalMs;
    this.log = log;
    this.conf = storage.snapshot().meta.conf;
  }

  /** Whether the node is running (not crashed). */
  get up(): boolean {
    return this.raw !== null;
  }

  /** The stable hard state. */
  get hardState(): HardState {
    return this.storage.hardState();
  }

  /** Index of the stored snapshot. */
  get snapshotIndex(): number {
    return this.storage.snapshot().meta.index;
  }

  /** Index of the last stored entry. */
  get lastIndex(): number {
    return this.storage.lastIndex();
  }

  /** Term of the stored entry at `index`. */
  term(index: number): number {
    return this.storage.term(index);
  }

  /** Hands every pending request an outcome and forgets them (on crash). */
  abandonRequests(reason: string): void {
    const outcome: RequestOutcome = { status: 'unknown', reason };
    const proposals = [...this.proposals.values()].flat();
    const reads = [...this.reads.values(), ...this.readsWaiting.map((w) => w.read)];
    this.proposals = new Map();
    this.reads = new Map();
    this.readsWaiting = [];
    for (const p of proposals) p.onOutcome(outcome);
    for (const r of reads) r.onOutcome(outcome);
  }
}
