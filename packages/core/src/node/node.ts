import { isMember } from '../conf-change.js';
import { decodeConfChange } from '../conf-change-codec.js';
import type { ConfChangeOptions, ConfState, MemberChange } from '../conf-state.js';
import { resolveRaftConfig } from '../config.js';
import type { Entry, NodeId } from '../entry.js';
import { RaftError, type RaftErrorCode } from '../errors.js';
import type { Message } from '../message.js';
import { RawNode } from '../raw-node.js';
import type { Ready, SoftState } from '../ready.js';
import type { SnapshotChunkSource } from '../snapshot.js';
import type { BasicStatus, RaftStatus } from '../status.js';
import { logTo, type NodeLogger, type NodeLogLevel } from './node-logger.js';
import { type NodeOptions, type ResolvedNodeOptions, resolveNodeOptions } from './node-options.js';
import { type OperationOptions, type OperationWording, runOperation, type Settler } from './operation.js';
import { PendingProposals } from './pending-proposals.js';
import { PendingReads } from './pending-reads.js';
import type { TransportHandler } from './transport.js';

/** A point-in-time view of a node: its core's status plus the driver's own state. */
export interface NodeStatus extends RaftStatus {
  /** Whether the node stopped: `close()` was called, or a fault crash-stopped it (then `error` says why). */
  readonly stopped: boolean;
  /** The fault that crash-stopped the node (`STORAGE_FAILED`, or `STOPPED` for a failing state machine); else `null`. */
  readonly error: RaftError | null;
}

/** Called when the leader this node knows of changes; `leader` is `null` while none is known. */
export type LeaderChangeListener = (leader: NodeId | null, term: number) => void;

/** Called with the membership after each applied configuration change, and the index it applied at. */
export type MembershipListener = (conf: ConfState, index: number) => void;

/** Options of {@link RaftNode.changeMembership}. */
export interface MembershipChangeOptions extends OperationOptions, ConfChangeOptions {}

/**
 * A running Raft node: the pure core (`RawNode`) driven by a tick timer, a {@link Transport}, a
 * {@link LogStorage} and a {@link StateMachine}. Made by {@link createNode}.
 *
 * It holds no Raft logic: it handles each `Ready` in the order its contract gives, matches applied
 * entries to the proposals made here, and completes reads once their read index is applied.
 */
