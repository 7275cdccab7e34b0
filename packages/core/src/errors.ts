import type { NodeId } from './entry.js';

/**
 * The closed set of reasons a tsraft operation fails.
 *
 * | code | meaning | retry? |
 * |---|---|---|
 * | `NOT_LEADER` | this node is not the leader; `leader` names the one it knows, if any | at the leader |
 * | `PROPOSAL_DROPPED` | the entry was lost to a leader change before it committed; it was not applied | yes |
 * | `TOO_MANY_UNCOMMITTED` | the leader's bound on uncommitted bytes is reached (back-pressure) | after a pause |
 * | `TRANSFER_IN_PROGRESS` | leadership is moving; proposals wait for the new leader | at the new leader |
 * | `COMPACTED` | the requested entries are behind the latest snapshot | no |
 * | `UNAVAILABLE` | entries or a snapshot are not available right now | yes |
 * | `INVALID_CONFIG` | a configuration value is out of range | no |
 * | `INVALID_ARGUMENT` | a call's argument is malformed | no |
 * | `TIMEOUT` | the operation's deadline passed; a proposal may or may not have been applied | maybe |
 * | `OUTCOME_UNKNOWN` | the proposal's fate cannot be known here (e.g. its entry arrived inside a snapshot); it may or may not have been applied | maybe |
 * | `ABORTED` | the caller's AbortSignal fired; a proposal may or may not have been applied | maybe |
 * | `STOPPED` | the node is closed or crashed | no |
 * | `STORAGE_FAILED` | a write or sync to stable storage failed; the node stopped | no |
 * | `CONF_CHANGE_IN_PROGRESS` | a membership change is not applied yet (or a new leader has not caught up); one at a time | after it applies |
 * | `CONFIG_MISMATCH` | the membership differs from the one a change expected (compare-and-set) | after re-reading it |
 * | `REMOVED` | this node was removed from the cluster; it stopped | no |
 */
export type RaftErrorCode =
  | 'NOT_LEADER'
  | 'PROPOSAL_DROPPED'
  | 'TOO_MANY_UNCOMMITTED'
  | 'TRANSFER_IN_PROGRESS'
  | 'COMPACTED'
  | 'UNAVAILABLE'
  | 'INVALID_CONFIG'
  | 'INVALID_ARGUMENT'
  | 'TIMEOUT'
  | 'OUTCOME_UNKNOWN'
  | 'ABORTED'
  | 'STOPPED'
  | 'STORAGE_FAILED'
  | 'CONF_CHANGE_IN_PROGRESS'
  | 'CONFIG_MISMATCH'
  | 'REMOVED';

/** Options of {@link RaftError}. */
export interface RaftErrorOptions {
  /** For `NOT_LEADER` and `TRANSFER_IN_PROGRESS`: the leader this node knows of, if any. */
  readonly leader?: NodeId | null;
  readonly cause?: unknown;
}

/** The one error type tsraft throws and rejects with; match on `code`. */
export class RaftError extends Error {
  override readonly name = 'RaftError';
  readonly code: RaftErrorCode;
  /** The leader known when the error was raised (`NOT_LEADER`, `TRANSFER_IN_PROGRESS`), else `null`. */
  readonly leader: NodeId | null;

  constructor(code: RaftErrorCode, message: string, options: RaftErrorOptions = {}) {
    super(`${code}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.leader = options.leader ?? null;
  }

  /** Whether trying the same operation again (possibly elsewhere) can succeed. */
  get retryable(): boolean {
    return (
      this.code === 'NOT_LEADER' ||
      this.code === 'PROPOSAL_DROPPED' ||
      this.code === 'TOO_MANY_UNCOMMITTED' ||
      this.code === 'TRANSFER_IN_PROGRESS' ||
      this.code === 'UNAVAILABLE' ||
      this.code === 'CONF_CHANGE_IN_PROGRESS'
    );
  }

  /** Normalises anything thrown into a RaftError, keeping the original as `cause`. */
  static from(reason: unknown, code: RaftErrorCode = 'UNAVAILABLE'): RaftError {
    if (reason instanceof RaftError) return reason;
    const message = reason instanceof Error ? reason.message : String(reason);
    return new RaftError(code, message, { cause: reason });
  }
}
