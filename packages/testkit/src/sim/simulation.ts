import {
  type ConfChangeOptions,
  type ConfState,
  type HardState,
  isMember,
  type MemberChange,
  MemoryStorage,
  type MessageType,
  type NodeId,
  RawNode,
  type Role,
} from '@tsraft/core';
import { MessageDelivery } from './message-delivery.js';
import { type NetworkProfile, RELIABLE_NETWORK, SimNetwork } from './network.js';
import { NodeApplier } from './node-applier.js';
import type { NodeRequest, RequestOutcome } from './node-request.js';
import { ReadyLoop } from './ready-loop.js';
import { createRegisterWorkload } from './register-workload.js';
import { SafetyChecker } from './safety-checker.js';
import { ShadowLog } from './shadow-log.js';
import type { CallEvent, SimEvent } from './sim-events.js';
import { type SimMembership, SimNode } from './sim-node.js';
import { SimRandom } from './sim-random.js';
import { SimScheduler } from './sim-scheduler.js';
import {
  DEFAULT_SIM_RAFT_SETTINGS,
  type DiskProfile,
  type SimRaftSettings,
  type SimulationOptions,
} from './simulation-options.js';
import { TraceRecorder } from './trace.js';
import { InvariantViolation } from './violation.js';
import type { SimWorkload } from './workload.js';

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
  /** `spare` (never started), `joined` (started), or `removed` (applied its own removal; stopped for good). */
  readonly membership: SimMembership;
  /** The configuration in force on the node: its core's when up, else the last one it handed out. */
  readonly conf: ConfState;
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

/** Trace codes of the simulation's own call events. */
const CODE_RESTART = 100;
const CODE_RESUME = 101;
const CODE_SHUTDOWN = 102;

/** The configuration of a node that has not been added yet: it votes nowhere, so it never campaigns. */
const EMPTY_CONF: ConfState = Object.freeze({ voters: [], learners: [] });

