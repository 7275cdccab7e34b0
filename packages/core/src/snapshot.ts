import type { ConfState } from './conf-state.js';
import type { SnapshotData } from './snapshot-data.js';

/** Where a snapshot sits in the log and the membership at that point. */
export interface SnapshotMeta {
  /** Index of the last entry the snapshot covers. */
  readonly index: number;
  /** Term of the entry at `index`. */
  readonly term: number;
  /** Membership as of `index`. */
  readonly conf: ConfState;
}

/** A state machine snapshot: its position in the log and the state machine's bytes, in chunks. */
export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: SnapshotData;
}

/**
 * Snapshot bytes as a producer hands them over: one buffer, or chunks (synchronous or not) that are consumed
 * once, in order, and never joined.
 */
export type SnapshotChunkSource = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
