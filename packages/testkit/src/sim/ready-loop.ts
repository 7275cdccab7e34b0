import {
  type ConfChangeOptions,
  type ConfState,
  decodeConfChange,
  isMember,
  type MemberChange,
  type Message,
  type NodeId,
  RaftError,
  type Ready,
  type Role,
} from '@tsraft/core';
import type { MessageDelivery } from './message-delivery.js';
import type { NodeApplier } from './node-applier.js';
import type { NodeRequest, RequestOutcome } from './node-request.js';
import type { SafetyChecker } from './safety-checker.js';
import { ShadowLog } from './shadow-log.js';
import type { CallEvent, SimEvent } from './sim-events.js';
import type { SimNode } from './sim-node.js';
import type { SimRandom } from './sim-random.js';
import type { SimScheduler } from './sim-scheduler.js';
import type { DiskProfile, RawNodeFactory, SimRaftSettings } from './simulation-options.js';
import type { TraceRecorder } from './trace.js';

/** What a {@link ReadyLoop} works with: the parts of the simulation it shares. */
export interface ReadyLoopParts {
  readonly scheduler: SimScheduler;
  readonly random: SimRandom;
  readonly checker: SafetyChecker;
  readonly trace: TraceRecorder;
  readonly delivery: MessageDelivery;
  readonly applier: NodeApplier;
  /** Every node, by position (events name nodes by position). */
  readonly nodes: readonly SimNode[];
  readonly byId: ReadonlyMap<NodeId, SimNode>;
  readonly raft: SimRaftSettings;
  readonly createRawNode: RawNodeFactory;
  readonly disk: DiskProfile;
}

/**
 * The simulator's deterministic driver of each node's core (`RawNode`): it hands the core its inputs (ticks,
 * messages, requests, transport reports) and handles every `Ready` as the contract in
 * `packages/core/src/ready.ts` says. `messages` leave as soon as the Ready is taken; its snapshot, entries and
 * hard state are written to stable storage only after a simulated disk delay (a crash before then loses the
 * write); then `persistedMessages` leave, the snapshot and committed entries are applied, read states are
 * answered and `advance` is called. What each step shows of the node is handed to the {@link SafetyChecker}.
 *
 * Invariant: a node has at most one Ready in flight (`SimNode.inflight`); no Ready is taken while it has one.
 */
export class ReadyLoop {
  /** Disk write latency; may be replaced at any time (it applies to the next write). */
  disk: DiskProfile;

  private readonly scheduler: SimScheduler;
  private readonly random: SimRandom;
  private readonly checker: SafetyChecker;
  private readonly trace: TraceRecorder;
  private readonly delivery: MessageDelivery;
  private readonly applier: NodeApplier;
  private readonly nodes: readonly SimNode[];
  private readonly byId: ReadonlyMap<NodeId, SimNode>;
  private readonly raft: SimRaftSettings;
  private readonly createRawNode: RawNodeFactory;
  private readonly roleListeners: ((id: NodeId, role: Role, term: number) => void)[] = [];
  private readonly commitListeners: ((id: NodeId, role: Role, index: number) => void)[] = [];
  private readonly removalListeners: ((id: NodeId) => void)[] = [];
  private readonly idleListeners: ((id: NodeId) => void)[] = [];

  constructor(parts: ReadyLoopParts) {
    this.scheduler = parts.scheduler;
    this.random = parts.random;
    this.checker = parts.checker;
    this.trace = parts.trace;
    this.delivery = parts.delivery;
    this.applier = parts.applier;
    this.nodes = parts.nodes;
    this.byId = parts.byId;
    this.raft = parts.raft;
    this.createRawNode = parts.createRawNode;
    this.disk = parts.disk;
  }

  /** Calls `listener` whenever a node's role changes (seen after the input that changed it). */
  onRoleChange(listener: (id: NodeId, role: Role, term: number) => void): void {
    this.roleListeners.push(listener);
  }

  /** Calls `listener` whenever a node is handed newly committed entries (`index` is the last of them). */
  onCommit(listener: (id: NodeId, role: Role, index: number) => void): void {
    this.commitListeners.push(listener);
  }

  /**
   * Calls `listener` when a node hands out a configuration that no longer holds it, after one that did: it
   * was removed from the cluster.
   */
  onRemoved(listener: (id: NodeId) => void): void {
    this.removalListeners.push(listener);
  }

  /** Calls `listener` when node `n` finished its Ready in flight while `n.stopWhenIdle` is set. */
  onIdle(listener: (id: NodeId) => void): void {
    this.idleListeners.push(listener);
  }

