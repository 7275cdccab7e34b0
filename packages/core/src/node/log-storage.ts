import type { Entry } from '../entry.js';
import type { HardState } from '../hard-state.js';
import type { LogReader } from '../log-reader.js';
import type { Snapshot, SnapshotChunkSource, SnapshotMeta } from '../snapshot.js';

/** One write to stable storage, taken from a `Ready`. */
export interface StorageUpdate {
  readonly hardState: HardState | null;
  /** Entries to append; any stored entries at or after `entries[0].index` are replaced. */
  readonly entries: readonly Entry[];
  /** A snapshot to install; it replaces every entry it covers. Applied before `entries`. */
  readonly snapshot: Snapshot | null;
  /** Whether the write must be durable (synced) before the returned promise resolves. */
  readonly sync: boolean;
}

/**
 * Durable storage of the log, the hard state and snapshots, as the driver uses it.
 *
 * The core reads it synchronously through {@link LogReader}; the driver writes it asynchronously.
 * Contract: a `save` that resolves is durable (when `sync`) and visible to the reader; a `save` that
 * rejects leaves the storage refusing further writes, and the node stops (a failed fsync may have
 * dropped data, so it is never retried). The driver may call `save` again before the previous one
 * resolves: saves take effect in the order they are called (a later one may overwrite entries of an
 * earlier one), and a storage may make several durable with one sync.
 */
export interface LogStorage extends LogReader {
  /** Writes one update; resolves once durable. */
  save(update: StorageUpdate): Promise<void>;
  /**
   * Stores a snapshot taken from the local state machine (its bytes consumed chunk by chunk as they come,
   * never joined) and releases the entries it covers.
   */
  saveSnapshot(meta: SnapshotMeta, data: SnapshotChunkSource): Promise<void>;
  /** Releases every entry at or below `index` (which must be covered by the latest snapshot). */
  compact(index: number): Promise<void>;
  /** Releases resources. Further calls fail with `STOPPED`. */
  close(): Promise<void>;
}