export interface RaftNode<Result = unknown> {
  /** This node's id. */
  readonly id: NodeId;
  /**
   * Restores the state machine from the stored snapshot if it is behind it, starts the transport and
   * the tick timer. A started node keeps the process alive (like a listening server) until `close()`.
   * @throws RaftError `STOPPED` once the node is closed.
   */
  start(): Promise<void>;
  /**
   * Replicates `data` and resolves with the state machine's result for exactly that entry, once it is
   * applied here. Only the leader accepts proposals.
   * @throws RaftError `NOT_LEADER` (naming the leader if known), `TRANSFER_IN_PROGRESS`,
   * `TOO_MANY_UNCOMMITTED` at once; `PROPOSAL_DROPPED` when a newer leader replaced the entry (it was not
   * applied); `TIMEOUT` / `ABORTED` (it may or may not have been applied); `STOPPED` / `STORAGE_FAILED`.
   */
  propose(data: Uint8Array, options?: OperationOptions): Promise<Result>;
  /**
   * Resolves once the leader confirmed its leadership for a read index (ReadIndex, thesis §6.4) and this
   * node's state machine has applied up to it: a read of the local state machine after that is
   * linearizable. Works on followers (the request goes to the leader). Retried each election timeout
   * while unanswered. With `lease`, a leader in its lease skips the heartbeat round (see
   * {@link ReadOptions.lease}).
   * @throws RaftError the core's refusal (e.g. `NOT_LEADER` when no leader is known), `TIMEOUT`,
   * `ABORTED`, `STOPPED`, `STORAGE_FAILED`.
   */
  read(options?: ReadOptions): Promise<void>;
  /**
   * Asks this node, the leader, to hand leadership to `to` (thesis §3.10); watch {@link onLeaderChange}
   * for the outcome. Proposals fail with `TRANSFER_IN_PROGRESS` meanwhile; an election timeout ends the attempt.
   * @throws RaftError `NOT_LEADER` on a follower, `INVALID_ARGUMENT` when `to` is not a voter, `STOPPED`.
   */
  transferLeadership(to: NodeId): void;
  /**
   * Changes the membership (thesis §4) and resolves with the configuration in force once the change is
   * applied here. Only the leader accepts changes, one at a time. Changing the voters by more than one node
   * at once (such as replacing a voter: add one, remove another) goes through a joint configuration
   * (§4.3), which the leader then leaves by itself; the result is the joint configuration.
   * Removing the leader is allowed: it keeps leading until the change is applied, then hands leadership to
   * the most up-to-date voter and stops (see {@link whenStopped}).
   * @throws RaftError `NOT_LEADER`, `TRANSFER_IN_PROGRESS`, `CONF_CHANGE_IN_PROGRESS` (retry once the
   * previous change is applied), `CONFIG_MISMATCH` (`expectedConfigId` is stale), `INVALID_ARGUMENT`;
   * `PROPOSAL_DROPPED`, `TIMEOUT`, `ABORTED`, `STOPPED` as for {@link propose}.
   */
  changeMembership(changes: readonly MemberChange[], options?: MembershipChangeOptions): Promise<ConfState>;
  /**
   * Calls `listener` after each membership change this node applies (from a config entry or a snapshot);
   * returns a function that unsubscribes it. `status().conf` is the membership in force.
   */
  onMembershipChange(listener: MembershipListener): () => void;
  /** Starts an election now instead of waiting for the election timeout. */
  campaign(): void;
  /** A snapshot of the node's state. */
  status(): NodeStatus;
  /** Role, leader, term and commit index, cheaply (no per-member progress): for request paths. */
  basicStatus(): BasicStatus;
  /** Calls `listener` on each change of the known leader; returns a function that unsubscribes it. */
  onLeaderChange(listener: LeaderChangeListener): () => void;
  /**
   * Resolves once the node stops: with `null` after `close()`, with the fault after a crash-stop
   * (`STORAGE_FAILED`, or `STOPPED` for a failing state machine or core), or with `REMOVED` once this node
   * applied a configuration without it and a leader released it (no voter can need its vote any more; a
   * removed leader first hands leadership over). Never rejects.
   */
  whenStopped(): Promise<RaftError | null>;
  /**
   * Stops the node: stops the timer, rejects every waiting operation with `STOPPED`, waits for the
   * `Ready` in progress, then closes the transport and the storage. Idempotent.
   */
  close(): Promise<void>;
}

/** Options of {@link RaftNode.read}. */
export interface ReadOptions extends OperationOptions {
  /**
   * Lets a leader whose lease holds answer from its commit index without confirming its leadership by a
   * heartbeat round (thesis §6.4.1): faster, and linearizable only while clocks advance at about the same
   * rate and messages are not delayed by a large part of an election timeout. Elsewhere (followers, no
   * lease, check-quorum off) the read is an ordinary linearizable read. Default false.
   */
  readonly lease?: boolean;
}

/** A proposal held by the driver until the core takes it (proposal batching off). */
interface QueuedProposal<Result> {
  readonly data: Uint8Array;
  readonly settler: Settler<Result>;
  /** Forgets it once handed to the core; `null` while still queued. */
  forget: (() => void) | null;
}

const PROPOSAL: OperationWording = { noun: 'proposal', outcome: '; it may or may not have been applied' };
const READ: OperationWording = { noun: 'read', outcome: '' };
/** Ready writes allowed in flight at once; more would only queue in the storage. */
const MAX_WRITES_IN_FLIGHT = 4;
const CONF_CHANGE: OperationWording = {
  noun: 'membership change',
  outcome: '; it may or may not have been applied',
};

