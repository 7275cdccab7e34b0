import type { SnapshotMeta } from '../snapshot.js';

/** A committed command handed to the state machine. */
export interface AppliedCommand {
  readonly index: number;
  readonly term: number;
  readonly data: Uint8Array;
}

/**
 * The replicated state machine a node drives: the user's application.
 *
 * Contract: `apply` is called once per committed `normal` entry, in index order, on every node; it must be
 * deterministic (the same commands in the same order give the same state and results everywhere) and must
 * not read clocks, randomness or anything outside the command and its own state.
 * `Result` is what the proposer's `propose()` promise resolves with (on the node that proposed it).
 */
export interface StateMachine<Result = unknown> {
  /** Applies one committed command and returns its result. */
  apply(command: AppliedCommand): Result | Promise<Result>;
  /** Serialises the state as of the last applied command. */
  snapshot(): Uint8Array | Promise<Uint8Array>;
  /** Replaces the state with a snapshot's. */
  restore(data: Uint8Array, meta: SnapshotMeta): void | Promise<void>;
}
