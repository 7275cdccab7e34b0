import type { ConfChangeOptions, MemberChange } from './conf-state.js';
import type { RaftConfig } from './config.js';
import type { NodeId } from './entry.js';
import type { Message } from './message.js';
import { Raft, type UnsafeFaults } from './raft.js';
import type { Ready } from './ready.js';
import type { BasicStatus, RaftStatus } from './status.js';

/** Where a proposal landed in the leader's log; the driver matches it against applied entries. */
export interface ProposalTicket {
  readonly index: number;
  readonly term: number;
}

/**
 * The whole Raft algorithm behind one synchronous, deterministic API: no I/O, no timers, no clock.
 *
 * Feed it `tick()`s and peer messages (`step`), make requests (`propose`, `readIndex`,
 * `transferLeadership`), then take what it asks for with `ready()`, do it (see {@link Ready} for the
 * order) and acknowledge with `advance(ready)`.
 *
 * @example
 * ```ts
 * const node = new RawNode({ id: 'n1', storage, randomSeed: 42 });
 * node.tick();
 * if (node.hasReady()) {
 *   const ready = node.ready();
 *   // send ready.messages, persist, send ready.persistedMessages, apply ready.committedEntries
 *   node.advance(ready);
 * }
 * ```
 */
export class RawNode {
  private readonly raft: Raft;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config, {});
  }

  /** @internal Builds a node with test-only faults; reachable only from `@tsraft/core/testing`. */
  static withFaults(config: RaftConfig, faults: UnsafeFaults): RawNode {
    const node = new RawNode(config);
    (node as unknown as { raft: Raft }).raft = new Raft(config, faults);
    return node;
  }

  /** This node's id. */
  get id(): NodeId {
    return this.raft.id;
  }

  /** Advances the logical clock by one tick: election timeouts, heartbeats, check-quorum. */
  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (pre-vote first when enabled). Does nothing on a leader or a learner. */
  campaign(): void {
    this.raft.campaign();
  }

  /**
   * Appends a command to the leader's log; it is replicated with every other proposal made before the
   * next `ready()` (one append, one message per follower).
   * @throws RaftError `NOT_LEADER`, `TRANSFER_IN_PROGRESS` or `TOO_MANY_UNCOMMITTED`.
   */
  propose(data: Uint8Array): ProposalTicket {
    return this.raft.propose(data);
  }

  /**
   * Appends a membership change to the leader's log (thesis §4). It takes effect on each node when it is
   * committed and handed out in `committedEntries`. A change that alters the voters by more than one node
   * (such as replacing one voter by another) goes through a joint configuration (§4.3), which the leader
   * leaves by itself with a second entry. One change at a time.
   * @throws RaftError `NOT_LEADER`, `TRANSFER_IN_PROGRESS`; `CONF_CHANGE_IN_PROGRESS` while the previous
   * change is not applied (or the cluster is joint, or this leader has not committed an entry of its term);
   * `CONFIG_MISMATCH` when `options.expectedConfigId` is not the current configuration's
   * {@link configId}; `INVALID_ARGUMENT` for a change that does not fit the configuration.
   */
  proposeConfChange(changes: readonly MemberChange[], options?: ConfChangeOptions): ProposalTicket {
    return this.raft.proposeConfChange(changes, options);
  }

  /**
   * Hands a peer message to the algorithm. Messages from stale terms and from unknown senders are
   * ignored as Raft prescribes.
   * @throws RaftError `INVALID_ARGUMENT` when the message is malformed (it changes no state).
   */
  step(message: Message): void {
    this.raft.step(message);
  }

  /**
   * Asks for a linearizable read index (thesis §6.4). The answer arrives in `Ready.readStates` with the
   * same `requestId`: once the state machine has applied that index, a read of it is linearizable.
   *
   * With `lease`, a leader whose lease holds (check-quorum on, a quorum heard from within the current
   * election timeout) answers at once from its commit index, without a heartbeat round: linearizable only
   * while clocks advance at about the same rate (thesis §6.4.1). Elsewhere it is an ordinary read index.
   */
  readIndex(requestId: number, options: { readonly lease?: boolean } = {}): void {
    this.raft.readIndex(requestId, options.lease === true);
  }

  /** Moves leadership to `to`: it is caught up, then told to campaign at once (thesis §3.10). */
  transferLeadership(to: NodeId): void {
    this.raft.transferLeadership(to);
  }

  /** Tells the leader a message to `peer` was not delivered, so it probes instead of streaming. */
  reportUnreachable(peer: NodeId): void {
    this.raft.reportUnreachable(peer);
  }

  /** Tells the leader whether the snapshot it sent to `peer` was installed. */
  reportSnapshot(peer: NodeId, ok: boolean): void {
    this.raft.reportSnapshot(peer, ok);
  }

  /** Whether `ready()` has anything to hand out. */
  hasReady(): boolean {
    return this.raft.hasReady();
  }

  /** Collects what to persist, send and apply. Call `advance(ready)` once it is handled. */
  ready(): Ready {
    return this.raft.ready();
  }

  /** Acknowledges that `ready` was handled as its contract says: written, synced, sent and applied. */
  advance(ready: Ready): void {
    this.raft.advance(ready);
  }

  /**
   * With asynchronous writes: acknowledges that `ready` was taken — its messages sent, its write started
   * (writes must complete in the order their Readies were taken), its committed entries applied — so that
   * `ready()` may hand out the next Ready while the write is in flight. Report the write with
   * {@link persisted} once durable. `advance(ready)` is `acceptReady(ready)` then `persisted(ready)`.
   */
  acceptReady(ready: Ready): void {
    this.raft.acceptReady(ready);
  }

  /**
   * With asynchronous writes: `ready`'s snapshot, entries and hard state are durable, and its
   * `persistedMessages` may now be sent. Readies are reported in the order they were accepted.
   * @throws RaftError `INVALID_ARGUMENT` when `ready` is not the oldest accepted, unreported one.
   */
  persisted(ready: Ready): void {
    this.raft.persisted(ready);
  }

  /** A snapshot of the node's state, for monitoring and tests. */
  status(): RaftStatus {
    return this.raft.status();
  }

  /**
   * Whether a leader released this node after its removal: no voter can need its vote any more, so a driver
   * stops it once it has applied the configuration without it (and does not lead). Cleared if it is added back.
   */
  released(): boolean {
    return this.raft.isReleased();
  }

  /** Role, leader, term and commit index, without copying per-member progress (cheap; see {@link status}). */
  basicStatus(): BasicStatus {
    return this.raft.basicStatus();
  }
}
