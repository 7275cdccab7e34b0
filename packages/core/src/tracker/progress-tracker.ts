import { allVoters, isJoint } from '../conf-change.js';
import type { ConfState } from '../conf-state.js';
import type { NodeId } from '../entry.js';
import {
  majorityCommittedIndex,
  majorityVoteResult,
  quorumSize,
  type VoteResult,
} from '../quorum/majority.js';
import { Progress } from './progress.js';

/**
 * The membership as the core applies it, each member's replication progress (meaningful on the leader)
 * and the votes of the current election. In a joint configuration (thesis §4.3) every quorum is a
 * majority of the incoming voters *and* a majority of the outgoing ones.
 * Invariant: `progress` holds exactly the voters (incoming and outgoing) and learners of `conf`, and the
 * `departing` members.
 */
export class ProgressTracker {
  private confState: ConfState;
  private incoming: readonly NodeId[] = [];
  private outgoing: readonly NodeId[] = [];
  private everyVoter: readonly NodeId[] = [];
  readonly progress = new Map<NodeId, Progress>();
  /**
   * Members just removed, and the index of the entry that removed them: the leader keeps replicating to
   * them (they count for nothing) until they acknowledge that entry, so they learn they were removed.
   */
  readonly departing = new Map<NodeId, number>();
  private readonly votes = new Map<NodeId, boolean>();

  constructor(
    conf: ConfState,
    private readonly maxInflightMessages: number,
    private readonly maxInflightBytes: number,
  ) {
    this.confState = conf;
    this.indexConf();
    this.resetProgress(0, 1);
  }

  /** The membership in force. */
  get conf(): ConfState {
    return this.confState;
  }

  /** Every voting member: the incoming voters and, while joint, the outgoing ones. */
  get voters(): readonly NodeId[] {
    return this.everyVoter;
  }

  /**
   * Replaces the membership, keeping the progress of members that stay (a promoted learner keeps its
   * progress and starts counting). New members start in probe at `nextIndex`. With `departAt`, removed
   * members keep their progress as departing (see {@link departing}) until they acknowledge that index.
   */
  setConf(conf: ConfState, nextIndex: number, departAt = 0): void {
    this.confState = conf;
    this.indexConf();
    const keep = new Set<NodeId>([...this.everyVoter, ...conf.learners]);
    for (const id of [...this.departing.keys()]) if (keep.has(id)) this.departing.delete(id);
    for (const [id, pr] of [...this.progress]) {
      if (keep.has(id) || this.departing.has(id)) continue;
      if (departAt > 0) {
        pr.isLearner = true;
        this.departing.set(id, departAt);
      } else {
        this.progress.delete(id);
      }
    }
    for (const id of this.everyVoter) this.ensureProgress(id, false, nextIndex);
    for (const id of conf.learners) this.ensureProgress(id, true, nextIndex);
    for (const id of [...this.votes.keys()]) if (!this.isVoter(id)) this.votes.delete(id);
  }

  /** Whether `id` votes (incoming or outgoing). */
  isVoter(id: NodeId): boolean {
    return this.everyVoter.includes(id);
  }

  /** Whether `id` is a voter or a learner. */
  isMember(id: NodeId): boolean {
    return this.progress.has(id);
  }

  /**
   * Starts replicating to `id`, a node outside the configuration that still behaves as a member (it asked
   * for a vote), until it acknowledges `index`: the entry that removed it is then committed on it.
   */
  depart(id: NodeId, index: number, nextIndex: number): void {
    if (this.progress.has(id)) return;
    const pr = this.newProgress(nextIndex, true, 0);
    pr.recentActive = true; // it was just heard from; a snapshot may be sent to it
    this.progress.set(id, pr);
    this.departing.set(id, index);
  }

  /** Stops replicating to a departing member (it acknowledged its removal, or it is given up on). */
  forgetDeparting(id: NodeId): void {
    if (this.departing.delete(id)) this.progress.delete(id);
  }

  /** Fresh progress for every member: nothing known to match, `next` at the given index. */
  resetProgress(match: number, next: number): void {
    this.progress.clear();
    this.departing.clear();
    for (const id of this.everyVoter) this.progress.set(id, this.newProgress(next, false, match));
    for (const id of this.confState.learners) this.progress.set(id, this.newProgress(next, true, match));
  }

  /** The highest index on a quorum of voters (both majorities while joint). */
  committedIndex(): number {
    const match = (id: NodeId) => this.progress.get(id)?.match ?? 0;
    const inIncoming = majorityCommittedIndex(this.incoming, match);
    if (this.outgoing.length === 0) return inIncoming;
    return Math.min(inIncoming, majorityCommittedIndex(this.outgoing, match));
  }

  /** Whether a quorum of voters was heard from recently (`self` counts when it votes). */
  quorumActive(self: NodeId): boolean {
    const active = (id: NodeId) => id === self || this.progress.get(id)?.recentActive === true;
    return this.hasQuorumWhere(active);
  }

  /** Whether `ids` hold a quorum of the voters (both majorities while joint). */
  hasQuorum(ids: ReadonlySet<NodeId>): boolean {
    return this.hasQuorumWhere((id) => ids.has(id));
  }

  /** Marks every member as not heard from, except `self`. */
  resetRecentActive(self: NodeId): void {
    for (const [id, pr] of this.progress) pr.recentActive = id === self;
  }

  /** Forgets the votes of the previous election. */
  resetVotes(): void {
    this.votes.clear();
  }

  /** Records `id`'s vote (the first one per election counts) and returns the tally. */
  recordVote(id: NodeId, granted: boolean): VoteResult {
    if (!this.votes.has(id)) this.votes.set(id, granted);
    const incoming = majorityVoteResult(this.incoming, this.votes);
    if (this.outgoing.length === 0) return incoming;
    const outgoing = majorityVoteResult(this.outgoing, this.votes);
    if (incoming === 'lost' || outgoing === 'lost') return 'lost';
    if (incoming === 'won' && outgoing === 'won') return 'won';
    return 'pending';
  }

  private hasQuorumWhere(counts: (id: NodeId) => boolean): boolean {
    const majority = (voters: readonly NodeId[]) => {
      let n = 0;
      for (const id of voters) if (counts(id)) n++;
      return n >= quorumSize(voters.length);
    };
    if (this.incoming.length === 0) return false;
    return majority(this.incoming) && (this.outgoing.length === 0 || majority(this.outgoing));
  }

  private indexConf(): void {
    this.incoming = this.confState.voters;
    this.outgoing = isJoint(this.confState) ? this.confState.votersOutgoing! : [];
    this.everyVoter = allVoters(this.confState);
  }

  private ensureProgress(id: NodeId, isLearner: boolean, next: number): void {
    const existing = this.progress.get(id);
    if (existing !== undefined) existing.isLearner = isLearner;
    else this.progress.set(id, this.newProgress(next, isLearner, 0));
  }

  private newProgress(next: number, isLearner: boolean, match: number): Progress {
    const pr = new Progress(next, isLearner, this.maxInflightMessages, this.maxInflightBytes);
    pr.match = match;
    return pr;
  }
}
