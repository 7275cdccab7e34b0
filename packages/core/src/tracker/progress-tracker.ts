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
 * and the votes of the current election.
 * Invariant: `progress` holds exactly the voters and learners of `conf`.
 */
export class ProgressTracker {
  private confState: ConfState;
  readonly progress = new Map<NodeId, Progress>();
  private readonly votes = new Map<NodeId, boolean>();

  constructor(
    conf: ConfState,
    private readonly maxInflightMessages: number,
    private readonly maxInflightBytes: number,
  ) {
    this.confState = conf;
    this.resetProgress(0, 1);
  }

  /** The membership in force. */
  get conf(): ConfState {
    return this.confState;
  }

  /** Voting members. */
  get voters(): readonly NodeId[] {
    return this.confState.voters;
  }

  /** Replaces the membership (from a snapshot), keeping progress of members that stay. */
  setConf(conf: ConfState, lastIndex: number): void {
    this.confState = conf;
    this.resetProgress(0, lastIndex + 1);
  }

  /** Whether `id` votes. */
  isVoter(id: NodeId): boolean {
    return this.confState.voters.includes(id);
  }

  /** Whether `id` is a voter or a learner. */
  isMember(id: NodeId): boolean {
    return this.progress.has(id);
  }

  /** Fresh progress for every member: nothing known to match, `next` at the given index. */
  resetProgress(match: number, next: number): void {
    this.progress.clear();
    for (const id of this.confState.voters) this.progress.set(id, this.newProgress(next, false, match));
    for (const id of this.confState.learners) this.progress.set(id, this.newProgress(next, true, match));
  }

  /** The highest index on a majority of voters. */
  committedIndex(): number {
    return majorityCommittedIndex(this.confState.voters, (id) => this.progress.get(id)?.match ?? 0);
  }

  /** Whether a majority of voters was heard from recently (`self` always counts). */
  quorumActive(self: NodeId): boolean {
    let active = 0;
    for (const id of this.confState.voters) {
      if (id === self || this.progress.get(id)?.recentActive === true) active++;
    }
    return active >= quorumSize(this.confState.voters.length);
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
    return majorityVoteResult(this.confState.voters, this.votes);
  }

  private newProgress(next: number, isLearner: boolean, match: number): Progress {
    const pr = new Progress(next, isLearner, this.maxInflightMessages, this.maxInflightBytes);
    pr.match = match;
    return pr;
  }
}
