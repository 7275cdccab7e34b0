import type { ConfState } from './conf-state.js';
import type { NodeId } from './entry.js';
import type { HardState } from './hard-state.js';
import type { Role } from './ready.js';

/** How the leader is replicating to one follower (see docs/design.md for the state diagram). */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** The leader's view of one member's log. */
export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly inflightMessages: number;
  readonly recentActive: boolean;
  readonly isLearner: boolean;
}

/** A point-in-time view of a node's core. */
export interface RaftStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly leader: NodeId | null;
  readonly hardState: HardState;
  readonly applied: number;
  readonly lastIndex: number;
  /** Leadership transfer target, while one is in progress. */
  readonly transferee: NodeId | null;
  /** The membership this node knows. */
  readonly conf: ConfState;
  /** Per-member progress, only on the leader. */
  readonly progress: ReadonlyMap<NodeId, ProgressStatus> | null;
}

/**
 * The few fields of {@link RaftStatus} a request path needs, without copying the progress of every
 * member: cheap enough to read on every client request.
 */
export interface BasicStatus {
  readonly id: NodeId;
  readonly role: Role;
  /** The leader this node knows of, or `null`. */
  readonly leader: NodeId | null;
  readonly term: number;
  /** Highest log index known committed. */
  readonly commit: number;
}
