import type { Entry } from '../entry.js';
import { RaftError } from '../errors.js';
import type { ProposalTicket } from '../raw-node.js';
import type { Settler } from './operation.js';

interface PendingProposal<Result> {
  readonly term: number;
  readonly settler: Settler<Result>;
}

/**
 * The proposals this node made that are still waiting for their entry to be applied, keyed by log index.
 *
 * An entry is identified by (index, term): Raft's Log Matching property (§5.3) means only the leader of
 * `term` creates an entry at `index` in that term, once. So the proposal at (i, t) succeeded exactly when
 * the entry applied at `i` has term `t`; any other term at `i` means a newer leader replaced it.
 *
 * Invariant: every key is greater than the driver's applied index.
 */
export class PendingProposals<Result> {
  private readonly byIndex = new Map<number, PendingProposal<Result>>();

  /** @param kind the type of entry these proposals make: commands, or membership changes. */
  constructor(private readonly kind: 'normal' | 'config' = 'normal') {}

  /** Number of proposals waiting. */
  get size(): number {
    return this.byIndex.size;
  }

  /** Starts waiting for the entry of `ticket`. A stale waiter at the same index lost its entry and is dropped. */
  add(ticket: ProposalTicket, settler: Settler<Result>): void {
    const stale = this.byIndex.get(ticket.index);
    if (stale !== undefined && stale.term !== ticket.term) {
      stale.settler.reject(dropped(ticket.index, stale.term, ticket.term));
    }
    this.byIndex.set(ticket.index, { term: ticket.term, settler });
  }

  /** Stops waiting for `ticket` (after a timeout or abort), if `settler` is still the one waiting there. */
  forget(ticket: ProposalTicket, settler: Settler<Result>): void {
    if (this.byIndex.get(ticket.index)?.settler === settler) this.byIndex.delete(ticket.index);
  }

  /**
   * `entries` are about to replace the log from `entries[0].index` on: rejects the proposals whose entry
   * they replace with a different term, or truncate without replacing (an index past the last new entry
   * held by a proposal of an older term than that entry can never commit: §5.3, §5.4.1).
   * Returns how many were dropped.
   */
  maybeDropOverwritten(entries: readonly Entry[]): number {
    const first = entries[0];
    const last = entries[entries.length - 1];
    if (first === undefined || last === undefined) return 0;
    let count = 0;
    for (const [index, pending] of this.byIndex) {
      if (index < first.index) continue;
      const replacement = index <= last.index ? entries[index - first.index] : undefined;
      const lost = replacement !== undefined ? replacement.term !== pending.term : pending.term < last.term;
      if (lost) {
        this.byIndex.delete(index);
        pending.settler.reject(dropped(index, pending.term, replacement?.term ?? last.term));
        count++;
      }
    }
    return count;
  }

  /** The entry at `entry.index` was applied with `result`: resolves its proposal, or drops it if the term differs. */
  applied(entry: Entry, result: Result): void {
    const pending = this.byIndex.get(entry.index);
    if (pending === undefined) return;
    this.byIndex.delete(entry.index);
    if (pending.term === entry.term && entry.type === this.kind) pending.settler.resolve(result);
    else pending.settler.reject(dropped(entry.index, pending.term, entry.term));
  }

  /** An entry of another kind was applied at `entry.index`: any proposal there was replaced. */
  skipped(entry: Entry): void {
    const pending = this.byIndex.get(entry.index);
    if (pending === undefined) return;
    this.byIndex.delete(entry.index);
    pending.settler.reject(dropped(entry.index, pending.term, entry.term));
  }

  /**
   * A snapshot up to `index` replaced the state machine: proposals at or below it are settled without a
   * result. Their entries may or may not be part of the snapshot (it does not record the terms of the
   * entries it covers), so they fail with `TIMEOUT`, whose contract is "may or may not have been applied".
   */
  coveredBySnapshot(index: number): void {
    for (const [at, pending] of this.byIndex) {
      if (at > index) continue;
      this.byIndex.delete(at);
      pending.settler.reject(
        new RaftError(
          'OUTCOME_UNKNOWN',
          `the entry of this proposal (index ${at}) was covered by a snapshot before it was applied here; it may or may not have been applied`,
        ),
      );
    }
  }

  /** Rejects every waiting proposal with `error` (the node stopped). */
  rejectAll(error: RaftError): void {
    const all = [...this.byIndex.values()];
    this.byIndex.clear();
    for (const pending of all) pending.settler.reject(error);
  }
}

function dropped(index: number, proposedTerm: number, actualTerm: number): RaftError {
  return new RaftError(
    'PROPOSAL_DROPPED',
    `the entry proposed at index ${index} in term ${proposedTerm} was replaced by one from term ${actualTerm}; it was not applied`,
  );
}
