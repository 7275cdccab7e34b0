import type { Entry } from './entry.js';

/**
 * Makes the commit of a configuration entry durable before anyone is told of it.
 *
 * Commit indexes are otherwise written lazily (without fsync), which is safe for ordinary entries: a commit
 * forgotten in a crash is learnt again from the next leader. It is not safe for a change that removes a
 * node, because the removed node stops once it learns the change committed. If the voters that knew of the
 * commit then lose it in a crash, they are left with the old configuration in force, whose quorum may need
 * the stopped node, and no leader can be elected. So a commit index that passes a configuration entry is
 * synced (`mustSync`), a leader reveals it to others only once its own write of it is durable, and a
 * follower acknowledges it only after its own write of it is durable.
 */
export class ConfCommitGuard {
  /** The highest commit index known to be on stable storage here. */
  private durableCommit: number;
  /** Indexes of configuration entries in the log above `durableCommit`, ascending (possibly stale, see `appended`). */
  private readonly pending: number[] = [];

  constructor(durableCommit: number, uncommitted: readonly Entry[]) {
    this.durableCommit = durableCommit;
    this.appended(uncommitted);
  }

  /**
   * Notes entries written to the log; they replace any entries at the same indexes. An index left behind by a
   * truncation past the end of `entries` only costs one extra sync later.
   */
  appended(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const last = first.index + entries.length - 1;
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const index = this.pending[i]!;
      if (index >= first.index && index <= last) this.pending.splice(i, 1);
    }
    let added = false;
    for (const entry of entries) {
      if (entry.type === 'config' && entry.index > this.durableCommit) {
        this.pending.push(entry.index);
        added = true;
      }
    }
    // Config entries are rare: the common append touches nothing here.
    if (added) this.pending.sort((a, b) => a - b);
  }

  /** Notes that the log was replaced by a snapshot: every earlier entry is gone. */
  restored(): void {
    this.pending.length = 0;
  }

  /** Whether writing `commit` must be synced: it passes a configuration entry not yet durably committed. */
  mustSync(commit: number): boolean {
    const next = this.pending[0];
    return next !== undefined && next <= commit;
  }

  /** The commit index that may be told to others: below the first configuration entry not durably committed. */
  revealable(commit: number): number {
    const next = this.pending[0];
    return next !== undefined && next <= commit ? next - 1 : commit;
  }

  /**
   * Notes a completed write whose hard state carried `commit`; it is durable if the write was synced.
   * Returns whether that made more of the commit index revealable.
   */
  written(commit: number, synced: boolean): boolean {
    if (!synced || commit <= this.durableCommit) return false;
    this.durableCommit = commit;
    let released = false;
    while (this.pending.length > 0 && this.pending[0]! <= commit) {
      this.pending.shift();
      released = true;
    }
    return released;
  }
}
