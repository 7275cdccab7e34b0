import type { NodeId } from './entry.js';

/**
 * The membership of the cluster: who votes, who only receives the log, and where each member listens.
 *
 * During a joint configuration (Raft thesis §4.3) `votersOutgoing` holds the previous voters, and every
 * decision (commit, election, read, lease) needs a majority of `voters` *and* a majority of
 * `votersOutgoing`. Outside one it is empty or absent.
 *
 * Invariants: `voters` and `learners` are disjoint and hold no duplicates; `votersOutgoing` holds no
 * duplicates and is disjoint from `learners`; `addresses` names only members.
 */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  /** The voters of the configuration being left, while in a joint configuration; otherwise empty or absent. */
  readonly votersOutgoing?: readonly NodeId[];
  /**
   * Where members listen (for example `host:port`), as the operator gave it when adding them. The core only
   * carries it; transports and servers use it to reach members added while the cluster runs.
   */
  readonly addresses?: Readonly<Record<NodeId, string>>;
}

/** What one {@link MemberChange} does. */
export type MemberChangeType = 'addVoter' | 'addLearner' | 'removeNode';

/**
 * One change to the membership.
 * - `addVoter`: adds `nodeId` as a voter, or promotes it from learner to voter.
 * - `addLearner`: adds `nodeId` as a learner (a voter cannot be demoted).
 * - `removeNode`: removes `nodeId`, voter or learner.
 */
export interface MemberChange {
  readonly type: MemberChangeType;
  readonly nodeId: NodeId;
  /** Where the member listens; kept in {@link ConfState.addresses}. Optional on a promotion or removal. */
  readonly address?: string;
}

/**
 * The payload of a `config` log entry: the changes asked for and the complete configuration in force once
 * the entry is applied. Carrying the whole configuration (not only the delta) lets any node apply the
 * entry without knowing the configuration before it, such as a new member replaying the log from index 1.
 * A leader appends an entry with no `changes` to leave a joint configuration.
 */
export interface ConfChange {
  readonly changes: readonly MemberChange[];
  readonly conf: ConfState;
}

/** Options of a proposed membership change. */
export interface ConfChangeOptions {
  /**
   * The {@link configId} of the configuration the change was decided against (compare-and-set): the
   * change is refused with `CONFIG_MISMATCH` when the latest configuration in the leader's log differs.
   */
  readonly expectedConfigId?: string;
}
