import {
  type Entry,
  type HardState,
  MemoryStorage,
  type Message,
  type MessageType,
  type NodeId,
  type RaftConfig,
  RaftError,
  RawNode,
  type ReadState,
  type Ready,
  type Role,
  type Snapshot,
} from '@tsraft/core';
import { EventQueue } from './event-queue.js';
import { type NetworkProfile, RELIABLE_NETWORK, SimNetwork } from './network.js';
import type { NodeRequest, RequestOutcome } from './node-request.js';
import { createRegisterWorkload } from './register-workload.js';
import { SafetyChecker } from './safety-checker.js';
import { ShadowLog } from './shadow-log.js';
import type { CallEvent, DeliverEvent, SimEvent } from './sim-events.js';
import { SimNode } from './sim-node.js';
import { SimRandom } from './sim-random.js';
import { type TraceOptions, TraceRecorder } from './trace.js';
import { InvariantViolation } from './violation.js';
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
  /** Cluster size; nodes are named `n1`, `n2`, .... Default 3. */
  readonly nodes?: number;
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

/** A node as the simulation sees it, for assertions in scenario tests. */
export interface SimNodeStatus {
  readonly id: NodeId;
  /** Running (not crashed). */
  readonly up: boolean;
  readonly paused: boolean;
  readonly role: Role;
  readonly term: number;
  /** The leader this node knows of. */
  readonly leader: NodeId | null;
  /** Last index applied to its state machine. */
  readonly applied: number;
  /** Last index of its log (durable or not), when up. */
  readonly lastIndex: number;
  /** Commit index known to its core, when up. */
  readonly commit: number;
  /** The hard state in stable storage. */
  readonly durable: HardState;
  /** Index of the snapshot in stable storage. */
  readonly snapshotIndex: number;
  readonly tickIntervalMs: number;
  readonly crashes: number;
}

/** A request made with {@link Simulation.propose} or {@link Simulation.read}; its fields update as the run goes on. */
export interface RequestHandle {
  readonly node: NodeId;
  /** Where the proposal landed in the log (`null` for reads and refused proposals). */
  readonly index: number | null;
  readonly term: number | null;
  /** `null` while in flight. */
  readonly outcome: RequestOutcome | null;
}

/** Counters over the whole run. */
export interface SimStats {
  /** Messages handed to the network, by type. */
  readonly sent: Readonly<Record<MessageType, number>>;
  readonly delivered: number;
  readonly dropped: number;
  /** Append requests the followers rejected (a measure of log back-off). */
  readonly appendRejections: number;
  readonly crashes: number;
  readonly restarts: number;
}

const DEFAULT_RAFT: SimRaftSettings = {
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  maxMessageBytes: 1024 * 1024,
  maxInflightMessages: 256,
  maxUncommittedBytes: 0,
  maxCommittedBytesPerReady: 0,
};

/** Trace codes of the simulation's own call events. */
const CODE_RESTART = 100;
const CODE_RESUME = 101;

/**
 * A deterministic simulation of a Raft cluster: N real cores (`RawNode`) over in-memory stable storage and
 * a simulated network, driven by one event queue in virtual time and one seeded random generator. The same
 * options (and seed) replay the same run, event for event.
 *
 * Each node's `Ready` is handled as its contract says: messages go out at once; the stable-storage write
 * completes after a simulated disk delay (a crash before then loses it); only then are `persistedMessages`
 * sent, committed entries applied, read states answered and `advance` called; one Ready in flight per node.
 *
 * Safety is checked after every step, incrementally ({@link SafetyChecker}); a breach throws
 * {@link InvariantViolation} out of whichever method was running the simulation.
 *
 * The scripted API (`isolate`, `cut`, `heal`, `crash`, `restart`, `pause`, `propose`, `runUntil`, ...) is
 * for scenario tests; `runSeed` adds random faults, clients and the end-of-run checks.
 */
export class Simulation {
  /** The seed the run's generator started from. */
  readonly seed: number;
  /** The run's one random generator. */
  readonly random: SimRandom;
  /** Node ids, in order (`n1`, `n2`, ...). */
  readonly nodeIds: readonly NodeId[];
  /** The simulated network (links and loss/delay profile). */
  readonly network: SimNetwork;
  /** The safety checker, with what it learned (leaders per term, committed entries). */
  readonly checker: SafetyChecker;
  /** The event log. */
  readonly trace: TraceRecorder;
  /** The state machine and reads of this run. */
  readonly workload: SimWorkload;
  /** Core settings of every node. */
  readonly raft: SimRaftSettings;
  /** Snapshot period in applied entries (0: never). */
  readonly snapshotEveryEntries: number;
  /** Disk write latency. */
  disk: DiskProfile;