/**
 * Creates a node from its storage, transport and state machine. Nothing runs until `start()`.
 * @throws RaftError `INVALID_CONFIG` when an option is out of range.
 *
 * @example
 * ```ts
 * const node = createNode({ id: 'n1', storage, transport, stateMachine, tickIntervalMs: 50 });
 * await node.start();
 * const result = await node.propose(new TextEncoder().encode('set x 1'), { timeoutMs: 5000 });
 * ```
 */
export function createNode<Result = unknown>(options: NodeOptions<Result>): RaftNode<Result> {
  return new NodeDriver(resolveNodeOptions(options));
}

/** The driver behind {@link RaftNode}. One `Ready` is in progress at a time (`loop`). */
class NodeDriver<Result> implements RaftNode<Result> {
  readonly id: NodeId;
  private readonly opts: ResolvedNodeOptions<Result>;
  private readonly raw: RawNode;
  private readonly logger: NodeLogger;
  /** Ticks without an answer after which a read's ReadIndex request is made again. */
  private readonly readRetryTicks: number;
  private readonly proposals = new PendingProposals<Result>();
  private readonly reads = new PendingReads();
  private readonly listeners = new Set<LeaderChangeListener>();
  private readonly confProposals = new PendingProposals<ConfState>('config');
  private readonly membershipListeners = new Set<MembershipListener>();
  /** The membership as of `applied`: stored with snapshots taken here. */
  private appliedConf: ConfState;
  /** Whether the configuration this node applied last removed it. */
  private removed = false;
  /** Whether the state machine must be restored from the stored snapshot on start. */
  private restoreOnStart: boolean;
  /** Index of the last entry the state machine applied. */
  private applied: number;
  /** Index of the latest snapshot in storage (taken here or installed from the leader). */
  private snapshotIndex: number;
  /** Bytes of command data applied since the latest snapshot (for `snapshotIntervalBytes`). */
  private bytesSinceSnapshot = 0;
  /** Peers a snapshot was sent to, whose delivery failure must be reported to the core. */
  private readonly snapshotsInFlight = new Set<NodeId>();
  private tickCount = 0;
  private leader: NodeId | null = null;
  private ticker: ReturnType<typeof setInterval> | undefined;
  /** The Ready loop in progress, if any. Invariant: at most one runs. */
  private loop: Promise<void> | null = null;
  /** Settles once every write started so far is durable and reported to the core (or failed). */
  private lastWrite: Promise<void> = Promise.resolve();
  /** Settles once at least one write in flight is reported. */
  private oldestWrite: Promise<void> = Promise.resolve();
  private writesInFlight = 0;
  private starting: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  private running = false;
  private crashed: RaftError | null = null;
  private readonly stoppedWaiters: ((reason: RaftError | null) => void)[] = [];
  /** With `proposalBatching` off: proposals waiting to be handed to the core, one per Ready. */
  private readonly unbatched: QueuedProposal<Result>[] = [];
  private stopReason: { readonly error: RaftError | null } | null = null;

  constructor(opts: ResolvedNodeOptions<Result>) {
    this.opts = opts;
    this.id = opts.raft.id;
    this.logger = opts.logger;
    this.readRetryTicks = resolveRaftConfig(opts.raft).electionTicks;
    const requested = opts.raft.applied ?? 0;
    const snapshotIndex = opts.storage.snapshot().meta.index;
    this.restoreOnStart = requested < snapshotIndex;
    this.applied = Math.max(requested, snapshotIndex);
    this.snapshotIndex = snapshotIndex;
    this.raw = new RawNode({ ...opts.raft, applied: this.applied });
    this.appliedConf = this.raw.status().conf;
    // Restarted after its removal: it still waits for a release (a leader answers its vote requests).
    this.removed = this.appliedConf.voters.length > 0 && !isMember(this.appliedConf, this.id);
  }

  start(): Promise<void> {
    if (this.closing !== null || this.crashed !== null) return Promise.reject(this.stoppedError());
    this.starting ??= this.doStart();
    return this.starting;
  }

