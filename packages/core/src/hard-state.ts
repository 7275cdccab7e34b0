import type { NodeId } from './entry.js';

/**
 * The state a node must make durable before it acts on it (Raft Figure 2 "persistent state").
 * Invariant: across restarts `term` never decreases, and within one term `vote` never changes once set.
 */
export interface HardState {
  readonly term: number;
  /** The candidate voted for in `term`, or `null`. */
  readonly vote: NodeId | null;
  /** Highest index known committed. Persisting it is an optimisation (restarts re-apply less); it is not needed for safety. */
  readonly commit: number;
}

/** The hard state of a node that has never run. */
export const EMPTY_HARD_STATE: HardState = Object.freeze({ term: 0, vote: null, commit: 0 });

/** Whether two hard states are equal field by field. */
export function hardStateEquals(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
