import type { SnapshotChunkSource, SnapshotMeta } from '../snapshot.js';
import type { SnapshotData } from '../snapshot-data.js';

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
  /**
   * Serialises the state as of the last applied command: one buffer for a small state, or a stream of
   * chunks (an array, a generator, an async generator) for a large one, which the driver writes to storage
   * as it comes without joining it. The chunks must describe the state at the moment `snapshot()` was
   * called, even though they are consumed later.
   */
  snapshot(): SnapshotChunkSource | Promise<SnapshotChunkSource>;
  /**
   * Replaces the state with a snapshot's. Read `data` chunk by chunk (`data.chunks()`) to restore a large
   * state without one big buffer, or `data.toBytes()` for a small one.
   */
  restore(data: SnapshotData, meta: SnapshotMeta): void | Promise<void>;
}