  propose(data: Uint8Array, options: OperationOptions = {}): Promise<Result> {
    if (!this.accepting()) return Promise.reject(this.stoppedError());
    if (!this.opts.proposalBatching) {
      return runOperation<Result>(options, PROPOSAL, (settler) => {
        const queued: QueuedProposal<Result> = { data, settler, forget: null };
        this.unbatched.push(queued);
        this.scheduleLoop();
        return () => {
          const at = this.unbatched.indexOf(queued);
          if (at >= 0) this.unbatched.splice(at, 1);
          queued.forget?.();
        };
      });
    }
    return runOperation<Result>(options, PROPOSAL, (settler) => {
      const ticket = this.raw.propose(data);
      this.proposals.add(ticket, settler);
      this.scheduleLoop();
      return () => this.proposals.forget(ticket, settler);
    });
  }

  /** With batching off: hands the core the next waiting proposal, so that each Ready carries at most one. */
  private releaseOneProposal(): void {
    const next = this.unbatched.shift();
    if (next === undefined || next.settler.settled) return;
    try {
      const ticket = this.raw.propose(next.data);
      this.proposals.add(ticket, next.settler);
      next.forget = () => this.proposals.forget(ticket, next.settler);
    } catch (error) {
      next.settler.reject(RaftError.from(error, 'UNAVAILABLE'));
    }
  }

  read(options: ReadOptions = {}): Promise<void> {
    if (!this.accepting()) return Promise.reject(this.stoppedError());
    return runOperation<void>(options, READ, (settler) => {
      const read = this.reads.add(settler, this.tickCount);
      this.raw.readIndex(read.requestId, { lease: options.lease === true });
      this.scheduleLoop();
      return () => this.reads.forget(read);
    });
  }

  transferLeadership(to: NodeId): void {
    if (!this.accepting()) throw this.stoppedError();
    this.raw.transferLeadership(to);
    this.scheduleLoop();
  }

  changeMembership(
    changes: readonly MemberChange[],
    options: MembershipChangeOptions = {},
  ): Promise<ConfState> {
    if (!this.accepting()) return Promise.reject(this.stoppedError());
    return runOperation<ConfState>(options, CONF_CHANGE, (settler) => {
      const confOptions =
        options.expectedConfigId === undefined ? {} : { expectedConfigId: options.expectedConfigId };
      const ticket = this.raw.proposeConfChange(changes, confOptions);
      this.confProposals.add(ticket, settler);
      this.scheduleLoop();
      return () => this.confProposals.forget(ticket, settler);
    });
  }

  onMembershipChange(listener: MembershipListener): () => void {
    const entry: MembershipListener = (conf, index) => listener(conf, index);
    this.membershipListeners.add(entry);
    return () => {
      this.membershipListeners.delete(entry);
    };
  }

  campaign(): void {
    if (!this.accepting()) throw this.stoppedError();
    this.raw.campaign();
    this.scheduleLoop();
  }

  status(): NodeStatus {
    return {
      ...this.raw.status(),
      stopped: this.closing !== null || this.crashed !== null,
      error: this.crashed,
    };
  }

  basicStatus(): BasicStatus {
    return this.raw.basicStatus();
  }

