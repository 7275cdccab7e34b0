import type { Entry, NodeId } from './entry.js';
import type { Snapshot } from './snapshot.js';

/** Fields every peer message carries. */
export interface MessageHeader {
  readonly from: NodeId;
  readonly to: NodeId;
  /** The sender's current term (for a pre-vote request: the term the candidate would campaign in). */
  readonly term: number;
}

/** RequestVote (Raft §5.2) or, with `preVote`, the pre-vote probe (thesis §9.6) that changes no state. */
export interface VoteRequest extends MessageHeader {
  readonly type: 'vote';
  readonly preVote: boolean;
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  /** Set when campaigning on a leader's TimeoutNow: voters must not ignore it for a live leader's lease. */
  readonly leadershipTransfer: boolean;
}

/** Answer to a {@link VoteRequest}. */
export interface VoteResponse extends MessageHeader {
  readonly type: 'voteResponse';
  readonly preVote: boolean;
  readonly granted: boolean;
}

/** AppendEntries (Raft §5.3): the consistency check on (`prevLogIndex`, `prevLogTerm`), then `entries`. */
export interface AppendRequest extends MessageHeader {
  readonly type: 'append';
  readonly prevLogIndex: number;
  readonly prevLogTerm: number;
  readonly entries: readonly Entry[];
  /** The leader's commit index. */
  readonly commit: number;
}

/**
 * Answer to an {@link AppendRequest} or {@link InstallSnapshot}.
 * On success `index` is the highest index now known to match the leader's log.
 * On rejection `index` is the rejected `prevLogIndex`, and the hint (`rejectHintIndex`, `rejectHintTerm`)
 * names the follower's last entry at or below it whose term is at most the leader's `prevLogTerm`,
 * so the leader skips a whole divergent term per round trip (fast back-off, Raft §5.3).
 */
export interface AppendResponse extends MessageHeader {
  readonly type: 'appendResponse';
  readonly reject: boolean;
  readonly index: number;
  readonly rejectHintIndex: number;
  readonly rejectHintTerm: number;
  /** The follower's commit index when it answered (durable when it passes a configuration entry). */
  readonly commit: number;
}

/** Leader liveness and commit propagation. `context` is a ReadIndex round to confirm (0 when none). */
export interface Heartbeat extends MessageHeader {
  readonly type: 'heartbeat';
  readonly commit: number;
  readonly context: number;
  /**
   * Set on the last heartbeat to a node outside the configuration (removed): it holds the entry that removed
   * it, and every voter has reported that entry committed, so no voter can need its vote: it may stop.
   */
  readonly release?: boolean;
}

/** Answer to a {@link Heartbeat}, echoing its `context`. */
export interface HeartbeatResponse extends MessageHeader {
  readonly type: 'heartbeatResponse';
  readonly context: number;
  /**
   * The follower's commit index after the heartbeat. When it passes a configuration entry, the answer is
   * sent only once that commit index is durable (see ConfCommitGuard).
   */
  readonly commit: number;
}

/** InstallSnapshot (Raft §7): the follower replaces its log prefix with the snapshot. */
export interface InstallSnapshot extends MessageHeader {
  readonly type: 'snapshot';
  readonly snapshot: Snapshot;
}

/** Tells the leadership-transfer target to campaign at once (thesis §3.10). */
export interface TimeoutNow extends MessageHeader {
  readonly type: 'timeoutNow';
}

/** A follower asks the leader for a read index on behalf of its local read `requestId` (thesis §6.4). */
export interface ReadIndexRequest extends MessageHeader {
  readonly type: 'readIndex';
  readonly requestId: number;
}

/** The leader's answer to a forwarded {@link ReadIndexRequest}; `index` is 0 when it cannot serve the read. */
export interface ReadIndexResponse extends MessageHeader {
  readonly type: 'readIndexResponse';
  readonly requestId: number;
  readonly index: number;
}

/** Every message one Raft node sends another. */
export type Message =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | Heartbeat
  | HeartbeatResponse
  | InstallSnapshot
  | TimeoutNow
  | ReadIndexRequest
  | ReadIndexResponse;

/** The `type` tag of a {@link Message}. */
export type MessageType = Message['type'];
