import * as path from 'node:path';
import {
  type ConfState,
  EMPTY_HARD_STATE,
  type Entry,
  type HardState,
  type LogStorage,
  type NodeLogger,
  RaftError,
  readEntryRange,
  type Snapshot,
  type SnapshotChunkSource,
  SnapshotData,
  type SnapshotMeta,
  type StorageUpdate,
  snapshotChunksOf,
} from '@tsraft/core';
import { acquireLock, checkIdentity, releaseLock, syncDir, writeIdentity } from './data-dir.js';
import { type FileSystem, nodeFileSystem } from './file-system.js';
import { LogStorageError } from './log-storage-error.js';
import { decodeRecord, encodedLength, encodeRecord, type WalRecord } from './record.js';
import { type SnapshotReader, SnapshotStore } from './snapshot-store.js';

/** Options of {@link openLogStorage}. */
export interface DiskLogStorageOptions {
  /** The data directory; created if missing. One node's data per directory. */
  readonly dir: string;
  /** This node's id, recorded in a new directory and checked on every open. */
  readonly nodeId: string;
  /** The cluster's id, recorded in a new directory and checked on every open. */
  readonly clusterId: string;
  /** Membership of a new cluster (used only when the directory is new). Default: no members. */
  readonly conf?: ConfState;
  /** A segment file is closed and a new one started once it reaches this many bytes. Default 64 MiB. */
  readonly segmentBytes?: number;
  /** Bytes of recent entries kept in memory for reads (followers catching up). Default 16 MiB. */
  readonly cacheBytes?: number;
  /** Snapshot files kept, newest first (at least 1). Default 2. */
  readonly keepSnapshots?: number;
  /** The file layer; tests pass one that injects faults. Default: `node:fs`. */
  readonly fs?: FileSystem;
  /** Receives recovery diagnostics (a torn tail cut off, a corrupt snapshot skipped). */
  readonly logger?: NodeLogger;
}

/** One segment file of the write-ahead log. */
interface Segment {
  readonly seq: number;
  readonly file: string;
  readonly fd: number;
  /** Bytes of valid records. Invariant: the next record of the active segment is written here. */
  size: number;
  /** Highest entry index ever written to it (0 when none): it can be deleted once the snapshot covers this. */
  maxIndex: number;
  /** Whether it holds any record. */
  hasRecords: boolean;
}

/** A snapshot a write stores: where it sits, and its bytes as chunks to stream into its file. */
interface PendingSnapshot {
  readonly meta: SnapshotMeta;
  /** Called once, when the file is written. */
  readonly chunks: () => Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
}

