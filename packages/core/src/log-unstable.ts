import type { Entry } from './entry.js';
import type { Snapshot } from './snapshot.js';

/**
 * Entries and a snapshot the core holds that are not yet known durable.
 *
 * Invariant: `entries[i].index === offset + i`; when `snapshot` is set, `offset === snapshot.meta.index + 1`
 * or later. Entries below `offsetInProgress` (and the snapshot, when `snapshotInProgress`) were handed to the
 * driver in a Ready whose write has not completed.
 */
export class UnstableLog {
  snapshot: Snapshot | null = null;
  snapshotInProgress = false;
  entries: Entry[] = [];
  offset: number;
  offsetInProgress: number;

  constructor(offset: number) {
    this.offset = offset;
    this.offsetInProgress = offset;
  }

  /** First index of the log when a snapshot is pending, else undefined. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot === null ? undefined : this.snapshot.meta.index + 1;
  }

  /** Last index held here, else undefined. */
  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot === null ? undefined : this.snapshot.meta.index;
  }

  /** Term of `index` if held here, else undefined. */
  maybeTerm(index: number): number | undefined {
    if (index < this.offset) {
      return this.snapshot !== null && this.snapshot.meta.index === index
        ? this.snapshot.meta.term
        : undefined;
    }
    return this.entries[index - this.offset]?.term;
  }

  /** Entries not yet handed to the driver. */
  nextEntries(): Entry[] {
    const start = this.offsetInProgress - this.offset;
    return start >= this.entries.length ? [] : this.entries.slice(start);
  }

  /** The snapshot, if not yet handed to the driver. */
  nextSnapshot(): Snapshot | null {
    return this.snapshotInProgress ? null : this.snapshot;
  }

  /** Marks everything held as handed to the driver. */
  acceptInProgress(): void {
    this.offsetInProgress = this.offset + this.entries.length;
    if (this.snapshot !== null) this.snapshotInProgress = true;
  }

  /** Forgets entries up to `index` once written, unless they were replaced meanwhile (term differs). */
  stableTo(index: number, term: number): void {
    if (index < this.offset || this.maybeTerm(index) !== term) return;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
    this.offsetInProgress = Math.max(this.offsetInProgress, this.offset);
  }

  /** Forgets the snapshot at `index` once written. */
  stableSnapshotTo(index: number): void {
    if (this.snapshot !== null && this.snapshot.meta.index === index) {
      this.snapshot = null;
      this.snapshotInProgress = false;
    }
  }

  /** Replaces everything with a snapshot received from the leader. */
  restore(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    this.snapshotInProgress = false;
    this.entries = [];
    this.offset = snapshot.meta.index + 1;
    this.offsetInProgress = this.offset;
  }

  /** Appends `entries`, first dropping anything held at or after `entries[0].index` (a conflicting suffix). */
  truncateAndAppend(entries: readonly Entry[]): void {
    const first = entries[0]!.index;
    if (first === this.offset + this.entries.length) {
      for (const entry of entries) this.entries.push(entry);
    } else if (first <= this.offset) {
      // Replaces everything held here; the stable log is overwritten from `first` when this is written.
      this.offset = first;
      this.entries = entries.slice();
    } else {
      this.entries = this.entries.slice(0, first - this.offset);
      for (const entry of entries) this.entries.push(entry);
    }
    this.offsetInProgress = Math.min(this.offsetInProgress, first);
  }

  /** Entries in `[lo, hi)`; the caller ensures they are held here. */
  slice(lo: number, hi: number): Entry[] {
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
