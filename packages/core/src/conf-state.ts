import type { NodeId } from './entry.js';

/**
 * The membership of the cluster: who votes and who only receives the log.
 * Invariant: `voters` and `learners` are disjoint and hold no duplicates.
 */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/**
 * A single-server membership change (Raft thesis §4.1), carried in a `config` entry.
 * Applying one is the subject of the membership issue; the type lives here so the log format does not change.
 */
export interface ConfChange {
  readonly type: 'addVoter' | 'addLearner' | 'removeNode';
  readonly nodeId: NodeId;
}
