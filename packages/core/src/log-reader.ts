import type { ConfState } from './conf-state.js';
import type { Entry } from './entry.js';
import { RaftError } from './errors.js';
import type { HardState } from './hard-state.js';
import type { Snapshot } from './snapshot.js';

/**
 * The core's synchronous, read-only view of what is durable in stable storage.
 *
 * The core reads through it and never writes: writes are handed to the driver in a `Ready`.
 * Invariant: it reflects only writes the driver finished before calling `RawNode.advance`.
 * Methods throw `RaftError` with `COMPACTED` for indexes behind the snapshot and `UNAVAILABLE`
 * when the data exists but cannot be read now.
 */
export interface LogReader {
  /** The hard state and membership saved last. */
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in `[lo, hi)`, stopping early once `maxBytes` of payload is reached (always at least one). */
  entries(lo: number, hi: number, maxBytes?: number): Entry[];
  /** Term of the entry at `index`; valid for `firstIndex() - 1 <= index <= lastIndex()`. */
  term(index: number): number;
  /** Index of the first entry still in the log (the snapshot index + 1). */
  firstIndex(): number;
  /** Index of the last entry in the log (the snapshot index when the log is empty). */
  lastIndex(): number;
  /** The latest snapshot; its index is `firstIndex() - 1`. */
  snapshot(): Snapshot;
}

/**
 * Reads `[lo, hi)` for a {@link LogReader} implementation with the contract's checks and byte limit:
 * `COMPACTED` at or below `snapshotIndex`, `INVALID_ARGUMENT` past `lastIndex`, and stopping once `maxBytes`
 * of payload is reached (always returning at least one entry).
 */
export function readEntryRange(
  lo: number,
  hi: number,
  maxBytes: number,
  snapshotIndex: number,
  lastIndex: number,
  entryAt: (index: number) => Entry,
): Entry[] {
  if (lo <= snapshotIndex) {
    throw new RaftError('COMPACTED', `entry ${lo} is compacted (snapshot at ${snapshotIndex})`);
  }
  if (hi > lastIndex + 1) {
    throw new RaftError('INVALID_ARGUMENT', `entries(${lo}, ${hi}) reaches past last index ${lastIndex}`);
  }
  const out: Entry[] = [];
  let bytes = 0;
  for (let i = lo; i < hi; i++) {
    const entry = entryAt(i);
    bytes += entry.data.byteLength;
    if (out.length > 0 && bytes > maxBytes) break;
    out.push(entry);
  }
  return out;
}
