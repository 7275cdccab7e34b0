/** Identifies a member of a cluster. Stable for the member's lifetime (for example `"n1"`). */
export type NodeId = string;

/**
 * What an entry carries.
 * - `normal`: a command for the state machine (`data` is the user's bytes).
 * - `noop`: the empty entry a new leader appends to commit an entry of its own term (Raft §5.4.2, §8).
 *   It never reaches the state machine.
 * - `config`: a change to the cluster configuration (`data` is an encoded `ConfChange`).
 */
export type EntryType = 'normal' | 'noop' | 'config';

/**
 * One log entry.
 * Invariant: `index >= 1`, `term >= 1`; within a log, indexes are contiguous and terms never decrease.
 */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** Bytes an entry counts for in message, in-flight and uncommitted-size limits. */
export function entryPayloadBytes(entry: Entry): number {
  return entry.data.byteLength;
}
