import type { LogReader } from '@tsraft/core';

/**
 * The simulator's copy of one node's log as its core sees it (durable entries plus those not yet written),
 * kept as terms only: index `i` has term `term(i)`.
 *
 * It is updated from every `Ready` when the simulator takes it (`entries` replace any suffix from their
 * first index; `snapshot` replaces everything), so right after `ready()` it equals the core's log.
 * Entries covered by a snapshot the node took itself are kept: the snapshot stands for them.
 * Invariant: `terms[k]` is the term of index `base + 1 + k`, and `term(base) === baseTerm`.
 */
export class ShadowLog {
  private base = 0;
  private baseTerm = 0;
  private terms: number[] = [];

  /** A log read back from stable storage (what a restarted node starts from). */
  static fromStorage(storage: LogReader): ShadowLog {
    const log = new ShadowLog();
    const snap = storage.snapshot().meta;
    log.base = snap.index;
    log.baseTerm = snap.term;
    const last = storage.lastIndex();
    for (let i = snap.index + 1; i <= last; i++) log.terms.push(storage.term(i));
    return log;
  }

  /** Index of the snapshot the log starts after (0 when none). */
  get snapshotIndex(): number {
    return this.base;
  }

  /** Term of the snapshot's last entry (0 when none). */
  get snapshotTerm(): number {
    return this.baseTerm;
  }

  /** Index of the last entry (the snapshot index when there are no entries after it). */
  lastIndex(): number {
    return this.base + this.terms.length;
  }

  /** Term at `index`, or `undefined` before the snapshot or past the end. */
  term(index: number): number | undefined {
    if (index === this.base) return this.baseTerm;
    if (index < this.base) return undefined;
    return this.terms[index - this.base - 1];
  }

  /** Replaces the whole log with a snapshot ending at (`index`, `term`). */
  restore(index: number, term: number): void {
    this.base = index;
    this.baseTerm = term;
    this.terms = [];
  }

  /**
   * Writes `term` at `index`, dropping every entry after it first if `index` is not one past the end.
   * @throws RangeError when `index` would leave a gap or falls at or before the snapshot.
   */
  put(index: number, term: number): void {
    const k = index - this.base - 1;
    if (k < 0 || k > this.terms.length) {
      throw new RangeError(
        `entry ${index} does not attach to a log ending at ${this.lastIndex()} (snapshot ${this.base})`,
      );
    }
    if (k < this.terms.length) this.terms.length = k;
    this.terms.push(term);
  }
}