  onLeaderChange(listener: LeaderChangeListener): () => void {
    // Wrapped so the same function can subscribe twice and each unsubscribe removes one.
    const entry: LeaderChangeListener = (leader, term) => listener(leader, term);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  whenStopped(): Promise<RaftError | null> {
    if (this.stopReason !== null) return Promise.resolve(this.stopReason.error);
    return new Promise((resolve) => this.stoppedWaiters.push(resolve));
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  /** Settles {@link whenStopped} once. */
  private noteStopped(error: RaftError | null): void {
    if (this.stopReason !== null) return;
    this.stopReason = { error };
    for (const resolve of this.stoppedWaiters.splice(0)) resolve(error);
  }

  // --- lifecycle ---------------------------------------------------------------------------------

  private async doStart(): Promise<void> {
    const { storage, stateMachine, transport, tickIntervalMs } = this.opts;
    if (this.restoreOnStart) {
      const snapshot = storage.snapshot();
      this.log('info', 'restoring the state machine from the stored snapshot', {
        index: snapshot.meta.index,
      });
      await stateMachine.restore(snapshot.data, snapshot.meta);
      this.restoreOnStart = false;
    }
    if (this.closing !== null) throw this.stoppedError();
    const handler: TransportHandler = {
      onMessage: (message) => this.onMessage(message),
      onUnreachable: (peer) => this.onUnreachable(peer),
    };
    this.running = true;
    try {
      await transport.start(handler);
    } catch (error) {
      this.running = false;
      throw RaftError.from(error, 'UNAVAILABLE');
    }
    if (!this.accepting()) throw this.stoppedError();
    this.ticker = setInterval(() => this.onTick(), tickIntervalMs);
    this.log('info', 'node started', { applied: this.applied, tickIntervalMs });
    this.scheduleLoop();
  }

  private async doClose(): Promise<void> {
    this.running = false;
    this.stopTicker();
    if (this.crashed === null) {
      const error = new RaftError('STOPPED', `node ${this.id} is closed`);
      for (const queued of this.unbatched.splice(0)) queued.settler.reject(error);
      this.proposals.rejectAll(error);
      this.confProposals.rejectAll(error);
      this.reads.rejectAll(error);
    }
    await this.starting?.catch(() => {});
    await this.loop;
    await this.lastWrite;
    await this.closeQuietly('transport', () => this.opts.transport.close());
    await this.closeQuietly('storage', () => this.opts.storage.close());
    this.log('info', 'node closed');
    this.noteStopped(this.crashed);
  }

  /**
   * Stops the node after a fault it must not carry on from: nothing more is sent, persisted or applied,
   * and every waiting operation fails with `error`.
   */
  private crash(code: RaftErrorCode, message: string, cause: unknown): void {
    if (this.crashed !== null || this.closing !== null) return;
    const error = new RaftError(code, message, { cause });
    this.crashed = error;
    this.running = false;
    this.stopTicker();
    if (code === 'REMOVED') this.log('info', `node stopped: ${message}`);
    else this.log('error', `node crash-stopped: ${message}`, { code, error: cause });
    for (const queued of this.unbatched.splice(0)) queued.settler.reject(error);
    this.proposals.rejectAll(error);
    this.confProposals.rejectAll(error);
    this.reads.rejectAll(error);
    this.noteStopped(error);
    void this.closeQuietly('transport', () => this.opts.transport.close());
  }

  private stopTicker(): void {
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.ticker = undefined;
  }

  private async closeQuietly(what: string, close: () => Promise<void>): Promise<void> {
    try {
      await close();
    } catch (error) {
      this.log('warn', `closing the ${what} failed`, { error });
    }
  }

  /** Whether the node takes requests: not closed and not crashed (it may not be started yet). */
  private accepting(): boolean {
    return this.closing === null && this.crashed === null;
  }

  private stoppedError(): RaftError {
    return this.crashed ?? new RaftError('STOPPED', `node ${this.id} is closed`);
  }

  // --- inputs ------------------------------------------------------------------------------------

  private onTick(): void {
    if (!this.running) return;
    this.tickCount++;
    this.raw.tick();
    if (this.removed) this.maybeStopRemoved();
    for (const read of this.reads.maybeRetry(this.tickCount, this.readRetryTicks)) {
      this.log('debug', 'retrying an unanswered read index request', { requestId: read.requestId });
      this.raw.readIndex(read.requestId);
    }
    this.scheduleLoop();
  }

  private onMessage(message: Message): void {
    if (!this.running) return;
    try {
      this.raw.step(message);
    } catch (error) {
      if (error instanceof RaftError && error.code === 'INVALID_ARGUMENT') {
        this.log('warn', 'dropped a malformed message', { from: message?.from, type: message?.type, error });
        return;
      }
      this.crash('STOPPED', 'the core failed to step a message', error);
      return;
    }
    this.scheduleLoop();
  }

  private onUnreachable(peer: NodeId): void {
    if (!this.running) return;
    this.raw.reportUnreachable(peer);
    if (this.snapshotsInFlight.delete(peer)) this.raw.reportSnapshot(peer, false);
    this.scheduleLoop();
  }

  // --- the Ready loop ----------------------------------------------------------------------------

  /** Starts the Ready loop on the next microtask unless one is running: inputs made meanwhile coalesce. */
  private scheduleLoop(): void {
    if (this.loop !== null || !this.running) return;
    this.loop = Promise.resolve().then(() => this.runLoop());
  }

  private async runLoop(): Promise<void> {
    try {
      for (;;) {
        // Batching off: feed proposals until one is accepted (it makes a Ready), one per iteration.
        while (this.running && this.unbatched.length > 0 && !this.raw.hasReady()) this.releaseOneProposal();
        if (!this.running || !this.raw.hasReady()) break;
        // Bound the writes in flight; the storage joins those waiting into one sync anyway.
        if (this.writesInFlight >= MAX_WRITES_IN_FLIGHT) await this.oldestWrite;
        if (!this.running || !this.raw.hasReady()) break;
        const ready = this.raw.ready();
        if (!(await this.handleReady(ready))) return;
        if (this.removed && this.maybeStopRemoved()) return;
        if (!(await this.maybeSnapshot())) return;
      }
    } catch (error) {
      this.crash('STOPPED', 'the core failed while handling a Ready', error);
    } finally {
      this.loop = null;
    }
  }

  /**
   * Handles one Ready in the order its contract gives (see `ready.ts`), with its write asynchronous: the
   * write starts, committed entries are applied, the Ready is accepted (the next one may be taken while the
   * write is in flight: the leader's next appends leave without waiting for this fsync), and when the write
   * is durable — in the order Readies were taken — its acknowledgements go out and the core is told.
   * A Ready with a snapshot is handled whole, after every earlier write. Returns false when the node
   * stopped on the way, in which case the Ready must not be acknowledged.
   */
  private async handleReady(ready: Ready): Promise<boolean> {
    if (ready.softState !== null) this.noteSoftState(ready.softState);
    // 1. Messages that promise nothing about this node's disk go out at once.
    this.sendAll(ready.messages);
    if (ready.entries.length > 0) {
      this.proposals.maybeDropOverwritten(ready.entries);
      this.confProposals.maybeDropOverwritten(ready.entries);
    }
    if (ready.snapshot !== null) return this.handleSnapshotReady(ready);
    // 2. Persist; a newer leader's entries may replace some of ours first.
    const saved = this.startWrite(ready);
    // 3. Committed entries are durable here already (the core hands out only persisted ones) and on a
    //    quorum, so they are applied while this Ready's new entries are written.
    for (const entry of ready.committedEntries) {
      if (!(await this.apply(entry))) return false;
    }
    // 4. Reads: complete now if applied already reached their index, else when it does.
    this.handleReadStates(ready);
    this.raw.acceptReady(ready);
    // 5. Once durable (and every earlier write too): acknowledgements, and tell the core.
    const previous = this.lastWrite;
    this.writesInFlight++;
    const reported = Promise.all([previous, saved]).then(([, ok]) => {
      this.writesInFlight--;
      if (!ok || !this.running) return;
      this.sendAll(ready.persistedMessages);
      try {
        this.raw.persisted(ready);
      } catch (error) {
        this.crash('STOPPED', 'the core failed to take a durable write', error);
        return;
      }
      this.scheduleLoop();
    });
    this.lastWrite = reported;
    this.oldestWrite = Promise.race([previous, reported]);
    if (!this.opts.asyncWrites) await reported;
    return this.running;
  }

  /** Starts writing `ready`; resolves false (after crash-stopping the node) if the write fails. */
  private startWrite(ready: Ready): Promise<boolean> {
    const writes = ready.hardState !== null || ready.entries.length > 0 || ready.snapshot !== null;
    if (!writes) return Promise.resolve(true);
    return this.opts.storage
      .save({
        hardState: ready.hardState,
        entries: ready.entries,
        snapshot: ready.snapshot,
        sync: ready.mustSync,
      })
      .then(
        () => true,
        (error: unknown) => {
          this.crash('STORAGE_FAILED', 'saving to stable storage failed', error);
          return false;
        },
      );
  }

  /** A Ready carrying a snapshot from the leader: written after every earlier write, then restored. */
  private async handleSnapshotReady(ready: Ready): Promise<boolean> {
    await this.lastWrite;
    if (!this.running) return false;
    if (!(await this.startWrite(ready)) || !this.running) return false;
    this.sendAll(ready.persistedMessages);
    const { meta, data } = ready.snapshot!;
    this.log('info', 'restoring the state machine from a snapshot sent by the leader', {
      index: meta.index,
      term: meta.term,
      bytes: data.byteLength,
    });
    try {
      await this.opts.stateMachine.restore(data, meta);
    } catch (error) {
      this.crash('STOPPED', `the state machine failed to restore the snapshot at ${meta.index}`, error);
      return false;
    }
    if (!this.running) return false;
    this.applied = Math.max(this.applied, meta.index);
    this.snapshotIndex = Math.max(this.snapshotIndex, meta.index);
    this.bytesSinceSnapshot = 0;
    this.proposals.coveredBySnapshot(meta.index);
    this.confProposals.coveredBySnapshot(meta.index);
    this.reads.appliedTo(this.applied);
    this.membershipApplied(meta.conf, meta.index);
    for (const entry of ready.committedEntries) {
      if (!(await this.apply(entry))) return false;
    }
    this.handleReadStates(ready);
    this.raw.advance(ready);
    return true;
  }

  private handleReadStates(ready: Ready): void {
    for (const state of ready.readStates) {
      if (state.ok) this.reads.confirmed(state.requestId, state.index, this.applied);
      else {
        const error = new RaftError(state.code, 'the read index request was refused', {
          leader: state.leader,
        });
        this.reads.refused(state.requestId, error);
      }
    }
  }

  /** Applies one committed entry; false when the node stopped. */
  private async apply(entry: Entry): Promise<boolean> {
    if (entry.index <= this.applied) return true; // already in the state machine (restored snapshot)
    if (entry.index !== this.applied + 1) {
      this.crash(
        'STOPPED',
        `committed entry ${entry.index} does not follow applied index ${this.applied}`,
        null,
      );
      return false;
    }
    if (entry.type === 'normal') {
      let result: Result;
      try {
        const out = this.opts.stateMachine.apply({ index: entry.index, term: entry.term, data: entry.data });
        result = isPromiseLike(out) ? await out : out;
      } catch (error) {
        this.crash('STOPPED', `the state machine failed to apply entry ${entry.index}`, error);
        return false;
      }
      if (!this.running) return false;
      this.applied = entry.index;
      this.bytesSinceSnapshot += entry.data.byteLength;
      this.proposals.applied(entry, result);
      this.confProposals.skipped(entry);
    } else if (entry.type === 'config') {
      let conf: ConfState;
      try {
        conf = decodeConfChange(entry.data).conf;
      } catch (error) {
        this.crash('STOPPED', `the config entry ${entry.index} is corrupt`, error);
        return false;
      }
      this.applied = entry.index;
      this.proposals.skipped(entry);
      this.confProposals.applied(entry, conf);
      this.membershipApplied(conf, entry.index);
    } else {
      this.applied = entry.index;
      this.proposals.skipped(entry);
      this.confProposals.skipped(entry);
    }
    this.reads.appliedTo(this.applied);
    return true;
  }

  /**
   * Every `snapshotIntervalEntries` applied entries, stores a snapshot of the state machine, which lets
   * storage release the log it covers. Runs between Readies, when the state machine is exactly at
   * `applied`. Returns false when the node stopped.
   */
  private async maybeSnapshot(): Promise<boolean> {
    const { snapshotIntervalEntries: entries, snapshotIntervalBytes: bytes } = this.opts;
    const dueByEntries = entries > 0 && this.applied - this.snapshotIndex >= entries;
    const dueByBytes = bytes > 0 && this.bytesSinceSnapshot >= bytes;
    if (!dueByEntries && !dueByBytes) return true;
    // The storage compacts its log behind the snapshot: let the writes in flight land first.
    await this.lastWrite;
    if (!this.running) return false;
    const { storage, stateMachine } = this.opts;
    const index = this.applied;
    let data: SnapshotChunkSource;
    try {
      data = await stateMachine.snapshot();
    } catch (error) {
      // Nothing is lost: the log is kept, and the next interval tries again.
      this.log('error', 'the state machine failed to take a snapshot', { index, error });
      this.snapshotIndex = index;
      this.bytesSinceSnapshot = 0;
      return this.running;
    }
    if (!this.running) return false;
    try {
      const conf = this.appliedConf;
      // A chunked snapshot streams from the state machine to the storage without being joined.
      await storage.saveSnapshot({ index, term: storage.term(index), conf }, data);
    } catch (error) {
      this.crash('STORAGE_FAILED', `saving the snapshot at ${index} failed`, error);
      return false;
    }
    this.snapshotIndex = index;
    this.bytesSinceSnapshot = 0;
    this.log('debug', 'stored a state machine snapshot', { index });
    return this.running;
  }

  /** Records the membership as of `index`, tells the listeners, and notices this node's removal. */
  private membershipApplied(conf: ConfState, index: number): void {
    const wasMember = isMember(this.appliedConf, this.id);
    this.appliedConf = conf;
    this.log('info', 'membership changed', {
      index,
      voters: conf.voters,
      learners: conf.learners,
      votersOutgoing: conf.votersOutgoing ?? [],
    });
    for (const listener of [...this.membershipListeners]) {
      try {
        listener(conf, index);
      } catch (error) {
        this.log('warn', 'a membership listener threw', { error });
      }
    }
    if (wasMember && !isMember(conf, this.id) && !this.removed) {
      this.removed = true;
      this.log('info', 'this node was removed from the cluster', { index });
    } else if (isMember(conf, this.id)) {
      this.removed = false;
    }
  }

  /**
   * Stops a removed node once the cluster no longer needs it: it does not lead (a removed leader first hands
   * leadership over) and a leader released it (every voter reported its removal committed; see
   * RawNode.released). Until then it answers as a follower: a voter that has not applied the removal may
   * still need its vote to elect a leader, and a node re-added under the same id replays its old removal
   * before the entry that added it back. Returns whether it stopped.
   */
  private maybeStopRemoved(): boolean {
    if (!this.removed || !this.raw.released() || this.raw.basicStatus().role === 'leader') return false;
    this.crash('REMOVED', `node ${this.id} was removed from the cluster`, null);
    return true;
  }

  private sendAll(messages: readonly Message[]): void {
    for (const message of messages) {
      if (!this.running) return;
      if (message.type === 'snapshot') this.snapshotsInFlight.add(message.to);
      try {
        this.opts.transport.send(message);
      } catch (error) {
        // Transports must not throw for a down peer; treat a throw as a lost message.
        this.log('warn', 'the transport threw from send', { to: message.to, type: message.type, error });
        this.onUnreachable(message.to);
      }
    }
  }

  private noteSoftState(soft: SoftState): void {
    if (soft.leader === this.leader) return;
    this.leader = soft.leader;
    const term = this.raw.status().hardState.term;
    this.log('info', soft.leader === null ? 'leader lost' : 'leader changed', {
      leader: soft.leader,
      term,
      role: soft.role,
    });
    for (const listener of [...this.listeners]) {
      try {
        listener(soft.leader, term);
      } catch (error) {
        this.log('warn', 'a leader change listener threw', { error });
      }
    }
  }

  private log(level: NodeLogLevel, message: string, fields: Record<string, unknown> = {}): void {
    logTo(this.logger, level, message, { node: this.id, ...fields });
  }
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}
