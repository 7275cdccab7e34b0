import type { ConfState } from './conf-state.js';

/** Where a snapshot sits in the log and the membership at that point. */
export interface SnapshotMeta {
  /** Index of the last entry the snapshot covers. */
  readonly index: number;
  /** Term of the entry at `index`. */
  readonly term: number;
  /** Membership as of `index`. */
  readonly conf: ConfState;
}

/** A state machine snapshot: its position in the log and the state machine's bytes. */
export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}