/**
 * A deterministic simulation of a Raft cluster: N real cores (`RawNode`) over in-memory stable storage and
 * a simulated network, driven by one event queue in virtual time and one seeded random generator. The same
 * options (and seed) replay the same run, event for event.
 *
 * Each node's `Ready` is handled as its contract says ({@link ReadyLoop}): messages go out at once; the
 * stable-storage write completes after a simulated disk delay (a crash before then loses it); only then are
 * `persistedMessages` sent, committed entries applied, read states answered and `advance` called; one Ready
 * in flight per node. Messages cross the network through {@link MessageDelivery}.
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
  /**
   * Every node id, in order (`n1`, `n2`, ...): the initial members first, then the spare ids (see
   * {@link SimulationOptions.spareNodes}), which start absent.
   */
  readonly nodeIds: readonly NodeId[];
  /** The configuration the cluster starts with: the first `nodes` ids as voters. */
  readonly initialConf: ConfState;
  /** How often a removed node checks whether it may stop (ms): each tick of the slowest node. */
  readonly removalCheckMs: number;
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

  private readonly scheduler = new SimScheduler();
  private readonly nodes: SimNode[];
  private readonly byId = new Map<NodeId, SimNode>();
  private readonly delivery: MessageDelivery;
  private readonly readyLoop: ReadyLoop;
  /** Removed nodes with a shutdown scheduled, and when it is due. */
  private readonly shutdownAt = new Map<NodeId, number>();
  private failure: InvariantViolation | null = null;
  private crashCount = 0;
  private restartCount = 0;

  constructor(options: SimulationOptions = {}) {
    this.seed = options.seed ?? 1;
    this.random = options.random ?? new SimRandom(this.seed);
    const members = options.nodes ?? 3;
    const spares = options.spareNodes ?? 0;
    if (!Number.isSafeInteger(members) || members < 1 || members > 64)
      throw new RangeError(`nodes must be in 1..64, got ${members}`);
    if (!Number.isSafeInteger(spares) || spares < 0 || members + spares > 64)
      throw new RangeError(`spareNodes must be >= 0 with nodes + spareNodes <= 64, got ${spares}`);
    const size = members + spares;
    this.nodeIds = Array.from({ length: size }, (_, i) => `n${i + 1}`);
    this.raft = { ...DEFAULT_SIM_RAFT_SETTINGS, ...options.raft };
    this.snapshotEveryEntries = options.snapshotEveryEntries ?? 0;
    this.workload = options.workload ?? createRegisterWorkload();
    this.network = new SimNetwork(size, { ...RELIABLE_NETWORK, ...options.network }, this.random);
    const conf: ConfState = { voters: this.nodeIds.slice(0, members), learners: [] };
    this.initialConf = conf;
    this.checker = new SafetyChecker(this.scheduler, conf);
    this.trace = new TraceRecorder(this.nodeIds, options.trace);
    const ticks = options.tickIntervalMs ?? 10;
    this.nodes = this.nodeIds.map((id, i) => {
      const interval = typeof ticks === 'number' ? ticks : (ticks[i] ?? 10);
      const storage = new MemoryStorage({ conf: i < members ? conf : EMPTY_CONF });
      const node = new SimNode(id, i, storage, interval, ShadowLog.fromStorage(storage));
      if (i >= members) node.membership = 'spare';
      this.byId.set(id, node);
      return node;
    });
    const slowestTick = Math.max(...this.nodes.map((n) => n.tickIntervalMs));
    this.removalCheckMs = slowestTick;
    this.delivery = new MessageDelivery(this.scheduler, this.random, this.network, this.nodes, this.byId);
    this.readyLoop = new ReadyLoop({
      scheduler: this.scheduler,
      random: this.random,
      checker: this.checker,
      trace: this.trace,
      delivery: this.delivery,
      applier: new NodeApplier(this.scheduler, this.checker, this.workload, this.snapshotEveryEntries),
      nodes: this.nodes,
      byId: this.byId,
      raft: this.raft,
      createRawNode: options.createRawNode ?? ((config) => new RawNode(config)),
      disk: { minDelayMs: 1, maxDelayMs: 3, ...options.disk },
    });
    // A removed node stops as the production driver's does (`RaftNode.whenStopped()` resolves with
    // `REMOVED`): once it does not lead (a removed leader first hands leadership over) and a leader released
    // it (`RawNode.released()`).
    this.readyLoop.onRemoved((id) => this.scheduleShutdown(id, this.removalCheckMs));
    this.readyLoop.onIdle((id) => this.shutdown(id));
    this.guard(() => {
      for (const node of this.nodes) if (node.membership === 'joined') this.readyLoop.start(node);
    });
  }

  /** Disk write latency; a new profile applies from the next write. */
  get disk(): DiskProfile {
    return this.readyLoop.disk;
  }

  set disk(profile: DiskProfile) {
    this.readyLoop.disk = profile;
  }

  // ---------------------------------------------------------------------------------------------
  // Running

  /** Virtual time, in ms. */
  get now(): number {
    return this.scheduler.now;
  }

  /** Events processed so far. */
  get steps(): number {
    return this.scheduler.steps;
  }

  /** Events waiting in the queue. */
  get pendingEvents(): number {
    return this.scheduler.pending;
  }

  /**
   * Processes the next event (one step) and runs every check it triggers.
   * Returns `false` when nothing is left to do.
   * @throws InvariantViolation when a checked property fails (and on every later call).
   */
  step(): boolean {
    if (this.failure !== null) throw this.failure;
    const event = this.scheduler.next();
    if (event === undefined) return false;
    this.trace.record(this.scheduler.now, this.scheduler.steps, event);
    this.guard(() => this.dispatch(event));
    return true;
  }

  /** Processes up to `count` events. Returns how many were processed. */
  runSteps(count: number): number {
    let done = 0;
    while (done < count && this.step()) done++;
    return done;
  }

  /** Runs until virtual time has advanced by `ms` (events due exactly then included). */
  runFor(ms: number): void {
    const until = this.scheduler.now + ms;
    for (;;) {
      const next = this.scheduler.peek();
      if (next === undefined || next.time > until) break;
      this.step();
    }
    this.scheduler.advanceTo(until);
  }

  /**
   * Runs until `predicate` holds (checked before the first step and after each one) or `maxMs` of virtual
   * time passed. Returns whether it held.
   */
  runUntil(predicate: () => boolean, maxMs: number): boolean {
    const until = this.scheduler.now + maxMs;
    if (predicate()) return true;
    for (;;) {
      const next = this.scheduler.peek();
      if (next === undefined || next.time > until) {
        this.scheduler.advanceTo(until);
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
      time: this.scheduler.now + delayMs,
      seq: 0,
      code,
      label,
      run,
      cancelled: false,
    };
    this.scheduler.push(event);
    return event;
  }

  /**
   * Calls `listener` whenever a node's role changes (after the step that changed it). Listeners may schedule
   * events but must not drive nodes directly.
   */
  onRoleChange(listener: (id: NodeId, role: Role, term: number) => void): void {
    this.readyLoop.onRoleChange(listener);
  }

  /**
   * Calls `listener` whenever a node is handed newly committed entries (`index` is the last of them).
   * Listeners may schedule events but must not drive nodes directly.
   */
  onCommit(listener: (id: NodeId, role: Role, index: number) => void): void {
    this.readyLoop.onCommit(listener);
  }

  /**
   * Calls `listener` when a node applies a configuration that no longer holds it (having been a member). It
   * is stopped for good once it does not lead and a leader released it (as the production driver does). Listeners may schedule events but must not drive nodes directly.
   */
  onRemoved(listener: (id: NodeId) => void): void {
    this.readyLoop.onRemoved(listener);
  }

  /** Adds a line of commentary to the trace. */
  note(text: string): void {
    this.trace.note(this.scheduler.now, this.scheduler.steps, text);
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
      membership: n.membership,
      conf: st?.conf ?? n.conf,
    };
  }

  /** Every node's status (spare ids included). */
  statuses(): SimNodeStatus[] {
    return this.nodeIds.map((id) => this.status(id));
  }

  /** Nodes started and not removed (up or down): the servers of the cluster, members or being added. */
  presentNodeIds(): NodeId[] {
    return this.nodes.filter((n) => n.membership === 'joined').map((n) => n.id);
  }

  /** Whether node `id` was started and not removed. */
  isPresent(id: NodeId): boolean {
    return this.node(id).membership === 'joined';
  }

  /** Ids never started yet (servers that could be added). */
  spareNodeIds(): NodeId[] {
    return this.nodes.filter((n) => n.membership === 'spare').map((n) => n.id);
  }

  /** The configuration in force on node `id` (see {@link SimNodeStatus.conf}). */
  conf(id: NodeId): ConfState {
    return this.status(id).conf;
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
      sent: this.delivery.sentByType(),
      delivered: this.delivery.delivered,
      dropped: this.delivery.dropped,
      appendRejections: this.delivery.appendRejections,
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
    this.stop(n);
    n.crashes++;
    this.crashCount++;
    this.note(n.membership === 'removed' ? `crash ${id} (removed, not yet stopped)` : `crash ${id}`);
    n.abandonRequests('the node crashed');
  }

  /** Schedules the shutdown of removed node `id` in `delayMs`, unless one is already due by then. */
  private scheduleShutdown(id: NodeId, delayMs: number): void {
    const due = this.scheduler.now + delayMs;
    const known = this.shutdownAt.get(id);
    if (known !== undefined && known <= due) return;
    this.shutdownAt.set(id, due);
    this.schedule(delayMs, CODE_SHUTDOWN, `shut down removed ${id}`, () => {
      if (this.shutdownAt.get(id) === due) this.shutdown(id);
    });
  }

  /**
   * Stops removed node `id` for good, unless the latest committed configuration holds it again.
   */
  private shutdown(id: NodeId): void {
    this.shutdownAt.delete(id);
    const latest = this.checker.confAt(Number.POSITIVE_INFINITY);
    const n = this.node(id);
    if (latest !== null && isMember(latest, id)) {
      n.membership = 'joined';
      return;
    }
    n.membership = 'removed';
    if (!n.up) {
      // Crashed before it stopped: it is restarted later, and decides then.
      this.scheduleShutdown(id, this.removalCheckMs);
      return;
    }
    // Still needed, like the production driver decides: leading (handing over), or not released by a leader
    // (a voter may still need its vote).
    if (n.role === 'leader' || !n.raw!.released()) {
      this.scheduleShutdown(id, this.removalCheckMs);
      return;
    }
    if (n.inflight !== null) {
      // Like the production driver, finish the Ready being written (it applies the removal) first.
      n.stopWhenIdle = true;
      return;
    }
    n.shutDown = true;
    this.stop(n);
    this.note(`${id} shut down (removed from the cluster)`);
    n.abandonRequests('the node was removed');
  }

  /** Drops everything volatile of node `n`. */
  private stop(n: SimNode): void {
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
    n.stopWhenIdle = false;
  }

  /**
   * Restarts a crashed node from its stable storage (state machine rebuilt from the stored snapshot). A
   * removed node that stopped by itself stays down (one that crashed before it stopped is restarted, as an
   * operator would); a spare one is not started (see {@link proposeConfChange}).
   */
  restart(id: NodeId): void {
    const n = this.node(id);
    if (n.up || n.membership === 'spare' || n.shutDown) return;
    this.restartCount++;
    this.note(`restart ${id}`);
    this.guard(() => this.readyLoop.start(n));
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
      event.time = this.scheduler.now;
      this.scheduler.push(event);
    }
    if (n.tickParked) {
      n.tickParked = false;
      this.readyLoop.scheduleTick(n, n.tickIntervalMs);
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
  // Membership

  /**
   * Proposes a membership change at node `id` now (`RawNode.proposeConfChange`). A spare node named by an
   * `addVoter` or `addLearner` change is started (with empty storage and no configuration) once the leader
   * accepted the change, so the leader can reach it. The handle's outcome is `ok` once the entry is applied
   * at `id`, `failed` with the refusal's code (`NOT_LEADER`, `CONF_CHANGE_IN_PROGRESS`, ...) or when another
   * entry took its place, `unknown` if `id` crashed first.
   */
  proposeConfChange(
    id: NodeId,
    changes: readonly MemberChange[],
    options: ConfChangeOptions = {},
  ): RequestHandle {
    const n = this.node(id);
    const handle: {
      node: NodeId;
      index: number | null;
      term: number | null;
      outcome: RequestOutcome | null;
    } = { node: id, index: null, term: null, outcome: null };
    if (!n.up) {
      handle.outcome = { status: 'unknown', reason: 'the node is down' };
      return handle;
    }
    this.guard(() => {
      const ticket = this.readyLoop.submitConfChange(n, changes, options, (outcome) => {
        handle.outcome = outcome;
      });
      const what = changes.map((c) => `${c.type} ${c.nodeId}`).join(' + ') || 'nothing';
      if (ticket === null) {
        const o = handle.outcome;
        this.note(`${id} refuses membership change ${what}${o?.status === 'failed' ? `: ${o.code}` : ''}`);
        return;
      }
      handle.index = ticket.index;
      handle.term = ticket.term;
      this.note(`${id} proposes membership change ${what} at index ${ticket.index}`);
      for (const change of changes) {
        if (change.type === 'removeNode') continue;
        const added = this.byId.get(change.nodeId);
        if (added?.membership !== 'spare') continue;
        added.membership = 'joined';
        this.note(`start ${added.id} (empty, to be added)`);
        this.readyLoop.start(added);
      }
    });
    return handle;
  }

  // ---------------------------------------------------------------------------------------------
  // Requests

  /**
   * Proposes `command` at node `id` now (no client network). The handle reports the outcome: the state
   * machine's result once the entry is applied there, `failed` if it was refused or replaced, `unknown` if the
   * node crashed first.
   */
  propose(id: NodeId, command: Uint8Array): RequestHandle {
    return this.submitNow(id, (onOutcome) => ({ kind: 'propose', command, onOutcome }));
  }

  /** Makes a linearizable read at node `id` now; the outcome's `result` is the workload's answer to `query`. */
  read(id: NodeId, query: unknown): RequestHandle {
    return this.submitNow(id, (onOutcome) => ({ kind: 'read', query, onOutcome }));
  }

  /** Delivers `request` to node `id` after `delayMs` (a client's request crossing the client network). */
  submit(id: NodeId, request: NodeRequest, delayMs: number): void {
    this.scheduler.push({
      kind: 'request',
      time: this.scheduler.now + delayMs,
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
      this.readyLoop.afterInput(n);
    });
  }

  /** Asks leader `from` to hand leadership to `to`. */
  transferLeadership(from: NodeId, to: NodeId): void {
    const n = this.node(from);
    if (n.raw === null) return;
    this.guard(() => {
      n.raw!.transferLeadership(to);
      this.readyLoop.afterInput(n);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Internals

  private node(id: NodeId): SimNode {
    const n = this.byId.get(id);
    if (n === undefined) throw new RangeError(`no node ${id} (nodes: ${this.nodeIds.join(', ')})`);
    return n;
  }

  /**
   * Hands the request `build` makes to node `id` now and returns its handle, which the request's outcome
   * updates. A node that is down settles it as `unknown` at once.
   */
  private submitNow(
    id: NodeId,
    build: (onOutcome: (outcome: RequestOutcome) => void) => NodeRequest,
  ): RequestHandle {
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
      const request = build((outcome) => {
        handle.outcome = outcome;
      });
      const ticket = this.readyLoop.submit(n, request);
      if (ticket !== null) {
        handle.index = ticket.index;
        handle.term = ticket.term;
      }
    });
    return handle;
  }

  private dispatch(event: SimEvent): void {
    if (event.kind === 'call') event.run();
    else this.readyLoop.handle(event);
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
              this.scheduler.now,
              this.scheduler.steps,
              { cause: error },
            );
      this.failure = violation;
      throw violation;
    }
  }
}