/** One write waiting in the group-commit queue. */
interface PendingWrite {
  /** `save`: a {@link StorageUpdate} (its snapshot, if any, in `snapshot`); `snapshot`: a local snapshot. */
  readonly kind: 'save' | 'snapshot';
  /** Entries and hard state to write (its `snapshot` is unused: see `snapshot`). */
  readonly update: StorageUpdate;
  readonly snapshot: PendingSnapshot | null;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** A write accepted into a group, with the records it adds. */
interface GroupItem {
  readonly write: PendingWrite;
  /** The snapshot file it stored, once written. */
  stored: SnapshotReader | null;
  readonly records: WalRecord[];
  /** Position of each record in the active segment, once placed. */
  readonly offsets: number[];
  readonly lengths: number[];
}

const SEGMENT_PREFIX = 'wal-';
const SEGMENT_SUFFIX = '.log';

function segmentFileName(seq: number): string {
  return `${SEGMENT_PREFIX}${String(seq).padStart(16, '0')}${SEGMENT_SUFFIX}`;
}

/**
 * Opens (or creates) a data directory and recovers the log, hard state and newest valid snapshot from it.
 *
 * @throws LogStorageError `LOCKED` when another live process holds the directory, `WRONG_NODE` when it holds
 * another node's data, `CORRUPT` (naming the file and offset) when a record other than a torn last one
 * fails its checksum, a segment is missing, or no valid snapshot covers the start of the log.
 *
 * @example
 * ```ts
 * const storage = await openLogStorage({ dir: '/var/lib/tsraft/n1', nodeId: 'n1', clusterId: 'c1',
 *   conf: { voters: ['n1', 'n2', 'n3'], learners: [] } });
 * const node = createNode({ id: 'n1', storage, transport, stateMachine });
 * ```
 */
export async function openLogStorage(options: DiskLogStorageOptions): Promise<DiskLogStorage> {
  const fs = options.fs ?? nodeFileSystem;
  const dir = path.resolve(options.dir);
  await fs.mkdir(dir);
  await acquireLock(fs, dir);
  const storage = new DiskLogStorage(fs, dir, options);
  try {
    await storage.recover(options);
  } catch (error) {
    await storage.closeFiles();
    await releaseLock(fs, dir).catch(() => {});
    throw error;
  }
  return storage;
}

/** An error thrown by a snapshot's chunk source (the state machine), not by the disk. */
class SourceFailure {
  constructor(readonly error: unknown) {}
}

/** `chunks`, with any error it throws wrapped in a {@link SourceFailure}. */
async function* marked(
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array, void, undefined> {
  const iterator =
    Symbol.asyncIterator in chunks
      ? (chunks as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
      : (chunks as Iterable<Uint8Array>)[Symbol.iterator]();
  let done = false;
  try {
    for (;;) {
      let step: IteratorResult<Uint8Array>;
      try {
        step = await iterator.next();
      } catch (error) {
        done = true;
        throw new SourceFailure(error);
      }
      if (step.done) {
        done = true;
        return;
      }
      yield step.value;
    }
  } finally {
    // Writing stopped early (a disk error): let the source release what it holds.
    if (!done) await Promise.resolve(iterator.return?.()).catch(() => {});
  }
}

/**
 * A {@link LogStorage} on disk: a segmented write-ahead log of checksummed records (entries, hard states,
 * snapshot markers), snapshot files, a lock and an identity file. Made by {@link openLogStorage}.
 *
 * Writes are group-committed: every `save` queued while a write is in flight joins the next one, which is
 * one `writev` and one `fdatasync`. Reads are served from an in-memory index and a bounded cache of recent
 * entries, falling back to a synchronous positional read. After a write or sync fails, every later write
 * is refused (a failed fsync may have dropped data).
 *
 * Snapshots are streamed to their file chunk by chunk, and never held in memory: {@link snapshot} returns
 * data read from the file (synchronously, chunk by chunk, verifying its checksum) each time it is used.
 * Snapshot files beyond the newest `keepSnapshots` are deleted; reading the data of a deleted one fails
 * with `SNAPSHOT_GONE`.
 */
export class DiskLogStorage implements LogStorage {
  private readonly fs: FileSystem;
  private readonly dir: string;
  private readonly segmentBytes: number;
  private readonly cacheLimit: number;
  private readonly keepSnapshots: number;
  private readonly logger: NodeLogger;
  /** The snapshot files. */
  readonly snapshots: SnapshotStore;

  private hard: HardState = EMPTY_HARD_STATE;
  private snap: Snapshot = {
    meta: { index: 0, term: 0, conf: { voters: [], learners: [] } },
    data: SnapshotData.EMPTY,
  };
  /** Index of the entry before the first one held (the snapshot index once recovered; -1 while unknown). */
  private base = -1;
  /** Per entry `base + 1 + i`: its term, segment, offset and record length. */
  private terms: number[] = [];
  private segs: Segment[] = [];
  private offsets: number[] = [];
  private lengths: number[] = [];
  /** Recent entries by the same position. Invariant: entries before `cacheFrom` are not cached. */
  private cached: (Entry | undefined)[] = [];
  private cacheFrom = 1;
  private cacheBytes = 0;

  private segments: Segment[] = [];
  private queue: PendingWrite[] = [];
  private flushing = false;
  /** The flush in progress, if any. */
  private flushed: Promise<void> = Promise.resolve();
  /** The segment release in progress, if any. */
  private releasing: Promise<void> = Promise.resolve();
  private failed: LogStorageError | null = null;
  private closed = false;
  private closing: Promise<void> | null = null;
  /** Number of fdatasync calls issued for log writes, for benchmarks and tests. */
  syncCount = 0;

  /** @internal Use {@link openLogStorage}. */
  constructor(fs: FileSystem, dir: string, options: DiskLogStorageOptions) {
    this.fs = fs;
    this.dir = dir;
    this.segmentBytes = options.segmentBytes ?? 64 * 1024 * 1024;
    this.cacheLimit = options.cacheBytes ?? 16 * 1024 * 1024;
    this.keepSnapshots = Math.max(1, options.keepSnapshots ?? 2);
    this.logger = options.logger ?? {};
    this.snapshots = new SnapshotStore({ fs, dir });
  }

  // --- LogReader ---------------------------------------------------------------------------------

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hard, confState: this.snap.meta.conf };
  }

  entries(lo: number, hi: number, maxBytes = Number.POSITIVE_INFINITY): Entry[] {
    return readEntryRange(lo, hi, maxBytes, this.base, this.lastIndex(), (i) => this.entryAt(i));
  }

  term(index: number): number {
    if (index === this.base) return this.snap.meta.term;
    if (index < this.base)
      throw new RaftError('COMPACTED', `term of ${index} is compacted (snapshot at ${this.base})`);
    const term = this.terms[index - this.base - 1];
    if (term === undefined)
      throw new RaftError('UNAVAILABLE', `no entry at ${index} (last is ${this.lastIndex()})`);
    return term;
  }

  firstIndex(): number {
    return this.base + 1;
  }

  lastIndex(): number {
    return this.base + this.terms.length;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  // --- writes ------------------------------------------------------------------------------------

  /**
   * Writes one update; a snapshot in it (from the leader) is streamed to its file from
   * `snapshot.data.chunks()`.
   */
  save(update: StorageUpdate): Promise<void> {
    const snapshot = update.snapshot;
    return this.enqueue(
      'save',
      update,
      snapshot === null ? null : { meta: snapshot.meta, chunks: () => snapshot.data.chunks() },
    );
  }

  /**
   * Streams a local snapshot's chunks into its file as they come (never joined), then releases the log it
   * covers. When `source` throws, nothing is stored, the error is rethrown, and the storage stays writable.
   */
  saveSnapshot(meta: SnapshotMeta, source: SnapshotChunkSource): Promise<void> {
    return this.enqueue(
      'snapshot',
      { hardState: null, entries: [], snapshot: null, sync: true },
      { meta, chunks: () => snapshotChunksOf(source) },
    );
  }

  async compact(index: number): Promise<void> {
    this.checkWritable();
    if (index > this.snap.meta.index) {
      throw new RaftError(
        'INVALID_ARGUMENT',
        `cannot compact to ${index}: snapshot is at ${this.snap.meta.index}`,
      );
    }
    // The log before the snapshot is released when the snapshot is stored; here only segments remain.
    await this.releaseSegments();
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  /** The error that made the storage refuse writes, if any. */
  failure(): LogStorageError | null {
    return this.failed;
  }

  private async doClose(): Promise<void> {
    // Let queued writes finish (or fail) first, so nothing acknowledged is left half done.
    await this.flushed;
    await this.releasing;
    this.closed = true;
    await this.closeFiles();
    await releaseLock(this.fs, this.dir).catch(() => {});
  }

  /** @internal Closes every open segment file. */
  async closeFiles(): Promise<void> {
    const segments = this.segments;
    this.segments = [];
    for (const segment of segments) await this.fs.close(segment.fd).catch(() => {});
  }

  private checkWritable(): void {
    if (this.closed || this.closing !== null) throw new RaftError('STOPPED', 'storage is closed');
    if (this.failed !== null) {
      throw new RaftError(
        'STORAGE_FAILED',
        `storage refuses writes after an earlier failure: ${this.failed.message}`,
        {
          cause: this.failed,
        },
      );
    }
  }

  private enqueue(
    kind: PendingWrite['kind'],
    update: StorageUpdate,
    snapshot: PendingSnapshot | null,
  ): Promise<void> {
    try {
      this.checkWritable();
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ kind, update, snapshot, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        // Start on the next microtask so saves issued together share a sync.
        this.flushed = Promise.resolve().then(() => this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        // A write with a snapshot makes a group of its own, so that its source failing concerns it alone.
        let take = this.queue.findIndex((w) => w.snapshot !== null);
        if (take < 0) take = this.queue.length;
        else if (take === 0) take = 1;
        const group = this.queue.slice(0, take);
        this.queue = this.queue.slice(take);
        if (this.failed !== null) {
          for (const write of group) write.reject(this.failedError());
          continue;
        }
        await this.writeGroup(group);
      }
    } finally {
      this.flushing = false;
    }
  }

  private failedError(): RaftError {
    return new RaftError('STORAGE_FAILED', this.failed?.message ?? 'storage failed', { cause: this.failed });
  }

  /**
   * Writes one group: validates each write against the state the earlier ones leave, writes the snapshot
   * files, then every record in one `writev` and one `fdatasync`, then applies the writes to the in-memory
   * view and resolves them. Invariant: runs only when no other group is in flight, so the in-memory view
   * is exactly what is durable.
   */
  private async writeGroup(group: PendingWrite[]): Promise<void> {
    const items: GroupItem[] = [];
    const projection = new Projection(this);
    let sync = false;
    for (const write of group) {
      try {
        const records = projection.plan(write);
        items.push({ write, stored: null, records, offsets: [], lengths: [] });
        sync ||= write.update.sync || write.snapshot !== null;
      } catch (error) {
        write.reject(error);
      }
    }
    if (items.length === 0) return;
    let active = this.segments[this.segments.length - 1]!;
    /** Where the acknowledged bytes of `active` end. */
    let cutSize = active.size;
    try {
      for (const item of items) {
        const snapshot = item.write.snapshot;
        if (snapshot !== null && item.records[0]?.kind === 'marker')
          item.stored = await this.snapshots.write(snapshot.meta, marked(snapshot.chunks()));
      }
      const buffers: Uint8Array[] = [];
      let rolled = false;
      if (active.size >= this.segmentBytes) {
        active = await this.roll(active, buffers);
        cutSize = 0;
        rolled = true;
      }
      let position = active.size + encodedLength(buffers);
      for (const item of items) {
        for (const record of item.records) {
          const encoded = encodeRecord(record);
          const length = encodedLength(encoded);
          item.offsets.push(position);
          item.lengths.push(length);
          position += length;
          for (const b of encoded) buffers.push(b);
        }
      }
      const want = position - active.size;
      if (want > 0) {
        const wrote = await this.fs.writev(active.fd, buffers, active.size);
        if (wrote !== want) throw new Error(`short write: ${wrote} of ${want} bytes`);
        if (sync || rolled) {
          this.syncCount++;
          await this.fs.fdatasync(active.fd);
        }
        if (rolled) await syncDir(this.fs, this.dir);
        active.size = position;
        active.hasRecords = true;
      }
    } catch (error) {
      if (error instanceof SourceFailure) {
        // The snapshot's producer failed before anything but the (removed) temporary file was written: the
        // storage is unchanged. Such a write is alone in its group.
        for (const item of items) item.write.reject(error.error);
        return;
      }
      await this.fail(error, active, cutSize);
      for (const item of items) item.write.reject(this.failedError());
      return;
    }
    let released = false;
    for (const item of items) {
      this.apply(item, active);
      released ||= item.stored !== null;
    }
    if (released) {
      try {
        await this.releaseSegments();
        await this.pruneSnapshots();
      } catch (error) {
        await this.fail(error, null, 0);
        for (const item of items) item.write.reject(this.failedError());
        return;
      }
    }
    for (const item of items) item.write.resolve();
  }

  /** Records a write failure: no further writes; the unacknowledged tail is cut back when possible. */
  private async fail(error: unknown, segment: Segment | null, size: number): Promise<void> {
    const code = (error as NodeJS.ErrnoException)?.code;
    this.failed =
      code === 'ENOSPC'
        ? new LogStorageError('NO_SPACE', 'the disk is full; no further writes are accepted', {
            cause: error,
            ...(segment === null ? {} : { file: segment.file }),
          })
        : new LogStorageError(
            'IO_FAILED',
            `a write or sync failed: ${(error as Error)?.message ?? String(error)}`,
            {
              cause: error,
              ...(segment === null ? {} : { file: segment.file }),
            },
          );
    this.logger.error?.('log storage failed; refusing further writes', { error: this.failed });
    if (segment !== null) {
      // Best effort: what was acknowledged ends at `size`; the rest was never acknowledged.
      await this.fs.ftruncate(segment.fd, size).catch(() => {});
    }
  }

  /** Starts a new segment after `active`; its first record is the current hard state. */
  private async roll(active: Segment, buffers: Uint8Array[]): Promise<Segment> {
    this.syncCount++;
    await this.fs.fdatasync(active.fd);
    const seq = active.seq + 1;
    const file = path.join(this.dir, segmentFileName(seq));
    const fd = await this.fs.open(file, 'wx+');
    const segment: Segment = { seq, file, fd, size: 0, maxIndex: 0, hasRecords: false };
    this.segments.push(segment);
    for (const b of encodeRecord({ kind: 'hardState', hardState: this.hard })) buffers.push(b);
    return segment;
  }

  /** Applies a durable write to the in-memory view. */
  private apply(item: GroupItem, segment: Segment): void {
    item.records.forEach((record, i) => {
      this.applyRecord(record, segment, item.offsets[i]!, item.lengths[i]!);
    });
    const { stored, write } = item;
    if (stored !== null && write.snapshot !== null && stored.meta.index >= this.snap.meta.index) {
      this.snap = { meta: write.snapshot.meta, data: this.snapshots.data(stored) };
    }
  }

  /** Applies one record, during recovery or after a write. */
  private applyRecord(record: WalRecord, segment: Segment, offset: number, length: number): void {
    switch (record.kind) {
      case 'hardState':
        this.hard = record.hardState;
        return;
      case 'marker':
        this.applyMarker(record.index, record.term);
        return;
      case 'entry': {
        const { entry } = record;
        segment.maxIndex = Math.max(segment.maxIndex, entry.index);
        if (this.base < 0) this.base = entry.index - 1;
        if (entry.index <= this.base) return;
        if (entry.index > this.lastIndex() + 1) {
          throw new LogStorageError(
            'CORRUPT',
            `entry ${entry.index} follows entry ${this.lastIndex()}: entries are missing (a lost segment?)`,
            { file: segment.file, offset },
          );
        }
        this.truncateFrom(entry.index);
        this.terms.push(entry.term);
        this.segs.push(segment);
        this.offsets.push(offset);
        this.lengths.push(length);
        this.cached.push(entry);
        this.cacheBytes += entry.data.byteLength;
        this.evictCache();
        return;
      }
    }
  }

  /** A snapshot at (index, term) is installed: keep the log after it only if it holds that entry (Raft §7). */
  private applyMarker(index: number, term: number): void {
    if (index <= this.base) return;
    const keep = index <= this.lastIndex() && this.terms[index - this.base - 1] === term;
    if (keep) this.dropFront(index - this.base);
    else {
      this.truncateFrom(this.base + 1);
      this.base = index;
      this.cacheFrom = Math.max(this.cacheFrom, index + 1);
    }
  }

  /** Removes entries at and after `index`. */
  private truncateFrom(index: number): void {
    const keep = index - this.base - 1;
    if (keep >= this.terms.length) return;
    for (let k = keep; k < this.cached.length; k++) this.cacheBytes -= this.cached[k]?.data.byteLength ?? 0;
    this.terms.length = keep;
    this.segs.length = keep;
    this.offsets.length = keep;
    this.lengths.length = keep;
    this.cached.length = keep;
    this.cacheFrom = Math.min(this.cacheFrom, index);
  }

  /** Removes the first `count` entries; the base moves past them. */
  private dropFront(count: number): void {
    for (let k = 0; k < count; k++) this.cacheBytes -= this.cached[k]?.data.byteLength ?? 0;
    this.terms.splice(0, count);
    this.segs.splice(0, count);
    this.offsets.splice(0, count);
    this.lengths.splice(0, count);
    this.cached.splice(0, count);
    this.base += count;
    this.cacheFrom = Math.max(this.cacheFrom, this.base + 1);
  }

  private evictCache(): void {
    while (this.cacheBytes > this.cacheLimit && this.cacheFrom < this.lastIndex()) {
      const k = this.cacheFrom - this.base - 1;
      if (k >= 0) {
        this.cacheBytes -= this.cached[k]?.data.byteLength ?? 0;
        this.cached[k] = undefined;
      }
      this.cacheFrom++;
    }
  }

  private entryAt(index: number): Entry {
    const k = index - this.base - 1;
    const hit = this.cached[k];
    if (hit !== undefined) return hit;
    const segment = this.segs[k]!;
    const length = this.lengths[k]!;
    const buffer = Buffer.allocUnsafe(length);
    let done = 0;
    try {
      while (done < length) {
        const n = this.fs.readSync(segment.fd, buffer, done, length - done, this.offsets[k]! + done);
        if (n === 0) throw new Error('unexpected end of file');
        done += n;
      }
    } catch (error) {
      throw new RaftError('UNAVAILABLE', `reading entry ${index} from ${segment.file} failed`, {
        cause: error,
      });
    }
    const decoded = decodeRecord(buffer, 0);
    if (decoded.status !== 'ok' || decoded.record.kind !== 'entry' || decoded.record.entry.index !== index) {
      const cause = new LogStorageError('CORRUPT', `entry ${index} does not read back`, {
        file: segment.file,
        offset: this.offsets[k]!,
      });
      throw new RaftError('UNAVAILABLE', cause.message, { cause });
    }
    return decoded.record.entry;
  }

  /** Deletes the oldest segments the snapshot covers; calls run one after another. */
  private releaseSegments(): Promise<void> {
    const run = this.releasing.then(() => this.releaseCoveredSegments());
    this.releasing = run.catch(() => {});
    return run;
  }

  /** Deletes the oldest segments whose entries are all covered by the snapshot (never the active one). */
  private async releaseCoveredSegments(): Promise<void> {
    let removed = false;
    while (this.segments.length > 1 && this.segments[0]!.maxIndex <= this.snap.meta.index) {
      const segment = this.segments.shift()!;
      await this.fs.close(segment.fd);
      await this.fs.unlink(segment.file);
      removed = true;
    }
    if (removed) await syncDir(this.fs, this.dir);
  }

  /** Deletes snapshot files beyond the newest `keepSnapshots`. */
  private async pruneSnapshots(): Promise<void> {
    const indexes = await this.snapshots.list();
    for (const index of indexes.slice(this.keepSnapshots)) await this.snapshots.remove(index);
  }

  // --- recovery ----------------------------------------------------------------------------------

  /** @internal Reads the directory into memory; called once by {@link openLogStorage}. */
  async recover(options: DiskLogStorageOptions): Promise<void> {
    const identity = { nodeId: options.nodeId, clusterId: options.clusterId };
    // A new directory is set up in an order that survives a crash at any point: the initial snapshot, the
    // first segment, then the identity file, whose absence makes the next open finish the setup.
    const fresh = !(await checkIdentity(this.fs, this.dir, identity));
    const names = (await this.fs.readdir(this.dir)).filter(
      (n) => n.startsWith(SEGMENT_PREFIX) && n.endsWith(SEGMENT_SUFFIX),
    );
    const seqs = names
      .map((n) => Number(n.slice(SEGMENT_PREFIX.length, -SEGMENT_SUFFIX.length)))
      .sort((a, b) => a - b);
    let snapshotIndexes = await this.snapshots.list();
    if (fresh && seqs.length === 0 && snapshotIndexes.length === 0) {
      const conf = options.conf ?? { voters: [], learners: [] };
      await this.snapshots.write({ index: 0, term: 0, conf }, []);
      snapshotIndexes = [0];
    }
    for (let i = 1; i < seqs.length; i++) {
      if (seqs[i] !== seqs[i - 1]! + 1) {
        throw new LogStorageError('CORRUPT', `segment ${segmentFileName(seqs[i - 1]! + 1)} is missing`, {
          file: path.join(this.dir, segmentFileName(seqs[i - 1]! + 1)),
        });
      }
    }
    let sawHardState = false;
    for (let i = 0; i < seqs.length; i++) {
      const last = i === seqs.length - 1;
      const seq = seqs[i]!;
      const file = path.join(this.dir, segmentFileName(seq));
      const bytes = Buffer.from(await this.fs.readFile(file));
      const fd = await this.fs.open(file, last ? 'r+' : 'r');
      const segment: Segment = { seq, file, fd, size: 0, maxIndex: 0, hasRecords: false };
      this.segments.push(segment);
      let offset = 0;
      while (offset < bytes.byteLength) {
        const decoded = decodeRecord(bytes, offset);
        if (decoded.status === 'ok') {
          if (decoded.record.kind === 'hardState') sawHardState = true;
          this.applyRecord(decoded.record, segment, offset, decoded.length);
          segment.hasRecords = true;
          offset += decoded.length;
          continue;
        }
        const tornTail =
          last && (decoded.status === 'incomplete' || offset + decoded.length === bytes.byteLength);
        if (!tornTail) {
          const reason = decoded.status === 'corrupt' ? decoded.reason : 'record is cut short';
          throw new LogStorageError('CORRUPT', `write-ahead log ${reason}`, { file, offset });
        }
        this.logger.warn?.('cut off a torn record at the end of the write-ahead log', {
          file,
          offset,
          bytes: bytes.byteLength - offset,
        });
        await this.fs.ftruncate(fd, offset);
        await this.fs.fdatasync(fd);
        break;
      }
      segment.size = offset;
    }
    // An empty last segment (its first write was torn) is dropped, so every segment starts with a hard state.
    const tail = this.segments[this.segments.length - 1];
    if (tail !== undefined && !tail.hasRecords) {
      this.segments.pop();
      await this.fs.close(tail.fd);
      await this.fs.unlink(tail.file);
      await syncDir(this.fs, this.dir);
      const previous = this.segments.pop();
      if (previous !== undefined) {
        await this.fs.close(previous.fd);
        const fd = await this.fs.open(previous.file, 'r+');
        this.segments.push({ ...previous, fd });
        for (let k = 0; k < this.segs.length; k++)
          if (this.segs[k] === previous) this.segs[k] = this.segments[this.segments.length - 1]!;
      }
    }
    if (this.segments.some((s) => s.hasRecords) && !sawHardState) {
      throw new LogStorageError('CORRUPT', 'the write-ahead log holds no hard state record', {
        file: this.dir,
      });
    }
    await this.loadSnapshot(snapshotIndexes);
    if (this.segments.length === 0) {
      const file = path.join(this.dir, segmentFileName(1));
      const fd = await this.fs.open(file, 'wx+');
      const segment: Segment = { seq: 1, file, fd, size: 0, maxIndex: 0, hasRecords: true };
      const header = encodeRecord({ kind: 'hardState', hardState: this.hard });
      await this.fs.writev(fd, header, 0);
      await this.fs.fdatasync(fd);
      await syncDir(this.fs, this.dir);
      segment.size = encodedLength(header);
      this.segments.push(segment);
    }
    if (fresh) await writeIdentity(this.fs, this.dir, identity);
  }

  /** Picks the newest valid snapshot that covers the start of the log, and reconciles the log with it. */
  private async loadSnapshot(indexes: number[]): Promise<void> {
    let firstError: unknown = null;
    for (const index of indexes) {
      // The file is read through to verify it, and then left on disk: the snapshot's data is read from it
      // again each time it is used.
      let snapshot: Snapshot;
      try {
        const stored = await this.snapshots.verify(index);
        snapshot = { meta: stored.meta, data: this.snapshots.data(stored) };
      } catch (error) {
        this.logger.warn?.('skipped a corrupt snapshot', { index, error });
        firstError ??= error;
        continue;
      }
      if (this.base >= 0 && snapshot.meta.index < this.base) break;
      this.snap = snapshot;
      if (this.base < 0) {
        this.base = snapshot.meta.index;
        this.cacheFrom = this.base + 1;
      } else if (snapshot.meta.index > this.base) this.applyMarker(snapshot.meta.index, snapshot.meta.term);
      return;
    }
    if (firstError !== null) throw firstError;
    throw new LogStorageError(
      'CORRUPT',
      `no snapshot covers the start of the log (entry ${this.base + 1}): a snapshot file is missing`,
      { file: this.dir },
    );
  }
}

/**
 * The state a group's earlier writes leave, used to validate and plan each write before anything is
 * written. Reads through to the storage for what the group has not changed.
 */
class Projection {
  private base: number;
  private last: number;
  private snapIndex: number;
  /** Terms of entries this group appends. */
  private readonly terms = new Map<number, number>();

  constructor(private readonly storage: DiskLogStorage) {
    this.base = storage.firstIndex() - 1;
    this.last = storage.lastIndex();
    this.snapIndex = storage.snapshot().meta.index;
  }

  private termAt(index: number): number | undefined {
    if (index > this.last || index < this.base) return undefined;
    return this.terms.get(index) ?? this.storage.term(index);
  }

  /** The records `write` adds; throws (writing nothing) when it is invalid. */
  plan(write: PendingWrite): WalRecord[] {
    const { update } = write;
    const records: WalRecord[] = [];
    const snapshot = write.snapshot;
    if (write.kind === 'snapshot' && snapshot !== null) {
      if (snapshot.meta.index <= this.snapIndex) return records;
      if (snapshot.meta.index > this.last) {
        throw new RaftError(
          'INVALID_ARGUMENT',
          `snapshot at ${snapshot.meta.index} is past last index ${this.last}`,
        );
      }
    }
    if (snapshot !== null) {
      const { index, term } = snapshot.meta;
      if (index > this.snapIndex) {
        records.push({ kind: 'marker', index, term });
        const keep = index <= this.last && index > this.base && this.safeTerm(index) === term;
        if (!keep) this.last = index;
        this.base = index;
        this.snapIndex = index;
      }
    }
    const entries = update.entries;
    if (entries.length > 0) {
      const first = entries[0]!.index;
      if (first > this.last + 1) {
        throw new RaftError(
          'INVALID_ARGUMENT',
          `append at ${first} leaves a gap after last index ${this.last}`,
        );
      }
      for (const entry of entries) {
        if (entry.index <= this.base) continue;
        records.push({ kind: 'entry', entry });
        this.terms.set(entry.index, entry.term);
      }
      const lastEntry = entries[entries.length - 1]!.index;
      if (lastEntry > this.base) this.last = lastEntry;
    }
    if (update.hardState !== null) records.push({ kind: 'hardState', hardState: update.hardState });
    return records;
  }

  private safeTerm(index: number): number | undefined {
    try {
      return this.termAt(index);
    } catch {
      return undefined;
    }
  }
}