  /**
   * Starts a new incarnation of node `n` from its stable storage: a new core, a state machine rebuilt from the
   * stored snapshot, fresh volatile state, and its tick timer.
   * @throws RaftError when the new core's term or vote differs from what stable storage holds.
   */
  start(n: SimNode): void {
    n.generation++;
    const snap = n.storage.snapshot();
    const sm = this.applier.createStateMachine(snap);
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
    n.stopWhenIdle = false;
    n.completeness = null;
    n.leaderTermAtLastReady = 0;
    n.log = ShadowLog.fromStorage(n.storage);
    n.conf = snap.meta.conf;
    const st = n.raw.status();
    this.checker.checkNodeConf(n.id, n.conf, st.conf, null, false);
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

  /** Schedules node `n`'s next tick `delayMs` from now (for its current incarnation). */
  scheduleTick(n: SimNode, delayMs: number): void {
    this.scheduler.push({
      kind: 'tick',
      time: this.scheduler.now + delayMs,
      seq: 0,
      node: n.index,
      gen: n.generation,
    });
  }

  /**
   * Handles an event addressed to a node. Events of an earlier incarnation are ignored; a paused node keeps
   * them in its backlog (a tick only marks the timer as due).
   */
  handle(event: Exclude<SimEvent, CallEvent>): void {
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
      case 'deliver': {
        const n = this.delivery.arrive(event);
        if (n === null) return;
        n.raw!.step(event.message);
        this.afterInput(n);
        return;
      }
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
        this.submit(n, event.request);
        return;
      }
    }
  }

  /**
   * Hands `request` to the core of running node `n` now. Returns where a proposal landed in the log, or `null`
   * for a read or a refused proposal (whose outcome is then already settled).
   */
  submit(n: SimNode, request: NodeRequest): { index: number; term: number } | null {
    const raw = n.raw!;
    if (request.kind === 'read') {
      const id = this.applier.trackRead(n, { query: request.query, onOutcome: request.onOutcome });
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
    this.applier.trackProposal(n, { index: ticket.index, term: ticket.term, onOutcome: request.onOutcome });
    this.afterInput(n);
    return ticket;
  }

  /**
   * Proposes a membership change at running node `n` now. Returns where the config entry landed, or `null`
   * when the core refused it (`onOutcome` is then already settled with the refusal). Otherwise `onOutcome`
   * is settled like a proposal's: `ok` once the entry is applied at `n`.
   */
  submitConfChange(
    n: SimNode,
    changes: readonly MemberChange[],
    options: ConfChangeOptions,
    onOutcome: (outcome: RequestOutcome) => void,
  ): { index: number; term: number } | null {
    let ticket: { index: number; term: number };
    try {
      ticket = n.raw!.proposeConfChange(changes, options);
    } catch (error) {
      if (!(error instanceof RaftError)) throw error;
      onOutcome({ status: 'failed', code: error.code, leader: error.leader });
      return null;
    }
    this.applier.trackProposal(n, { index: ticket.index, term: ticket.term, onOutcome });
    this.afterInput(n);
    return ticket;
  }

  /** After node `n` handled an input: observe its role and term, then hand out Readys. */
  afterInput(n: SimNode): void {
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
      this.trace.note(this.scheduler.now, this.scheduler.steps, `${n.id} is ${st.role} in term ${term}`);
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
      // Taking a Ready can change the role: a leader that applies its own removal hands over and steps down.
      this.observe(n);
      if (ready.hardState !== null || ready.entries.length > 0 || ready.snapshot !== null) {
        n.inflight = ready;
        const delay = this.random.int(this.disk.minDelayMs, this.disk.maxDelayMs);
        this.scheduler.push({
          kind: 'persist',
          time: this.scheduler.now + delay,
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
    this.takeConf(n, ready);
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

  /**
   * Follows the configuration through a Ready's snapshot and committed config entries, checks that the core
   * has it in force and reports it, and tells the removal listeners when it no longer holds the node.
   */
  private takeConf(n: SimNode, ready: Ready): void {
    let conf: ConfState = n.conf;
    let changed = false;
    let member = isMember(conf, n.id);
    let wasMember = member;
    if (ready.snapshot !== null) {
      conf = ready.snapshot.meta.conf;
      changed = true;
      member = isMember(conf, n.id);
      wasMember ||= member;
    }
    for (const entry of ready.committedEntries) {
      if (entry.type !== 'config') continue;
      conf = decodeConfChange(entry.data).conf;
      changed = true;
      member = isMember(conf, n.id);
      wasMember ||= member;
    }
    if (!changed && ready.confState === null) return;
    this.checker.checkNodeConf(n.id, conf, n.raw!.status().conf, ready.confState, changed);
    n.conf = conf;
    if (wasMember && !member && n.membership === 'joined') {
      n.membership = 'removed';
      this.trace.note(this.scheduler.now, this.scheduler.steps, `${n.id} is removed from the cluster`);
      for (const listener of this.removalListeners) listener(n.id);
    }
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
    if (ready.snapshot !== null) this.applier.restoreSnapshot(n, ready.snapshot);
    for (const entry of ready.committedEntries) this.applier.apply(n, entry);
    for (const rs of ready.readStates) this.applier.onReadState(n, rs);
    raw.advance(ready);
    n.inflight = null;
    this.applier.answerReads(n);
    this.applier.maybeSnapshot(n);
    this.observe(n);
    if (n.stopWhenIdle) for (const listener of this.idleListeners) listener(n.id);
  }

  /** Checks `m` as it leaves node `from`, then hands it to the network. */
  private transmit(from: SimNode, m: Message): void {
    this.checker.observeSend(m, from, (index) => this.leaderTermAt(m, index));
    this.delivery.send(from, m);
  }

  /** The term at `index` in the log of the leader an append acknowledgement is addressed to, while it leads. */
  private leaderTermAt(m: Message, index: number): number | undefined {
    const leaderId = this.checker.leaderOf(m.term);
    if (leaderId === undefined || leaderId !== m.to) return undefined;
    const leader = this.byId.get(leaderId)!;
    if (!leader.up || leader.role !== 'leader' || leader.currentTerm !== m.term) return undefined;
    return leader.log.term(index);
  }
}
