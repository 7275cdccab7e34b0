import type { Entry } from './entry.js';
import { RaftError } from './errors.js';
import type { LogReader } from './log-reader.js';
import { UnstableLog } from './log-unstable.js';
import type { Snapshot } from './snapshot.js';

/**
 * The log as the core sees it: what is durable (read through {@link LogReader}) followed by what is not
 * yet ({@link UnstableLog}), with the commit and apply positions.
 * Invariant: `applied <= committed <= lastIndex()`.
 */
export class RaftLog {
  readonly unstable: UnstableLog;
  committed: number;
  applied: number;

  constructor(
    private readonly storage: LogReader,
    committed: number,
    applied: number,
  ) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new UnstableLog(last + 1);
    // A commit index from the hard state may trail the snapshot (the snapshot was installed later).
    this.committed = Math.max(committed, first - 1);
    if (this.committed > last) {
      throw new RaftError(
        'INVALID_ARGUMENT',
        `hard state commit ${committed} is past the last stored index ${last}`,
      );
    }
    this.applied = Math.min(Math.max(applied, first - 1), this.committed);
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** Highest index known durable (written by a completed Ready). */
  stableLastIndex(): number {
    return this.unstable.snapshot !== null ? this.unstable.snapshot.meta.index - 1 : this.unstable.offset - 1;
  }

  /** Term at `index`, or undefined when it is compacted away or past the end. */
  term(index: number): number | undefined {
    const unstable = this.unstable.maybeTerm(index);
    if (unstable !== undefined) return unstable;
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return undefined;
    try {
      return this.storage.term(index);
    } catch (error) {
      if (error instanceof RaftError && (error.code === 'COMPACTED' || error.code === 'UNAVAILABLE'))
        return undefined;
      throw error;
    }
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Whether a log ending at (`lastIndex`, `lastTerm`) is at least as up to date as this one (Raft §5.4.1). */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myLastTerm = this.lastTerm();
    return lastTerm > myLastTerm || (lastTerm === myLastTerm && lastIndex >= this.lastIndex());
  }

  /**
   * The last index at or below `index` whose term is at most `term`, with that term; used for fast
   * back-off (Raft §5.3): everything after it in this log cannot match a log whose entry at `index` has `term`.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let i = Math.min(index, this.lastIndex());
    for (;;) {
      const t = this.term(i);
      if (t === undefined) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
      i--;
    }
  }

  /**
   * The follower side of AppendEntries after the consistency check passed at `prevIndex`: appends what is
   * new, truncating a conflicting suffix, and returns the index of the last entry of the message.
   */
  appendAfterMatch(prevIndex: number, entries: readonly Entry[]): number {
    const lastNew = prevIndex + entries.length;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      if (this.term(entry.index) === entry.term) continue;
      if (entry.index <= this.committed) {
        throw new RaftError(
          'INVALID_ARGUMENT',
          `entry ${entry.index} (term ${entry.term}) conflicts with the committed log (commit ${this.committed})`,
        );
      }
      this.unstable.truncateAndAppend(i === 0 ? entries : entries.slice(i));
      break;
    }
    return lastNew;
  }

  /** Appends entries at the end of the log (leader side). */
  append(entries: readonly Entry[]): void {
    this.unstable.truncateAndAppend(entries);
  }

  /** Entries in `[lo, hi)` limited to `maxBytes` of payload (at least one entry). */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo >= hi) return [];
    const out: Entry[] = [];
    const unstableStart = this.unstable.offset;
    if (lo < unstableStart) {
      const stored = this.storage.entries(lo, Math.min(hi, unstableStart), maxBytes);
      for (const entry of stored) out.push(entry);
      if (stored.length < Math.min(hi, unstableStart) - lo) return out; // byte limit reached
      maxBytes -= sumBytes(stored);
    }
    if (hi > unstableStart) {
      const held = this.unstable.slice(Math.max(lo, unstableStart), hi);
      for (const entry of held) {
        if (out.length > 0 && entry.data.byteLength > maxBytes) break;
        out.push(entry);
        maxBytes -= entry.data.byteLength;
      }
    }
    return out;
  }

  /** Raises the commit index (never lowers it). */
  commitTo(index: number): void {
    if (index <= this.committed) return;
    if (index > this.lastIndex()) {
      throw new RaftError('INVALID_ARGUMENT', `commit ${index} is past the last index ${this.lastIndex()}`);
    }
    this.committed = index;
  }

  /** Committed, durable entries not yet handed out for applying, up to `maxBytes` (at least one). */
  nextCommittedEntries(maxBytes: number): Entry[] {
    if (this.unstable.snapshot !== null) return [];
    const hi = Math.min(this.committed, this.stableLastIndex()) + 1;
    const lo = Math.max(this.applied + 1, this.firstIndex());
    if (lo >= hi) return [];
    return this.slice(lo, hi, maxBytes === 0 ? Number.POSITIVE_INFINITY : maxBytes);
  }

  hasNextCommittedEntries(): boolean {
    if (this.unstable.snapshot !== null) return false;
    return Math.min(this.committed, this.stableLastIndex()) > this.applied;
  }

  /** The newest snapshot, pending or stored. */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Replaces the log with a snapshot from the leader. */
  restore(snapshot: Snapshot): void {
    this.committed = snapshot.meta.index;
    this.unstable.restore(snapshot);
  }
}

function sumBytes(entries: readonly Entry[]): number {
  let total = 0;
  for (const entry of entries) total += entry.data.byteLength;
  return total;
}