  private clock = 0;
  private stepCount = 0;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly nodes: SimNode[];
  private readonly byId = new Map<NodeId, SimNode>();
  private readonly createRawNode: RawNodeFactory;
  private nextReadId = 1;
  private failure: InvariantViolation | null = null;
  private readonly sentByType: Record<MessageType, number> = {
    vote: 0,
    voteResponse: 0,
    append: 0,
    appendResponse: 0,
    heartbeat: 0,
    heartbeatResponse: 0,
    snapshot: 0,
    timeoutNow: 0,
    readIndex: 0,
    readIndexResponse: 0,
  };
  private readonly roleListeners: ((id: NodeId, role: Role, term: number) => void)[] = [];
  private readonly commitListeners: ((id: NodeId, role: Role, index: number) => void)[] = [];
  private delivered = 0;
  private dropped = 0;
  private appendRejections = 0;
  private crashCount = 0;
  private restartCount = 0;

  constructor(options: SimulationOptions = {}) {
    this.seed = options.seed ?? 1;
    this.random = options.random ?? new SimRandom(this.seed);
    const size = options.nodes ?? 3;
    if (!Number.isSafeInteger(size) || size < 1 || size > 64)
      throw new RangeError(`nodes must be in 1..64, got ${size}`);
    this.nodeIds = Array.from({ length: size }, (_, i) => `n${i + 1}`);
    this.raft = { ...DEFAULT_RAFT, ...options.raft };
    this.snapshotEveryEntries = options.snapshotEveryEntries ?? 0;
    this.disk = { minDelayMs: 1, maxDelayMs: 3, ...options.disk };
    this.workload = options.workload ?? createRegisterWorkload();
    this.createRawNode = options.createRawNode ?? ((config) => new RawNode(config));
    this.network = new SimNetwork(size, { ...RELIABLE_NETWORK, ...options.network }, this.random);
    this.checker = new SafetyChecker(this.checkerClock());
    this.trace = new TraceRecorder(this.nodeIds, options.trace);
    const ticks = options.tickIntervalMs ?? 10;
    const conf = { voters: [...this.nodeIds], learners: [] };
    this.nodes = this.nodeIds.map((id, i) => {
      const interval = typeof ticks === 'number' ? ticks : (ticks[i] ?? 10);
      const storage = new MemoryStorage({ conf });
      const node = new SimNode(id, i, storage, interval, ShadowLog.fromStorage(storage));
      this.byId.set(id, node);
      return node;
    });
    this.guard(() => {
      for (const node of this.nodes) this.boot(node);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Running

  /** Virtual time, in ms. */
  get now(): number {
    return this.clock;
  }

  /** Events processed so far. */
  get steps(): number {
    return this.stepCount;
  }

  /** Events waiting in the queue. */
  get pendingEvents(): number {
    return this.queue.size;
  }

  /**
   * Processes the next event (one step) and runs every check it triggers.
   * Returns `false` when nothing is left to do.
   * @throws InvariantViolation when a checked property fails (and on every later call).
   */
  step(): boolean {
    if (this.failure !== null) throw this.failure;
    for (;;) {
      const event = this.queue.pop();
      if (event === undefined) return false;
      if (event.kind === 'call' && event.cancelled) continue;
      this.clock = event.time;
      this.stepCount++;
      this.trace.record(this.clock, this.stepCount, event);
      this.guard(() => this.dispatch(event));
      return true;
    }
  }

  /** Processes up to `count` events. Returns how many were processed. */
  runSteps(count: number): number {
    let done = 0;
    while (done < count && this.step()) done++;
    return done;
  }

  /** Runs until virtual time has advanced by `ms` (events due exactly then included). */
  runFor(ms: number): void {
    const until = this.clock + ms;
    for (;;) {
      const next = this.queue.peek();
      if (next === undefined || next.time > until) break;
      this.step();
    }
    this.clock = Math.max(this.clock, until);
  }

  /**
   * Runs until `predicate` holds (checked before the first step and after each one) or `maxMs` of virtual
   * time passed. Returns whether it held.
   */
  runUntil(predicate: () => boolean, maxMs: number): boolean {
    const until = this.clock + maxMs;
    if (predicate()) return true;
    for (;;) {
      const next = this.queue.peek();
      if (next === undefined || next.time > until) {
        this.clock = Math.max(this.clock, until);
        return predicate();
      }
      this.step();
      if (predicate()) return true;
    }
  }

  /**
   * Schedules `run` after `delayMs` of virtual time, as a step of its own. `code` and `label` identify it
   * in the trace and its digest. Returns the event, whose `cancelled` flag can be set to skip it.
   */
  schedule(delayMs: number, code: number, label: string | (() => string), run: () => void): CallEvent {
    const event: CallEvent = {
      kind: 'call',
      time: this.clock + delayMs,
      seq: 0,
      code,
      label,
      run,
      cancelled: false,
    };
    this.queue.push(event);
    return event;
  }

  /**
   * Calls `listener` whenever a node's role changes (after the step that changed it). Listeners may schedule
   * events but must not drive nodes directly.
   */
  onRoleChange(listener: (id: NodeId, role: Role, term: number) => void): void {
    this.roleListeners.push(listener);
  }

  /**
   * Calls `listener` whenever a node is handed newly committed entries (`index` is the last of them).
   * Listeners may schedule events but must not drive nodes directly.
   */
  onCommit(listener: (id: NodeId, role: Role, index: number) => void): void {
    this.commitListeners.push(listener);
  }

  /** Adds a line of commentary to the trace. */
  note(text: string): void {
    this.trace.note(this.clock, this.stepCount, text);
  }

  // ---------------------------------------------------------------------------------------------
  // Observing

  /** What the simulation knows of node `id`. */
  status(id: NodeId): SimNodeStatus {
    const n = this.node(id);
    const st = n.raw?.status();
    return {
      id,
      up: n.up,
      paused: n.paused,
      role: n.role,
      term: n.currentTerm,
      leader: n.leader,
      applied: n.applied,
      lastIndex: st?.lastIndex ?? n.storage.lastIndex(),
      commit: st?.hardState.commit ?? n.storage.hardState().commit,
      durable: n.storage.hardState(),
      snapshotIndex: n.storage.snapshot().meta.index,
      tickIntervalMs: n.tickIntervalMs,
      crashes: n.crashes,
    };
  }

  /** Every node's status. */
  statuses(): SimNodeStatus[] {
    return this.nodeIds.map((id) => this.status(id));
  }

  /** The running, unpaused leader with the highest term, or `null` when no node is leader. */
  leader(): NodeId | null {
    let best: SimNode | null = null;
    for (const n of this.nodes) {
      if (n.up && !n.paused && n.role === 'leader' && (best === null || n.currentTerm > best.currentTerm))
        best = n;
    }
    return best?.id ?? null;
  }

  /** Every running node that believes it is leader (several, in different terms, during a partition). */
  leaders(): NodeId[] {
    return this.nodes.filter((n) => n.up && n.role === 'leader').map((n) => n.id);
  }

  /** The entry committed at `index`, as first seen committed on any node. */
  committedEntry(index: number): { readonly term: number; readonly data: Uint8Array | null } | undefined {
    return this.checker.committedAt(index);
  }

  /** Highest index known committed on any node. */
  get committedIndex(): number {
    return this.checker.committedIndex;
  }

  /** How many nodes have applied index `index` (or beyond). */
  appliedCount(index: number): number {
    let count = 0;
    for (const n of this.nodes) if (n.applied >= index) count++;
    return count;
  }

  /** The state machine of node `id` (for reading its state in tests), or `null` while it is down. */
  stateMachine(id: NodeId): unknown {
    return this.node(id).stateMachine;
  }

  /** Counters over the whole run. */
  get stats(): SimStats {
    return {
      sent: { ...this.sentByType },
      delivered: this.delivered,
      dropped: this.dropped,
      appendRejections: this.appendRejections,
      crashes: this.crashCount,
      restarts: this.restartCount,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Faults

  /** Cuts every link to and from `id`. */
  isolate(id: NodeId): void {
    this.network.isolate(this.node(id).index);
    this.note(`isolate ${id}`);
  }

  /** Cuts the links between `a` and `b`, both ways. */
  cut(a: NodeId, b: NodeId): void {
    this.network.cutBoth(this.node(a).index, this.node(b).index);
    this.note(`cut ${a}↔${b}`);
  }

  /** Cuts the link from `from` to `to` only: `to` still reaches `from`. */
  cutOneWay(from: NodeId, to: NodeId): void {
    this.network.cutOneWay(this.node(from).index, this.node(to).index);
    this.note(`cut ${from}→${to}`);
  }

  /** Splits the cluster into `groups` (every node in one group): only links inside a group stay up. */
  partition(groups: readonly (readonly NodeId[])[]): void {
    this.network.partition(groups.map((g) => g.map((id) => this.node(id).index)));
    this.note(`partition ${groups.map((g) => `{${g.join(',')}}`).join(' ')}`);
  }

  /** Restores every link. */
  heal(): void {
    this.network.heal();
    this.note('heal network');
  }

  /** Changes how the network treats messages on links that are up. */
  setNetwork(profile: Partial<NetworkProfile>): void {
    this.network.profile = { ...this.network.profile, ...profile };
  }

  /** Changes node `id`'s tick interval (clock drift); it takes effect from its next tick. */
  setTickInterval(id: NodeId, ms: number): void {
    if (!(ms >= 1)) throw new RangeError(`tick interval must be >= 1 ms, got ${ms}`);
    this.node(id).tickIntervalMs = ms;
  }

  /**
   * Crashes node `id`: its core, state machine, pending requests and any stable-storage write not yet
   * complete are lost; what its storage holds survives. No-op when it is already down.
   */
  crash(id: NodeId): void {
    const n = this.node(id);
    if (!n.up) return;
    n.raw = null;
    n.stateMachine = null;
    n.inflight = null;
    n.generation++;
    n.paused = false;
    n.backlog = [];
    n.tickParked = false;
    n.completeness = null;
    n.role = 'follower';
    n.leader = null;
    n.crashes++;
    this.crashCount++;
    this.note(`crash ${id}`);
    n.abandonRequests('the node crashed');
  }

  /** Restarts a crashed node from its stable storage (state machine rebuilt from the stored snapshot). */
  restart(id: NodeId): void {
    const n = this.node(id);
    if (n.up) return;
    this.restartCount++;
    this.note(`restart ${id}`);
    this.guard(() => this.boot(n));
  }

  /** Crashes node `id` now and restarts it after `downMs`. */
  crashFor(id: NodeId, downMs: number): void {
    this.crash(id);
    this.schedule(downMs, CODE_RESTART, `restart ${id} (scheduled)`, () => this.restart(id));
  }

  /** Pauses node `id` (a stalled process): it handles nothing, not even its timer, until `resume`. */
  pause(id: NodeId): void {
    const n = this.node(id);
    if (!n.up || n.paused) return;
    n.paused = true;
    this.note(`pause ${id}`);
  }

  /** Pauses node `id` now and resumes it after `pauseMs`. */
  pauseFor(id: NodeId, pauseMs: number): void {
    const n = this.node(id);
    if (!n.up || n.paused) return;
    this.pause(id);
    const gen = n.generation;
    this.schedule(pauseMs, CODE_RESUME, `resume ${id} (scheduled)`, () => {
      if (n.generation === gen) this.resume(id);
    });
  }

  /** Resumes a paused node: what arrived meanwhile is handled in order, and its timer restarts. */
  resume(id: NodeId): void {
    const n = this.node(id);
    if (!n.paused) return;
    n.paused = false;
    this.note(`resume ${id}`);
    const backlog = n.backlog;
    n.backlog = [];
    for (const event of backlog) {
      event.time = this.clock;
      this.queue.push(event);
    }
    if (n.tickParked) {
      n.tickParked = false;
      this.scheduleTick(n, n.tickIntervalMs);
    }
  }

  /** Ends every fault: heals the network (and makes it reliable), restarts crashed nodes, resumes paused ones. */
  healAll(network: Partial<NetworkProfile> = {}): void {
    this.heal();
    const p = this.network.profile;
    this.setNetwork({
      lossRate: 0,
      duplicateRate: 0,
      reorderRate: 0,
      maxDelayMs: Math.min(p.maxDelayMs, 10),
      ...network,
    });
    for (const n of this.nodes) {
      if (!n.up) this.restart(n.id);
      else if (n.paused) this.resume(n.id);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Requests

  /**
   * Proposes `command` at node `id` now (no client network). The handle reports the outcome: the state
   * machine's result once the entry is applied there, `failed` if it was refused or replaced, `unknown` if the
   * node crashed first.
   */
  propose(id: NodeId, command: Uint8Array): RequestHandle {
    const n = this.node(id);
    const handle: {
      node: NodeId;
      index: number | null;
      term: number | null;
      outcome: RequestOutcome | null;
    } = {
      node: id,
      index: null,
      term: null,
      outcome: null,
    };
    if (!n.up) {
      handle.outcome = { status: 'unknown', reason: 'the node is down' };
      return handle;
    }
    this.guard(() => {
      const ticket = this.submitNow(n, {
        kind: 'propose',
        command,
        onOutcome: (outcome) => {
          handle.outcome = outcome;
        },
      });
      if (ticket !== null) {
        handle.index = ticket.index;
        handle.term = ticket.term;
      }
    });
    return handle;
  }

  /** Makes a linearizable read at node `id` now; the outcome's `result` is the workload's answer to `query`. */
  read(id: NodeId, query: unknown): RequestHandle {
    const n = this.node(id);
    const handle: { node: NodeId; index: null; term: null; outcome: RequestOutcome | null } = {
      node: id,
      index: null,
      term: null,
      outcome: null,
    };
    if (!n.up) {
      handle.outcome = { status: 'unknown', reason: 'the node is down' };
      return handle;
    }
    this.guard(() =>
      this.submitNow(n, {
        kind: 'read',
        query,
        onOutcome: (outcome) => {
          handle.outcome = outcome;
        },
      }),
    );
    return handle;
  }

  /** Delivers `request` to node `id` after `delayMs` (a client's request crossing the client network). */
  submit(id: NodeId, request: NodeRequest, delayMs: number): void {
    this.queue.push({
      kind: 'request',
      time: this.clock + delayMs,
      seq: 0,
      node: this.node(id).index,
      request,
    });
  }

  /** Makes node `id` start an election now (as if its election timer fired). */
  campaign(id: NodeId): void {
    const n = this.node(id);
    if (n.raw === null) return;
    this.guard(() => {
      n.raw!.campaign();
      this.afterInput(n);
    });
  }

  /** Asks leader `from` to hand leadership to `to`. */
  transferLeadership(from: NodeId, to: NodeId): void {
    const n = this.node(from);
    if (n.raw === null) return;
    this.guard(() => {
      n.raw!.transferLeadership(to);
      this.afterInput(n);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Internals: node lifecycle

  private node(id: NodeId): SimNode {
    const n = this.byId.get(id);
    if (n === undefined) throw new RangeError(`no node ${id} (nodes: ${this.nodeIds.join(', ')})`);
    return n;
  }

  private boot(n: SimNode): void {
    n.generation++;
    const snap = n.storage.snapshot();
    const sm = this.workload.createStateMachine();
    if (snap.meta.index > 0) synchronous(sm.restore(snap.data, snap.meta), 'restore');
    const durable = n.storage.hardState();
    n.raw = this.createRawNode({
      id: n.id,
      storage: n.storage,
      randomSeed: this.random.uint32(),
      electionTicks: this.raft.electionTicks,
      heartbeatTicks: this.raft.heartbeatTicks,
      preVote: this.raft.preVote,
      checkQuorum: this.raft.checkQuorum,
      maxMessageBytes: this.raft.maxMessageBytes,
      maxInflightMessages: this.raft.maxInflightMessages,
      maxUncommittedBytes: this.raft.maxUncommittedBytes,
      maxCommittedBytesPerReady: this.raft.maxCommittedBytesPerReady,
      applied: snap.meta.index,
    });
    n.stateMachine = sm;
    n.applied = snap.meta.index;
    n.inflight = null;
    n.paused = false;
    n.backlog = [];
    n.tickParked = false;
    n.completeness = null;
    n.leaderTermAtLastReady = 0;
    n.log = ShadowLog.fromStorage(n.storage);
    const st = n.raw.status();
    if (st.hardState.term !== durable.term || st.hardState.vote !== durable.vote) {
      throw new RaftError(
        'INVALID_ARGUMENT',
        `${n.id} restarted at term ${st.hardState.term} vote ${String(st.hardState.vote)} but stable storage holds term ${durable.term} vote ${String(durable.vote)}`,
      );
    }
    n.currentTerm = st.hardState.term;
    n.role = st.role;
    n.leader = st.leader;
    this.scheduleTick(n, this.random.int(1, n.tickIntervalMs));
    this.afterInput(n);
  }

  private scheduleTick(n: SimNode, delayMs: number): void {
    this.queue.push({ kind: 'tick', time: this.clock + delayMs, seq: 0, node: n.index, gen: n.generation });
  }

  // ---------------------------------------------------------------------------------------------
  // Internals: events

  private dispatch(event: SimEvent): void {
    switch (event.kind) {
      case 'tick': {
        const n = this.nodes[event.node]!;
        if (n.raw === null || n.generation !== event.gen) return;
        if (n.paused) {
          n.tickParked = true;
          return;
        }
        n.raw.tick();
        this.afterInput(n);
        if (n.raw !== null && n.generation === event.gen) this.scheduleTick(n, n.tickIntervalMs);
        return;
      }
      case 'deliver':
        this.deliver(event);
        return;
      case 'persist': {
        const n = this.nodes[event.node]!;
        if (n.raw === null || n.generation !== event.gen) return;
        if (n.paused) {
          n.backlog.push(event);
          return;
        }
        const ready = n.inflight;
        if (ready === null) throw new Error(`${n.id}: write completed with no Ready in flight`);
        this.finishReady(n, ready, true);
        this.pump(n);
        return;
      }
      case 'report': {
        const n = this.nodes[event.node]!;
        if (n.raw === null || n.generation !== event.gen) return;
        if (n.paused) {
          n.backlog.push(event);
          return;
        }
        if (event.report === 'unreachable') n.raw.reportUnreachable(event.peer);
        else n.raw.reportSnapshot(event.peer, event.report === 'snapshot-ok');
        this.afterInput(n);
        return;
      }
      case 'request': {
        const n = this.nodes[event.node]!;
        if (n.raw === null) return;
        if (n.paused) {
          n.backlog.push(event);
          return;
        }
        this.submitNow(n, event.request);
        return;
      }
      case 'call':
        event.run();
        return;
    }
  }

  private deliver(event: DeliverEvent): void {
    const n = this.nodes[event.to]!;
    if (n.raw === null) {
      this.onDropped(event.from, event.fromGen, event.message, 'down');
      return;
    }
    if (this.network.isCut(event.from, event.to)) {
      this.onDropped(event.from, event.fromGen, event.message, 'partition');
      return;
    }
    if (n.paused) {
      n.backlog.push(event);
      return;
    }
    this.delivered++;
    const m = event.message;
    if (m.type === 'snapshot' && !event.duplicate)
      this.report(event.from, event.fromGen, m.to, 'snapshot-ok');
    n.raw.step(m);
    this.afterInput(n);
  }

  private onDropped(from: number, fromGen: number, m: Message, reason: 'down' | 'partition' | 'loss'): void {
    this.dropped++;
    if (m.type === 'snapshot') this.report(from, fromGen, m.to, 'snapshot-failed');
    else if (reason !== 'loss' && m.type === 'append' && this.random.chance(0.5)) {
      this.report(from, fromGen, m.to, 'unreachable');
    }
  }

  private report(
    node: number,
    gen: number,
    peer: NodeId,
    report: 'unreachable' | 'snapshot-ok' | 'snapshot-failed',
  ): void {
    const p = this.network.profile;
    const delay = this.random.int(p.minDelayMs, p.maxDelayMs);
    this.queue.push({ kind: 'report', time: this.clock + delay, seq: 0, node, gen, peer, report });
  }

  private submitNow(n: SimNode, request: NodeRequest): { index: number; term: number } | null {
    const raw = n.raw!;
    if (request.kind === 'read') {
      const id = this.nextReadId++;
      n.reads.set(id, { query: request.query, onOutcome: request.onOutcome });
      raw.readIndex(id);
      this.afterInput(n);
      return null;
    }
    let ticket: { index: number; term: number };
    try {
      ticket = raw.propose(request.command);
    } catch (error) {
      if (!(error instanceof RaftError)) throw error;
      request.onOutcome({ status: 'failed', code: error.code, leader: error.leader });
      return null;
    }
    let list = n.proposals.get(ticket.index);
    if (list === undefined) {
      list = [];
      n.proposals.set(ticket.index, list);
    }
    list.push({ index: ticket.index, term: ticket.term, onOutcome: request.onOutcome });
    this.afterInput(n);
    return ticket;
  }

  // ---------------------------------------------------------------------------------------------
  // Internals: the Ready loop

  /** After a node handled an input: observe its role and term, then hand out Readys. */
  private afterInput(n: SimNode): void {
    this.observe(n);
    this.pump(n);
  }

  private observe(n: SimNode): void {
    const st = n.raw!.status();
    const term = st.hardState.term;
    if (term !== n.currentTerm) {
      this.checker.observeTerm(n.id, n.currentTerm, term);
      n.currentTerm = term;
    }
    if (st.role !== n.role) {
      n.role = st.role;
      this.note(`${n.id} is ${st.role} in term ${term}`);
      for (const listener of this.roleListeners) listener(n.id, st.role, term);
    }
    n.leader = st.leader;
    if (this.checker.observeRole(n.id, st.role, term)) {
      n.completeness = { term };
    }
  }

  /** Takes Readys while there are some and no write is in flight. */
  private pump(n: SimNode): void {
    while (n.raw !== null && n.inflight === null && n.raw.hasReady()) {
      const ready = n.raw.ready();
      this.takeReady(n, ready);
      if (ready.hardState !== null || ready.entries.length > 0 || ready.snapshot !== null) {
        n.inflight = ready;
        const delay = this.random.int(this.disk.minDelayMs, this.disk.maxDelayMs);
        this.queue.push({
          kind: 'persist',
          time: this.clock + delay,
          seq: 0,
          node: n.index,
          gen: n.generation,
        });
        return;
      }
      this.finishReady(n, ready, false);
    }
  }

  /** What happens when a Ready is taken: the log changes are observed and `messages` leave at once. */
  private takeReady(n: SimNode, ready: Ready): void {
    if (ready.snapshot !== null) {
      const meta = ready.snapshot.meta;
      this.checker.observeSnapshot(n.id, n.currentTerm, meta);
      n.log.restore(meta.index, meta.term);
    }
    const leading = n.role === 'leader' ? n.currentTerm : 0;
    if (leading !== 0 && leading === n.leaderTermAtLastReady) {
      this.checker.checkLeaderAppendOnly(n.id, leading, n.log.lastIndex(), ready.entries);
    }
    n.leaderTermAtLastReady = leading;
    for (const entry of ready.entries) {
      this.checker.observeLogEntry(n.id, entry, n.log.term(entry.index - 1));
      n.log.put(entry.index, entry.term);
    }
    for (const entry of ready.committedEntries) this.checker.observeCommitted(n.id, n.currentTerm, entry);
    const lastCommitted = ready.committedEntries[ready.committedEntries.length - 1];
    if (lastCommitted !== undefined) {
      for (const listener of this.commitListeners) listener(n.id, n.role, lastCommitted.index);
    }
    const c = n.completeness;
    if (c !== null) {
      n.completeness = null;
      if (n.role === 'leader' && n.currentTerm === c.term) {
        this.checker.checkLeaderCompleteness(n.id, c.term, n.log);
      }
    }
    for (const m of ready.messages) this.transmit(n, m);
  }

  /** The rest of a Ready once its write is durable (or at once when it writes nothing). */
  private finishReady(n: SimNode, ready: Ready, wrote: boolean): void {
    const raw = n.raw!;
    if (wrote) {
      const before = n.storage.hardState();
      n.storage.saveSync({
        hardState: ready.hardState,
        entries: ready.entries,
        snapshot: ready.snapshot,
        sync: ready.mustSync,
      });
      this.checker.observeDurableSave(n.id, before, n.storage.hardState(), n.storage.lastIndex());
    }
    for (const m of ready.persistedMessages) this.transmit(n, m);
    if (ready.snapshot !== null) this.restoreSnapshot(n, ready.snapshot);
    for (const entry of ready.committedEntries) this.apply(n, entry);
    for (const rs of ready.readStates) this.onReadState(n, rs);
    raw.advance(ready);
    n.inflight = null;
    this.answerReads(n);
    this.maybeSnapshot(n);
    this.observe(n);
  }

  private transmit(from: SimNode, m: Message): void {
    this.checker.observeSend(m, from, (index) => this.leaderTermAt(m, index));
    const to = this.byId.get(m.to);
    if (to === undefined) throw new Error(`${from.id} sent a message to unknown node ${m.to}`);
    this.sentByType[m.type]++;
    if (m.type === 'appendResponse' && m.reject) this.appendRejections++;
    const route = this.network.route(from.index, to.index);
    if (route.kind === 'dropped') {
      this.onDropped(from.index, from.generation, m, route.reason);
      return;
    }
    const delays = route.delays;
    for (let k = 0; k < delays.length; k++) {
      this.queue.push({
        kind: 'deliver',
        time: this.clock + delays[k]!,
        seq: 0,
        message: m,
        from: from.index,
        to: to.index,
        fromGen: from.generation,
        duplicate: k > 0,
      });
    }
  }

  /** The term at `index` in the log of the leader an append acknowledgement is addressed to, while it leads. */
  private leaderTermAt(m: Message, index: number): number | undefined {
    const leaderId = this.checker.leaderOf(m.term);
    if (leaderId === undefined || leaderId !== m.to) return undefined;
    const leader = this.byId.get(leaderId)!;
    if (!leader.up || leader.role !== 'leader' || leader.currentTerm !== m.term) return undefined;
    return leader.log.term(index);
  }

  private restoreSnapshot(n: SimNode, snapshot: Snapshot): void {
    const { index } = snapshot.meta;
    if (index < n.applied) {
      this.fail('apply-order', `${n.id} was handed a snapshot at ${index} after applying up to ${n.applied}`);
    }
    synchronous(n.stateMachine!.restore(snapshot.data, snapshot.meta), 'restore');
    n.applied = index;
    for (const [i, list] of n.proposals) {
      if (i > index) continue;
      n.proposals.delete(i);
      for (const p of list)
        p.onOutcome({ status: 'unknown', reason: `a snapshot at ${index} replaced the entry` });
    }
  }

  private apply(n: SimNode, entry: Entry): void {
    if (entry.index !== n.applied + 1) {
      this.fail(
        'apply-order',
        `${n.id} was handed entry ${entry.index} to apply after applying up to ${n.applied}`,
      );
    }
    let result: unknown = null;
    if (entry.type === 'normal') {
      result = synchronous(
        n.stateMachine!.apply({ index: entry.index, term: entry.term, data: entry.data }),
        'apply',
      );
      this.checker.observeApplyResult(n.id, entry.index, result);
    }
    n.applied = entry.index;
    const list = n.proposals.get(entry.index);
    if (list === undefined) return;
    n.proposals.delete(entry.index);
    for (const p of list) {
      p.onOutcome(
        p.term === entry.term
          ? { status: 'ok', result, index: entry.index }
          : { status: 'failed', code: 'PROPOSAL_DROPPED', leader: n.leader },
      );
    }
  }

  private onReadState(n: SimNode, rs: ReadState): void {
    const read = n.reads.get(rs.requestId);
    if (read === undefined) return;
    n.reads.delete(rs.requestId);
    if (!rs.ok) {
      read.onOutcome({ status: 'failed', code: rs.code, leader: rs.leader });
      return;
    }
    n.readsWaiting.push({ index: rs.index, read });
  }

  private answerReads(n: SimNode): void {
    if (n.readsWaiting.length === 0) return;
    const still: typeof n.readsWaiting = [];
    for (const w of n.readsWaiting) {
      if (w.index > n.applied) {
        still.push(w);
        continue;
      }
      const result = this.workload.read(n.stateMachine!, w.read.query);
      w.read.onOutcome({ status: 'ok', result, index: n.applied });
    }
    n.readsWaiting = still;
  }

  private maybeSnapshot(n: SimNode): void {
    const every = this.snapshotEveryEntries;
    if (every <= 0) return;
    const stored = n.storage.snapshot().meta.index;
    if (n.applied - stored < every) return;
    const data = synchronous(n.stateMachine!.snapshot(), 'snapshot');
    const snapshot: Snapshot = {
      meta: { index: n.applied, term: n.storage.term(n.applied), conf: n.storage.initialState().confState },
      data,
    };
    // MemoryStorage does its work before its promise settles; check that it did.
    n.storage.saveSnapshot(snapshot).catch(() => undefined);
    if (n.storage.snapshot() !== snapshot)
      throw new Error(`${n.id}: saving the snapshot at ${n.applied} failed`);
  }

  // ---------------------------------------------------------------------------------------------
  // Internals: failures

  private checkerClock(): { readonly now: number; readonly steps: number } {
    const sim = this;
    return {
      get now() {
        return sim.clock;
      },
      get steps() {
        return sim.stepCount;
      },
    };
  }

  private fail(code: 'apply-order', message: string): never {
    throw new InvariantViolation(code, message, this.clock, this.stepCount);
  }

  /** Runs `body`; anything it throws becomes this simulation's failure (an exception from the core is `core-error`). */
  private guard<T>(body: () => T): T {
    if (this.failure !== null) throw this.failure;
    try {
      return body();
    } catch (error) {
      const violation =
        error instanceof InvariantViolation
          ? error
          : new InvariantViolation(
              'core-error',
              `unexpected exception: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
              this.clock,
              this.stepCount,
              { cause: error },
            );
      this.failure = violation;
      throw violation;
    }
  }
}

/** Returns `value`, or throws if a state machine returned a Promise (the simulator needs synchronous ones). */
function synchronous<T>(value: T | Promise<T>, method: string): T {
  if (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { then?: unknown }).then === 'function'
  ) {
    throw new TypeError(
      `the state machine's ${method}() returned a Promise; under the simulator it must be synchronous`,
    );
  }
  return value as T;
}
