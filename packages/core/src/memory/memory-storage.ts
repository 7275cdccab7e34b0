import type { ConfState } from '../conf-state.js';
import type { Entry } from '../entry.js';
import { RaftError } from '../errors.js';
import { EMPTY_HARD_STATE, type HardState } from '../hard-state.js';
import { readEntryRange } from '../log-reader.js';
import type { LogStorage, StorageUpdate } from '../node/log-storage.js';
import type { Snapshot, SnapshotChunkSource, SnapshotMeta } from '../snapshot.js';
import { collectSnapshotData, SnapshotData } from '../snapshot-data.js';

/** Options of {@link MemoryStorage}. */
export interface MemoryStorageOptions {
  /** Membership of a new cluster; ignored when `snapshot` is given. */
  readonly conf?: ConfState;
  /** Start from this snapshot instead of an empty log. */
  readonly snapshot?: Snapshot;
  readonly hardState?: HardState;
}

/**
 * A {@link LogStorage} held in memory: for tests, examples and the simulator. Nothing survives the process.
 * Writes are visible at once; `save` resolves after the write, so "durable" means "in this object".
 */
export class MemoryStorage implements LogStorage {
  private hard: HardState;
  private snap: Snapshot;
  /** Entries after the snapshot. Invariant: `log[i].index === snap.meta.index + 1 + i`. */
  private log: Entry[] = [];
  private closed = false;

  constructor(options: MemoryStorageOptions = {}) {
    this.hard = options.hardState ?? EMPTY_HARD_STATE;
    this.snap = options.snapshot ?? {
      meta: { index: 0, term: 0, conf: options.conf ?? { voters: [], learners: [] } },
      data: SnapshotData.EMPTY,
    };
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hard, confState: this.snap.meta.conf };
  }

  entries(lo: number, hi: number, maxBytes = Number.POSITIVE_INFINITY): Entry[] {
    const offset = this.snap.meta.index;
    return readEntryRange(lo, hi, maxBytes, offset, this.lastIndex(), (i) => this.log[i - offset - 1]!);
  }

  term(index: number): number {
    const offset = this.snap.meta.index;
    if (index === offset) return this.snap.meta.term;
    if (index < offset)
      throw new RaftError('COMPACTED', `term of ${index} is compacted (snapshot at ${offset})`);
    const entry = this.log[index - offset - 1];
    if (entry === undefined)
      throw new RaftError('UNAVAILABLE', `no entry at ${index} (last is ${this.lastIndex()})`);
    return entry.term;
  }

  firstIndex(): number {
    return this.snap.meta.index + 1;
  }

  lastIndex(): number {
    return this.snap.meta.index + this.log.length;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** The saved hard state. */
  hardState(): HardState {
    return this.hard;
  }

  /** Synchronous form of {@link save}, for the simulator. */
  saveSync(update: StorageUpdate): void {
    this.checkOpen();
    if (update.snapshot !== null) this.installSnapshot(update.snapshot);
    if (update.entries.length > 0) this.append(update.entries);
    if (update.hardState !== null) this.hard = update.hardState;
  }

  async save(update: StorageUpdate): Promise<void> {
    this.saveSync(update);
  }

  async saveSnapshot(meta: SnapshotMeta, source: SnapshotChunkSource): Promise<void> {
    this.checkOpen();
    this.saveSnapshotSync({ meta, data: await collectSnapshotData(source) });
  }

  /** {@link saveSnapshot} done synchronously, for callers that must not wait (the simulator). */
  saveSnapshotSync(snapshot: Snapshot): void {
    this.checkOpen();
    const { meta } = snapshot;
    if (meta.index <= this.snap.meta.index) return;
    if (meta.index > this.lastIndex()) {
      throw new RaftError(
        'INVALID_ARGUMENT',
        `snapshot at ${meta.index} is past last index ${this.lastIndex()}`,
      );
    }
    this.compactTo(meta.index);
    this.snap = snapshot;
  }

  async compact(index: number): Promise<void> {
    this.checkOpen();
    if (index > this.snap.meta.index) {
      throw new RaftError(
        'INVALID_ARGUMENT',
        `cannot compact to ${index}: snapshot is at ${this.snap.meta.index}`,
      );
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private append(entries: readonly Entry[]): void {
    const first = entries[0]!.index;
    const offset = this.snap.meta.index;
    if (first > this.lastIndex() + 1) {
      throw new RaftError(
        'INVALID_ARGUMENT',
        `append at ${first} leaves a gap after last index ${this.lastIndex()}`,
      );
    }
    // Entries already covered by the snapshot are dropped; a conflicting suffix is replaced.
    const skip = Math.max(0, offset + 1 - first);
    if (skip >= entries.length) return;
    this.log.length = first + skip - offset - 1;
    for (let i = skip; i < entries.length; i++) this.log.push(entries[i]!);
  }

  private installSnapshot(snapshot: Snapshot): void {
    const { index, term } = snapshot.meta;
    // Keep the log after the snapshot only if it agrees with it (Raft §7, step 6).
    const keep = index <= this.lastIndex() && index > this.snap.meta.index && this.term(index) === term;
    if (keep) this.compactTo(index);
    else this.log = [];
    this.snap = snapshot;
  }

  private compactTo(index: number): void {
    this.log = this.log.slice(index - this.snap.meta.index);
  }

  private checkOpen(): void {
    if (this.closed) throw new RaftError('STOPPED', 'storage is closed');
  }
}
