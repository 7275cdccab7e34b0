import { applyMemberChanges, configId, isJoint, isMember, leaveJoint } from './conf-change.js';
import { decodeConfChange, encodeConfChange } from './conf-change-codec.js';
import { ConfCommitGuard } from './conf-commit-guard.js';
import type { ConfChangeOptions, ConfState, MemberChange } from './conf-state.js';
import { type RaftConfig, type ResolvedRaftConfig, resolveRaftConfig } from './config.js';
import type { Entry, NodeId } from './entry.js';
import { RaftError } from './errors.js';
import { EMPTY_HARD_STATE, type HardState, hardStateEquals } from './hard-state.js';
import type {
  AppendRequest,
  AppendResponse,
  Heartbeat,
  HeartbeatResponse,
  InstallSnapshot,
  Message,
  VoteRequest,
} from './message.js';
import { validateMessage } from './message-validation.js';
import { RaftLog } from './raft-log.js';
import { ReadOnlyQueue } from './read-only.js';
import type { ReadState, Ready, Role, SoftState } from './ready.js';
import { SeededRandom } from './rng.js';
import type { BasicStatus, ProgressStatus, RaftStatus } from './status.js';
import type { Progress } from './tracker/progress.js';
import { ProgressTracker } from './tracker/progress-tracker.js';

/**
 * Deliberate safety bugs, for proving that the simulator's checkers catch them.
 * Reachable only through `@tsraft/core/testing`; never through {@link RaftConfig}.
 */
export interface UnsafeFaults {
  /** Commit by counting replicas of an entry of an earlier term (breaks Raft §5.4.2, Figure 8). */
  readonly disableFigure8Rule?: boolean;
  /** Grant a vote to every up-to-date candidate, even after voting for another in the same term. */
  readonly grantMultipleVotesPerTerm?: boolean;
}

/** Heartbeat responses a leader waits for in `snapshot` progress before assuming the snapshot was lost. */
const SNAPSHOT_RETRY_HEARTBEATS = 20;

type AnyMessage = Message;
type Outgoing<M extends AnyMessage> = M extends AnyMessage
  ? Omit<M, 'from' | 'term'> & { term?: number }
  : never;

/**
 * The Raft state machine (Raft paper §5, thesis §3, §6, §9). See {@link RawNode} for its public API.
 * Roles are swapped step functions (`stepLeader`, `stepCandidate`, `stepFollower`) set by `become*`.
 */
export class Raft {
  readonly id: NodeId;
  private readonly cfg: ResolvedRaftConfig;
  private readonly rng: SeededRandom;
  private readonly faults: UnsafeFaults;

  private term = 0;
  private vote: NodeId | null = null;
  private leader: NodeId | null = null;
  private role: Role = 'follower';
  private readonly log: RaftLog;
  private readonly tracker: ProgressTracker;
  private readOnly = new ReadOnlyQueue();
  private stepRole: (m: Message) => void;

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private transferee: NodeId | null = null;

  /** Reads that arrived before this leader committed an entry of its term (thesis §6.4 step 1). */
  private readsAwaitingCommit: { from: NodeId; requestId: number }[] = [];
  /** A read round whose heartbeat goes out with the next Ready (one broadcast per batch of reads). */
  private readHeartbeatDue = false;
  /** Proposals appended since the last Ready: replicated together when it is taken. */
  private appendDue = false;
  /** Uncommitted proposal sizes on the leader, oldest first, for the `maxUncommittedBytes` bound. */
  private uncommitted: { index: number; bytes: number }[] = [];
  private uncommittedBytes = 0;

  /**
   * On the leader, the index of the latest config entry in its log (or, just after winning, its whole
   * log): no new change is accepted until the configuration has been applied up to it (one at a time).
   */
  private pendingConfIndex = 0;
  /** The highest index whose configuration is applied: committed entries handed out so far. */
  private confAppliedThrough = 0;
  /** Whether a leader released this node from the configuration that removed it (see releaseDeparting). */
  private released = false;
  /** A campaign held back until a committed configuration is applied; `true` for a leadership transfer. */
  private deferredCampaign: boolean | null = null;
  /** Index of the entry (or snapshot) that made the configuration in force; 0 for the initial one. */
  private confIndex = 0;
  /** The configuration to report in the next Ready, when it changed. */
  private confChanged: ConfState | null = null;

  private messages: Message[] = [];
  private persistedMessages: Message[] = [];
  private readStates: ReadState[] = [];
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private inFlight: Ready | null = null;
  /** Readies accepted whose write is not reported durable yet, oldest first. */
  private readonly unpersisted: Ready[] = [];
  /** The commit index each of `unpersisted` writes (its hard state's, or the last one written before it). */
  private readonly unpersistedCommits: number[] = [];
  /** Keeps the commit of a configuration entry from being told before it is durable. */
  private readonly confCommitGuard: ConfCommitGuard;

  constructor(config: RaftConfig, faults: UnsafeFaults) {
    this.cfg = resolveRaftConfig(config);
    this.id = this.cfg.id;
    this.faults = faults;
    this.rng = new SeededRandom(this.cfg.randomSeed);
    const { hardState, confState } = this.cfg.storage.initialState();
    this.log = new RaftLog(this.cfg.storage, hardState.commit, this.cfg.applied);
    this.tracker = new ProgressTracker(
      this.replayConf(confState),
      this.cfg.maxInflightMessages,
      this.cfg.maxInflightBytes,
    );
    this.confAppliedThrough = this.log.applied;
    this.term = hardState.term;
    this.vote = hardState.vote;
    this.prevHardState = { term: hardState.term, vote: hardState.vote, commit: this.log.committed };
    this.confCommitGuard = new ConfCommitGuard(this.log.committed, this.uncommittedEntries());
    this.stepRole = this.stepFollower;
    this.becomeFollower(this.term, null);
    this.prevSoftState = { leader: null, role: 'follower' };
  }

  // ---------------------------------------------------------------------------------------------
  // Inputs

  tick(): void {
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
  }

  campaign(): void {
    this.hup(false);
  }

  propose(data: Uint8Array): { index: number; term: number } {
    if (!(data instanceof Uint8Array))
      throw new RaftError('INVALID_ARGUMENT', 'proposal data must be a Uint8Array');
    if (this.role !== 'leader') {
      throw new RaftError('NOT_LEADER', `${this.id} is not the leader`, { leader: this.leader });
    }
    if (!this.tracker.isVoter(this.id)) {
      // A removed leader only finishes replicating the change that removed it. An entry it appended now could
      // leave its log ahead of every voter's, and a voter that still needs its vote could never win it.
      throw new RaftError('NOT_LEADER', `${this.id} was removed and is handing over leadership`, {
        leader: this.transferee,
      });
    }
    if (this.transferee !== null) {
      throw new RaftError('TRANSFER_IN_PROGRESS', `leadership is moving to ${this.transferee}`, {
        leader: this.transferee,
      });
    }
    const bytes = data.byteLength;
    const limit = this.cfg.maxUncommittedBytes;
    if (limit > 0 && this.uncommittedBytes > 0 && this.uncommittedBytes + bytes > limit) {
      throw new RaftError(
        'TOO_MANY_UNCOMMITTED',
        `${this.uncommittedBytes} bytes of proposals are uncommitted (limit ${limit}); retry after a pause`,
        { leader: this.id },
      );
    }
    const entry: Entry = { term: this.term, index: this.log.lastIndex() + 1, type: 'normal', data };
    this.log.append([entry]);
    this.uncommitted.push({ index: entry.index, bytes });
    this.uncommittedBytes += bytes;
    this.appendDue = true;
    return { index: entry.index, term: entry.term };
  }

  proposeConfChange(
    changes: readonly MemberChange[],
    options: ConfChangeOptions = {},
  ): {
    index: number;
    term: number;
  } {
    if (!Array.isArray(changes)) throw new RaftError('INVALID_ARGUMENT', 'changes must be an array');
    if (this.role !== 'leader') {
      throw new RaftError('NOT_LEADER', `${this.id} is not the leader`, { leader: this.leader });
    }
    if (this.transferee !== null) {
      throw new RaftError('TRANSFER_IN_PROGRESS', `leadership is moving to ${this.transferee}`, {
        leader: this.transferee,
      });
    }
    // One change at a time, each decided against the configuration it follows (thesis §4.1); a new leader
    // first commits an entry of its term, so a change of an earlier leader cannot still be in flight (the
    // single-server bug discussed on raft-dev, 2015).
    if (this.pendingConfIndex > this.confAppliedThrough || !this.committedInCurrentTerm()) {
      throw new RaftError(
        'CONF_CHANGE_IN_PROGRESS',
        'a membership change is still being applied (or this leader has not caught up yet); retry shortly',
        { leader: this.id },
      );
    }
    const current = this.tracker.conf;
    if (options.expectedConfigId !== undefined && options.expectedConfigId !== configId(current)) {
      throw new RaftError(
        'CONFIG_MISMATCH',
        `the configuration is ${configId(current)}, not the expected ${options.expectedConfigId}`,
        { leader: this.id },
      );
    }
    const conf = applyMemberChanges(current, changes);
    const index = this.appendConfEntry(changes, conf);
    return { index, term: this.term };
  }

  step(m: Message): void {
    validateMessage(m);
    if (m.to !== this.id)
      throw new RaftError('INVALID_ARGUMENT', `message for ${m.to} delivered to ${this.id}`);
    if (m.from === this.id) throw new RaftError('INVALID_ARGUMENT', `message from ${m.from} to itself`);
    if (
      (m.type === 'vote' || m.type === 'heartbeat' || m.type === 'append') &&
      this.role === 'leader' &&
      this.confIndex > 0 &&
      !this.tracker.isMember(m.from)
    ) {
      // A node outside the configuration asks for votes, or still acts as a leader (a removed leader that
      // handed over): it missed its removal, or has not heard of its successor. Replicate to it until it has
      // the entry that removed it and every voter knows it committed, so it learns and stops (its votes and
      // acknowledgements count for nothing meanwhile).
      this.tracker.depart(m.from, this.confIndex, this.log.lastIndex() + 1);
      this.sendAppends(m.from, true);
    }

    if (m.term > this.term) {
      if (m.type === 'vote' && !m.leadershipTransfer && this.inLease()) {
        // A live leader exists: a disruptive candidate (or a removed node) must not depose it (thesis §4.2.3).
        return;
      }
      if (m.type === 'vote' && m.preVote) {
        // A pre-vote carries a term we have not reached; answering it changes nothing here.
      } else if (m.type === 'voteResponse' && m.preVote) {
        // A granted pre-vote carries our own future term; a refusal carries the refuser's newer term.
        if (!m.granted) this.becomeFollower(m.term, null);
      } else {
        const fromLeader = m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot';
        this.becomeFollower(m.term, fromLeader ? m.from : null);
      }
    } else if (m.term < this.term) {
      if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.type === 'append' || m.type === 'heartbeat')) {
        // A stale leader: answer so it learns the newer term and steps down.
        this.send({
          type: 'appendResponse',
          commit: this.log.committed,
          to: m.from,
          reject: false,
          index: 0,
          rejectHintIndex: 0,
          rejectHintTerm: 0,
        });
      } else if (m.type === 'vote' && m.preVote) {
        this.send({ type: 'voteResponse', to: m.from, preVote: true, granted: false });
      }
      return;
    }

    if (m.type === 'vote') {
      this.handleVoteRequest(m);
      return;
    }
    this.stepRole(m);
  }

  readIndex(requestId: number, lease = false): void {
    if (!Number.isSafeInteger(requestId) || requestId < 0) {
      throw new RaftError(
        'INVALID_ARGUMENT',
        `requestId must be a non-negative safe integer, got ${requestId}`,
      );
    }
    if (lease && this.leaseReadAllowed()) {
      this.answerRead(this.id, requestId, this.log.committed);
      return;
    }
    this.handleReadIndex(this.id, requestId);
  }

  /**
   * Whether a leader may answer a read from its commit index without a heartbeat round (thesis §6.4.1):
   * a quorum answered it within the current check-quorum period (at most an election timeout), and a voter
   * ignores vote requests for an election timeout after hearing from its leader, so no other leader can
   * have been elected meanwhile, provided clocks advance at about the same rate and messages are not
   * delayed by a large part of an election timeout. It must also have committed an entry of its own term
   * (its commit index is then the latest) and not be handing leadership over.
   */
  private leaseReadAllowed(): boolean {
    return (
      this.role === 'leader' &&
      this.cfg.checkQuorum &&
      this.transferee === null &&
      this.tracker.isVoter(this.id) &&
      this.committedInCurrentTerm() &&
      this.tracker.quorumActive(this.id)
    );
  }

  transferLeadership(to: NodeId): void {
    if (this.role !== 'leader') {
      throw new RaftError('NOT_LEADER', `${this.id} is not the leader`, { leader: this.leader });
    }
    if (to === this.id) return;
    if (!this.tracker.isVoter(to)) throw new RaftError('INVALID_ARGUMENT', `${to} is not a voter`);
    if (this.transferee === to) return;
    this.transferee = to;
    // The transfer must finish within an election timeout, or it is abandoned (thesis §3.10).
    this.electionElapsed = 0;
    if (!this.maybeSendTimeoutNow(to)) this.sendAppends(to, true);
  }

  reportUnreachable(peer: NodeId): void {
    if (this.role !== 'leader') return;
    const pr = this.tracker.progress.get(peer);
    if (pr?.state === 'replicate') pr.becomeProbe();
  }

  reportSnapshot(peer: NodeId, ok: boolean): void {
    if (this.role !== 'leader') return;
    const pr = this.tracker.progress.get(peer);
    if (pr?.state !== 'snapshot') return;
    if (!ok) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    // Wait for a heartbeat response before probing, so a slow peer is not flooded.
    pr.probeSent = true;
  }

  // ---------------------------------------------------------------------------------------------
  // Ready / advance

  hasReady(): boolean {
    if (this.inFlight !== null) return false;
    if (this.appendDue || this.readHeartbeatDue) return true;
    if (this.messages.length > 0 || this.persistedMessages.length > 0 || this.readStates.length > 0)
      return true;
    if (this.role !== this.prevSoftState.role || this.leader !== this.prevSoftState.leader) return true;
    if (!hardStateEquals(this.hardState(), this.prevHardState)) return true;
    const unstable = this.log.unstable;
    if (unstable.nextSnapshot() !== null) return true;
    if (unstable.offsetInProgress < unstable.offset + unstable.entries.length) return true;
    return this.log.hasNextCommittedEntries();
  }

  ready(): Ready {
    if (this.inFlight !== null)
      throw new RaftError('INVALID_ARGUMENT', 'ready() called before advance() of the previous Ready');
    if (this.role === 'leader') {
      if (this.appendDue) this.bcastAppend(false);
      if (this.readHeartbeatDue) this.bcastHeartbeat(this.readOnly.lastContext());
    }
    this.appendDue = false;
    this.readHeartbeatDue = false;

    const unstable = this.log.unstable;
    const hardState = this.hardState();
    const hardChanged = !hardStateEquals(hardState, this.prevHardState);
    const softChanged = this.role !== this.prevSoftState.role || this.leader !== this.prevSoftState.leader;
    const entries = unstable.nextEntries();
    const snapshot = unstable.nextSnapshot();
    const committedEntries = this.log.nextCommittedEntries(this.cfg.maxCommittedBytesPerReady);
    for (const entry of committedEntries) {
      if (entry.type === 'config') this.applyConfEntry(entry);
    }
    const last = committedEntries[committedEntries.length - 1];
    if (last !== undefined) this.confAppliedThrough = Math.max(this.confAppliedThrough, last.index);
    const confState = this.confChanged;
    this.confChanged = null;
    const ready: Ready = {
      softState: softChanged ? { leader: this.leader, role: this.role } : null,
      hardState: hardChanged ? hardState : null,
      entries,
      snapshot,
      committedEntries,
      confState,
      messages: this.messages,
      persistedMessages: this.persistedMessages,
      readStates: this.readStates,
      mustSync:
        entries.length > 0 ||
        this.confCommitGuard.mustSync(hardState.commit) ||
        snapshot !== null ||
        hardState.term !== this.prevHardState.term ||
        hardState.vote !== this.prevHardState.vote,
    };
    unstable.acceptInProgress();
    if (ready.softState !== null) this.prevSoftState = ready.softState;
    this.messages = [];
    this.persistedMessages = [];
    this.readStates = [];
    this.inFlight = ready;
    return ready;
  }

  advance(ready: Ready): void {
    this.acceptReady(ready);
    this.persisted(ready);
  }

  acceptReady(ready: Ready): void {
    if (ready !== this.inFlight)
      throw new RaftError('INVALID_ARGUMENT', 'acceptReady() takes the Ready last returned by ready()');
    this.inFlight = null;
    this.unpersisted.push(ready);
    // Handed out for writing: a later Ready compares against it (writes complete in order).
    if (ready.hardState !== null) this.prevHardState = ready.hardState;
    this.unpersistedCommits.push(this.prevHardState.commit);
    if (ready.snapshot !== null) this.log.applied = Math.max(this.log.applied, ready.snapshot.meta.index);
    const lastApplied = ready.committedEntries[ready.committedEntries.length - 1];
    if (lastApplied !== undefined) this.log.applied = Math.max(this.log.applied, lastApplied.index);
    if (this.deferredCampaign !== null && !this.hasUnappliedConfChange()) this.hup(this.deferredCampaign);
    // A joint configuration is left as soon as it is applied (thesis §4.3): the leader appends C_new.
    if (
      this.role === 'leader' &&
      isJoint(this.tracker.conf) &&
      this.pendingConfIndex <= this.confAppliedThrough
    ) {
      this.appendConfEntry([], leaveJoint(this.tracker.conf));
    }
  }

  persisted(ready: Ready): void {
    if (this.unpersisted[0] !== ready) {
      throw new RaftError(
        'INVALID_ARGUMENT',
        'persisted() takes the oldest accepted Ready whose write was not reported yet',
      );
    }
    this.unpersisted.shift();
    const writtenCommit = this.unpersistedCommits.shift()!;
    const revealed = this.confCommitGuard.written(writtenCommit, ready.mustSync);
    const unstable = this.log.unstable;
    if (ready.snapshot !== null) unstable.stableSnapshotTo(ready.snapshot.meta.index);
    const lastEntry = ready.entries[ready.entries.length - 1];
    if (lastEntry !== undefined) unstable.stableTo(lastEntry.index, lastEntry.term);

    // What could only take effect once durable.
    if (
      this.role === 'candidate' &&
      ready.hardState !== null &&
      ready.hardState.term === this.term &&
      ready.hardState.vote === this.id
    ) {
      this.poll(this.id, true);
    }
    if (this.role === 'leader') {
      const self = this.tracker.progress.get(this.id);
      if (self?.maybeUpdate(this.log.stableLastIndex()) && this.maybeCommit()) this.bcastAppend(true);
      // A commit held back until durable (see ConfCommitGuard) goes out now, to paused followers too.
      if (revealed) {
        this.bcastHeartbeat(this.readOnly.lastContext());
        this.releaseDeparting();
      }
    }
  }

  basicStatus(): BasicStatus {
    return { id: this.id, role: this.role, leader: this.leader, term: this.term, commit: this.log.committed };
  }

  status(): RaftStatus {
    let progress: Map<NodeId, ProgressStatus> | null = null;
    if (this.role === 'leader') {
      progress = new Map();
      for (const [id, pr] of this.tracker.progress) {
        progress.set(id, {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          inflightMessages: pr.inflights.size,
          recentActive: pr.recentActive,
          isLearner: pr.isLearner,
        });
      }
    }
    return {
      id: this.id,
      role: this.role,
      leader: this.leader,
      hardState: this.hardState(),
      applied: this.log.applied,
      lastIndex: this.log.lastIndex(),
      transferee: this.transferee,
      conf: this.tracker.conf,
      progress,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Roles

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = null;
    }
    this.leader = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.cfg.electionTicks + this.rng.nextInt(this.cfg.electionTicks);
    this.transferee = null;
    this.deferredCampaign = null;
    this.tracker.resetVotes();
    this.tracker.resetProgress(0, this.log.lastIndex() + 1);
    this.appendDue = false;
    this.readHeartbeatDue = false;
    this.uncommitted = [];
    this.uncommittedBytes = 0;
  }

  private becomeFollower(term: number, leader: NodeId | null): void {
    const wasLeader = this.role === 'leader';
    this.reset(term);
    this.role = 'follower';
    this.leader = leader;
    this.stepRole = this.stepFollower;
    if (wasLeader) this.failPendingReads();
  }

  private becomePreCandidate(): void {
    // Changes neither term nor vote (thesis §9.6): a failed pre-vote leaves no trace.
    this.role = 'preCandidate';
    this.leader = null;
    this.tracker.resetVotes();
    this.stepRole = this.stepCandidate;
  }

  private becomeCandidate(): void {
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
    this.stepRole = this.stepCandidate;
    // Our own vote counts once the vote is durable (see advance()).
  }

  private becomeLeader(): void {
    this.reset(this.term);
    this.role = 'leader';
    this.leader = this.id;
    this.stepRole = this.stepLeader;
    const self = this.tracker.progress.get(this.id);
    if (self !== undefined) {
      self.match = this.log.stableLastIndex();
      self.becomeReplicate();
    }
    for (const pr of this.tracker.progress.values()) pr.recentActive = pr === self;
    // Entries of earlier terms may hold a change not applied yet: no new change until they are.
    this.pendingConfIndex = this.log.lastIndex();
    // Commit an entry of this term so earlier entries commit and ReadIndex becomes safe (Raft §5.4.2, §8).
    this.log.append([
      { term: this.term, index: this.log.lastIndex() + 1, type: 'noop', data: new Uint8Array(0) },
    ]);
    this.appendDue = true;
    if (!this.tracker.isVoter(this.id)) this.handOverLeadership();
  }

  /**
   * Whether this node is outside its configuration in force, which has voters: it was removed, or its log
   * does not yet reach the entry that added it.
   */
  private isOutsider(): boolean {
    return !this.tracker.isMember(this.id) && this.tracker.voters.length > 0;
  }

  /** See RawNode.released. */
  isReleased(): boolean {
    return this.released;
  }

  /**
   * Starts an election (after a pre-vote, unless this is a transfer). An outsider may campaign too, always
   * after a pre-vote (which never disturbs a cluster that has a leader) and only counting the voters'
   * votes. This is as safe as any node campaigning under the configuration it knows, and it is needed: an
   * outsider may be the only node that knows a change committed (a removed leader, say), while a voter that
   * does not still needs its vote and cannot get it, its log being shorter. A leader seeing the outsider's
   * vote request replicates to it, so it learns how the cluster went on; if there is none and the outsider
   * wins, it leads only until its entries reach a voter, then hands leadership over (handOverLeadership).
   */
  private hup(transfer: boolean): void {
    if (this.role === 'leader') return;
    const outsider = this.isOutsider();
    if (!this.tracker.isVoter(this.id) && !(outsider && !transfer)) return;
    // Campaigning under a configuration already replaced by a committed one could gather a majority the
    // cluster no longer needs (etcd's rule): campaign once it is applied (see acceptReady).
    if (this.hasUnappliedConfChange()) {
      this.deferredCampaign = transfer || this.deferredCampaign === true;
      return;
    }
    this.deferredCampaign = null;
    if ((this.cfg.preVote || outsider) && !transfer) {
      this.becomePreCandidate();
      this.electionElapsed = 0;
      if (this.poll(this.id, true) !== 'pending') return;
      this.requestVotes(true, false);
    } else {
      this.becomeCandidate();
      this.requestVotes(false, transfer);
    }
  }

  private requestVotes(preVote: boolean, transfer: boolean): void {
    const term = preVote ? this.term + 1 : this.term;
    const lastLogIndex = this.log.lastIndex();
    const lastLogTerm = this.log.lastTerm();
    for (const id of this.tracker.voters) {
      if (id === this.id) continue;
      this.send({
        type: 'vote',
        to: id,
        term,
        preVote,
        lastLogIndex,
        lastLogTerm,
        leadershipTransfer: transfer,
      });
    }
  }

  /** Records a vote and acts on the tally: win, lose or keep waiting. */
  private poll(from: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    const result = this.tracker.recordVote(from, granted);
    if (result === 'won') {
      if (this.role === 'preCandidate') {
        this.becomeCandidate();
        this.requestVotes(false, false);
      } else {
        this.becomeLeader();
      }
    } else if (result === 'lost') {
      this.becomeFollower(this.term, null);
    }
    return result;
  }

  private inLease(): boolean {
    return this.cfg.checkQuorum && this.leader !== null && this.electionElapsed < this.cfg.electionTicks;
  }

  // ---------------------------------------------------------------------------------------------
  // Ticks

  private tickElection(): void {
    this.electionElapsed++;
    if (this.electionElapsed < this.randomizedElectionTimeout) return;
    if (this.tracker.isVoter(this.id) || this.isOutsider()) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTicks) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum) {
        // Thesis §6.2: a leader cut off from a quorum steps down, so clients look elsewhere. Not a removed
        // leader: it serves no client, and it may be the only node that knows its removal committed (a voter
        // that does not still needs its vote, which it refuses while its log is longer), so it keeps
        // replicating until it hands over, or hears of a later term.
        if (!this.tracker.quorumActive(this.id) && this.tracker.isVoter(this.id)) {
          this.becomeFollower(this.term, null);
          return;
        }
        this.tracker.resetRecentActive(this.id);
      }
      this.transferee = null;
      for (const [id, pr] of [...this.tracker.progress]) {
        // A departing member not heard from for a whole election timeout is given up on.
        if (this.tracker.departing.has(id) && !pr.recentActive) this.tracker.forgetDeparting(id);
      }
      if (!this.tracker.isVoter(this.id)) this.handOverLeadership();
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat(this.readOnly.lastContext());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Step functions

  private handleVoteRequest(m: VoteRequest): void {
    const canVote =
      this.vote === m.from ||
      (this.vote === null && this.leader === null) ||
      (m.preVote && m.term > this.term) ||
      this.faults.grantMultipleVotesPerTerm === true;
    if (canVote && this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm)) {
      this.send({ type: 'voteResponse', to: m.from, term: m.term, preVote: m.preVote, granted: true });
      if (!m.preVote) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: 'voteResponse', to: m.from, preVote: m.preVote, granted: false });
    }
  }

  private readonly stepFollower = (m: Message): void => {
    switch (m.type) {
      case 'append':
        this.electionElapsed = 0;
        this.leader = m.from;
        if (this.deferredCampaign === false) this.deferredCampaign = null;
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.electionElapsed = 0;
        this.leader = m.from;
        if (this.deferredCampaign === false) this.deferredCampaign = null;
        if (m.release === true) this.released = true;
        this.handleHeartbeat(m);
        return;
      case 'snapshot':
        this.electionElapsed = 0;
        this.leader = m.from;
        this.handleSnapshot(m);
        return;
      case 'timeoutNow':
        this.hup(true);
        return;
      case 'readIndex':
        this.send({ type: 'readIndexResponse', to: m.from, requestId: m.requestId, index: 0 });
        return;
      case 'readIndexResponse':
        this.readStates.push(
          m.index > 0
            ? { requestId: m.requestId, ok: true, index: m.index }
            : { requestId: m.requestId, ok: false, code: 'NOT_LEADER', leader: this.leader },
        );
        return;
      default:
        return;
    }
  };

  private readonly stepCandidate = (m: Message): void => {
    switch (m.type) {
      case 'append':
        this.becomeFollower(m.term, m.from);
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case 'snapshot':
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case 'voteResponse':
        if (m.preVote === (this.role === 'preCandidate')) this.poll(m.from, m.granted);
        return;
      case 'readIndex':
        this.send({ type: 'readIndexResponse', to: m.from, requestId: m.requestId, index: 0 });
        return;
      default:
        return;
    }
  };

  private readonly stepLeader = (m: Message): void => {
    switch (m.type) {
      case 'appendResponse':
        this.handleAppendResponse(m);
        return;
      case 'heartbeatResponse':
        this.handleHeartbeatResponse(m);
        return;
      case 'readIndex':
        this.handleReadIndex(m.from, m.requestId);
        return;
      default:
        return;
    }
  };

  // ---------------------------------------------------------------------------------------------
  // Follower side of replication

  private handleAppend(m: AppendRequest): void {
    if (m.prevLogIndex < this.log.committed) {
      this.send({
        type: 'appendResponse',
        commit: this.log.committed,
        to: m.from,
        reject: false,
        index: this.log.committed,
        rejectHintIndex: 0,
        rejectHintTerm: 0,
      });
      return;
    }
    if (this.log.matchTerm(m.prevLogIndex, m.prevLogTerm)) {
      const lastNew = this.log.appendAfterMatch(m.prevLogIndex, m.entries);
      this.confCommitGuard.appended(m.entries);
      this.log.commitTo(Math.min(m.commit, lastNew));
      this.send({
        type: 'appendResponse',
        commit: this.log.committed,
        to: m.from,
        reject: false,
        index: lastNew,
        rejectHintIndex: 0,
        rejectHintTerm: 0,
      });
      return;
    }
    // Fast back-off (Raft §5.3): point the leader at our last entry that can possibly match.
    const hint = this.log.findConflictByTerm(Math.min(m.prevLogIndex, this.log.lastIndex()), m.prevLogTerm);
    this.send({
      type: 'appendResponse',
      commit: this.log.committed,
      to: m.from,
      reject: true,
      index: m.prevLogIndex,
      rejectHintIndex: hint.index,
      rejectHintTerm: hint.term,
    });
  }

  private handleHeartbeat(m: Heartbeat): void {
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    const response: Message = {
      type: 'heartbeatResponse',
      to: m.from,
      from: this.id,
      term: this.term,
      context: m.context,
      commit: this.log.committed,
    };
    // The leader counts this answer as knowing the commit; for a configuration entry, only once it is durable.
    if (this.confCommitGuard.mustSync(this.log.committed)) this.persistedMessages.push(response);
    else this.messages.push(response);
  }

  private handleSnapshot(m: InstallSnapshot): void {
    const { index, term } = m.snapshot.meta;
    if (index <= this.log.committed) {
      this.send({
        type: 'appendResponse',
        commit: this.log.committed,
        to: m.from,
        reject: false,
        index: this.log.committed,
        rejectHintIndex: 0,
        rejectHintTerm: 0,
      });
      return;
    }
    if (this.log.matchTerm(index, term)) {
      // We hold the entry the snapshot ends with, so our log already contains it: just commit.
      this.log.commitTo(index);
    } else {
      this.log.restore(m.snapshot);
      this.confCommitGuard.restored();
      this.tracker.setConf(m.snapshot.meta.conf, this.log.lastIndex() + 1);
      this.confAppliedThrough = Math.max(this.confAppliedThrough, index);
      this.confIndex = index;
      this.confChanged = m.snapshot.meta.conf;
    }
    this.send({
      type: 'appendResponse',
      commit: this.log.committed,
      to: m.from,
      reject: false,
      index: this.log.committed,
      rejectHintIndex: 0,
      rejectHintTerm: 0,
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Leader side of replication

  private handleAppendResponse(m: AppendResponse): void {
    const pr = this.tracker.progress.get(m.from);
    if (pr === undefined) return;
    if (!m.reject && m.index > this.log.lastIndex()) {
      // Every index a follower can acknowledge in our term comes from our log; anything past it is garbage.
      throw new RaftError(
        'INVALID_ARGUMENT',
        `append response from ${m.from} acknowledges index ${m.index} past the leader's last index ${this.log.lastIndex()}`,
      );
    }
    pr.recentActive = true;
    // What it says it has committed, not what we sent it: messages cross, and lost ones must not count.
    pr.commitKnown = Math.max(pr.commitKnown, m.commit);
    if (m.reject) {
      const probeFrom =
        m.rejectHintTerm > 0
          ? this.log.findConflictByTerm(m.rejectHintIndex, m.rejectHintTerm).index
          : m.rejectHintIndex;
      if (pr.maybeDecreaseTo(m.index, probeFrom)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppends(m.from, true);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) return;
    if (pr.state === 'probe') pr.becomeReplicate();
    else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) pr.becomeReplicate();
    else if (pr.state === 'replicate') pr.inflights.freeTo(m.index);

    if (this.maybeCommit()) this.bcastAppend(true);
    else {
      const sent = (wasPaused || pr.match < this.log.lastIndex()) && this.sendAppends(m.from, false);
      // Caught up but behind on the commit index (it was held back, see ConfCommitGuard): tell it now.
      if (!sent && pr.commitSent < Math.min(pr.match, this.confCommitGuard.revealable(this.log.committed)))
        this.sendAppends(m.from, true);
    }

    this.releaseDeparting();
    this.maybeSendTimeoutNow(m.from);
  }

  private handleHeartbeatResponse(m: HeartbeatResponse): void {
    const pr = this.tracker.progress.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    pr.commitKnown = Math.max(pr.commitKnown, m.commit);
    pr.probeSent = false;
    if (pr.state === 'snapshot' && ++pr.heartbeatsSinceSnapshot >= SNAPSHOT_RETRY_HEARTBEATS) {
      // The snapshot (or its answer) was probably lost; probe again, which resends it if still needed.
      pr.becomeProbe();
    }
    if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirst();
    if (pr.match < this.log.lastIndex()) this.sendAppends(m.from, true);
    this.releaseDeparting();
    this.maybeSendTimeoutNow(m.from);

    if (m.context !== 0) {
      const reads = this.readOnly.recvAck(
        m.from,
        m.context,
        (id) => this.tracker.isVoter(id),
        (acks) => this.tracker.hasQuorum(acks),
      );
      for (const read of reads) {
        this.answerRead(read.from, read.requestId, read.index);
      }
    }
  }

  /** Commits up to the highest index on a majority, if it is of the current term (Raft §5.4.2). */
  private maybeCommit(): boolean {
    const index = this.tracker.committedIndex();
    if (index <= this.log.committed) return false;
    if (this.faults.disableFigure8Rule !== true && this.log.term(index) !== this.term) return false;
    this.log.commitTo(index);
    while (this.uncommitted.length > 0 && this.uncommitted[0]!.index <= index) {
      this.uncommittedBytes -= this.uncommitted.shift()!.bytes;
    }
    if (this.readsAwaitingCommit.length > 0 && this.committedInCurrentTerm()) {
      const waiting = this.readsAwaitingCommit;
      this.readsAwaitingCommit = [];
      for (const read of waiting) this.handleReadIndex(read.from, read.requestId);
    }
    return true;
  }

  private bcastAppend(sendIfEmpty: boolean): void {
    for (const id of this.tracker.progress.keys()) {
      if (id !== this.id) this.sendAppends(id, sendIfEmpty);
    }
  }

  /** Sends what the window allows to `to`: one message in probe, as many as fit in replicate. */
  /** Sends appends to `to` while its in-flight window allows; returns whether any was sent. */
  private sendAppends(to: NodeId, sendIfEmpty: boolean): boolean {
    if (!this.maybeSendAppend(to, sendIfEmpty)) return false;
    while (this.maybeSendAppend(to, false)) {
      // keep filling the in-flight window
    }
    return true;
  }

  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.tracker.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevLogIndex = pr.next - 1;
    const prevLogTerm = this.log.term(prevLogIndex);
    if (prevLogTerm === undefined) return this.sendSnapshot(to, pr);
    let entries: Entry[];
    try {
      entries = this.log.slice(
        pr.next,
        this.log.lastIndex() + 1,
        this.cfg.maxMessageBytes || Number.POSITIVE_INFINITY,
      );
    } catch (error) {
      if (error instanceof RaftError && error.code === 'COMPACTED') return this.sendSnapshot(to, pr);
      if (error instanceof RaftError && error.code === 'UNAVAILABLE') return false;
      throw error;
    }
    if (entries.length === 0 && !sendIfEmpty) return false;
    let bytes = 0;
    for (const entry of entries) bytes += entry.data.byteLength;
    const commit = this.confCommitGuard.revealable(this.log.committed);
    this.send({ type: 'append', to, prevLogIndex, prevLogTerm, entries, commit });
    pr.commitSent = Math.max(pr.commitSent, Math.min(commit, prevLogIndex + entries.length));
    pr.sentEntries(prevLogIndex + entries.length, entries.length, bytes);
    return true;
  }

  private sendSnapshot(to: NodeId, pr: Progress): boolean {
    // Only to a peer we have heard from: a snapshot to a dead peer is wasted work.
    if (!pr.recentActive) return false;
    let snapshot: ReturnType<RaftLog['snapshot']>;
    try {
      snapshot = this.log.snapshot();
    } catch (error) {
      if (error instanceof RaftError && error.code === 'UNAVAILABLE') return false;
      throw error;
    }
    if (snapshot.meta.index === 0) return false;
    this.send({ type: 'snapshot', to, snapshot });
    pr.becomeSnapshot(snapshot.meta.index);
    return false;
  }

  private bcastHeartbeat(context: number): void {
    for (const [id, pr] of this.tracker.progress) {
      if (id === this.id) continue;
      const commit = Math.min(pr.match, this.confCommitGuard.revealable(this.log.committed));
      pr.commitSent = Math.max(pr.commitSent, commit);
      this.send({ type: 'heartbeat', to: id, commit, context });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Linearizable reads (thesis §6.4)

  private handleReadIndex(from: NodeId, requestId: number): void {
    if (this.role !== 'leader') {
      if (from !== this.id) {
        this.send({ type: 'readIndexResponse', to: from, requestId, index: 0 });
      } else if (this.leader !== null && this.leader !== this.id) {
        this.send({ type: 'readIndex', to: this.leader, requestId });
      } else {
        this.readStates.push({ requestId, ok: false, code: 'NOT_LEADER', leader: this.leader });
      }
      return;
    }
    if (!this.committedInCurrentTerm()) {
      this.readsAwaitingCommit.push({ from, requestId });
      return;
    }
    if (this.tracker.hasQuorum(new Set([this.id]))) {
      this.answerRead(from, requestId, this.log.committed);
      return;
    }
    this.readOnly.add(from, requestId, this.log.committed, this.id);
    this.readHeartbeatDue = true;
  }

  private answerRead(from: NodeId, requestId: number, index: number): void {
    if (from === this.id) this.readStates.push({ requestId, ok: true, index });
    else this.send({ type: 'readIndexResponse', to: from, requestId, index });
  }

  private failPendingReads(): void {
    const pending = [...this.readOnly.drain(), ...this.readsAwaitingCommit];
    this.readsAwaitingCommit = [];
    this.readOnly = new ReadOnlyQueue();
    for (const read of pending) {
      if (read.from === this.id) {
        this.readStates.push({
          requestId: read.requestId,
          ok: false,
          code: 'NOT_LEADER',
          leader: this.leader,
        });
      } else {
        this.send({ type: 'readIndexResponse', to: read.from, requestId: read.requestId, index: 0 });
      }
    }
  }

  private committedInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  // ---------------------------------------------------------------------------------------------
  // Membership (thesis §4; see docs/membership.md)

  /**
   * The configuration in force after the entries this node applied before it started (`applied` may be
   * past the stored snapshot when the state machine keeps its own state): the last config entry up to it.
   */
  private replayConf(initial: ConfState): ConfState {
    let conf = initial;
    const from = this.log.firstIndex();
    this.confIndex = from - 1;
    if (this.log.applied < from) return conf;
    for (const entry of this.log.slice(from, this.log.applied + 1, Number.POSITIVE_INFINITY)) {
      if (entry.type === 'config') {
        conf = decodeConfChange(entry.data).conf;
        this.confIndex = entry.index;
      }
    }
    return conf;
  }

  /** Whether a committed config entry is not in force yet (it is handed out with the next Ready). */
  /** Entries above the commit index (on start: those a crash may have left uncommitted, or forgotten committed). */
  private uncommittedEntries(): Entry[] {
    const from = Math.max(this.log.committed + 1, this.log.firstIndex());
    if (from > this.log.lastIndex()) return [];
    return this.log.slice(from, this.log.lastIndex() + 1, Number.POSITIVE_INFINITY);
  }

  private hasUnappliedConfChange(): boolean {
    const from = Math.max(this.confAppliedThrough + 1, this.log.firstIndex());
    if (from > this.log.committed) return false;
    try {
      for (const entry of this.log.slice(from, this.log.committed + 1, Number.POSITIVE_INFINITY)) {
        if (entry.type === 'config') return true;
      }
    } catch (error) {
      if (error instanceof RaftError && (error.code === 'COMPACTED' || error.code === 'UNAVAILABLE'))
        return false;
      throw error;
    }
    return false;
  }

  /** Appends a config entry on the leader and replicates it with the next Ready. */
  private appendConfEntry(changes: readonly MemberChange[], conf: ConfState): number {
    const index = this.log.lastIndex() + 1;
    const data = encodeConfChange({ changes, conf });
    const entry: Entry = { term: this.term, index, type: 'config', data };
    this.log.append([entry]);
    this.confCommitGuard.appended([entry]);
    this.pendingConfIndex = index;
    this.appendDue = true;
    return index;
  }

  /**
   * Puts the configuration of a committed config entry in force, as it is handed out for applying (etcd's
   * rule: a configuration takes effect when applied, which is safe because a leader starts no change
   * before the previous one is applied, and a joint configuration is left only through another entry).
   */
  private applyConfEntry(entry: Entry): void {
    let conf: ConfState;
    try {
      conf = decodeConfChange(entry.data).conf;
    } catch (error) {
      throw new RaftError('INVALID_ARGUMENT', `the committed config entry ${entry.index} is corrupt`, {
        cause: error,
      });
    }
    const before = new Set(this.tracker.progress.keys());
    if (isMember(conf, this.id)) this.released = false;
    this.tracker.setConf(conf, this.log.lastIndex() + 1, this.role === 'leader' ? entry.index : 0);
    this.confIndex = entry.index;
    this.confChanged = conf;
    if (this.role !== 'leader') return;
    // A smaller quorum may commit more at once; new members start being probed now.
    if (this.maybeCommit()) this.bcastAppend(true);
    for (const id of this.tracker.progress.keys()) {
      if (id !== this.id && !before.has(id)) this.sendAppends(id, true);
    }
    if (!this.tracker.isVoter(this.id)) this.handOverLeadership();
  }

  /**
   * A leader that is no longer a voter keeps replicating (so the change that removed it reaches everyone)
   * but hands leadership to the most up-to-date voter (thesis §4.2.2), and steps down when it does.
   */
  private handOverLeadership(): void {
    if (this.role !== 'leader' || this.transferee !== null) return;
    let best: NodeId | null = null;
    let bestMatch = -1;
    for (const id of this.tracker.voters) {
      const match = this.tracker.progress.get(id)?.match ?? 0;
      if (id !== this.id && match > bestMatch) {
        best = id;
        bestMatch = match;
      }
    }
    if (best !== null) this.transferLeadership(best);
  }

  /**
   * Releases departing members once they hold the entry that removed them, every voter has reported that
   * entry committed (durably: see ConfCommitGuard), and this leader's own commit of it is durable: no voter
   * can then need a departing node's vote. The release travels on a last heartbeat; a node that misses it
   * asks for votes again after an election timeout, which starts the replication to it over.
   */
  private releaseDeparting(): void {
    if (this.tracker.departing.size === 0) return;
    for (const [id, departAt] of [...this.tracker.departing]) {
      if (id === this.id || (this.tracker.progress.get(id)?.match ?? 0) < departAt) continue;
      let known = true;
      for (const voter of this.tracker.voters) {
        if (voter !== this.id && (this.tracker.progress.get(voter)?.commitKnown ?? 0) < departAt)
          known = false;
      }
      const commit = Math.min(
        this.tracker.progress.get(id)!.match,
        this.confCommitGuard.revealable(this.log.committed),
      );
      if (!known || commit < departAt) continue;
      this.send({ type: 'heartbeat', to: id, commit, context: 0, release: true });
      this.tracker.forgetDeparting(id);
    }
  }

  /**
   * Tells the transferee to campaign, once it holds the whole log and has acknowledged the commit index: it
   * campaigns with the configuration it has applied, which must be the leader's (a commit held back by
   * ConfCommitGuard, say the removal of this leader, must reach it first). A leader that is no longer a voter
   * steps down when it hears of the new leader's term, not before: until then it still replicates.
   */
  private maybeSendTimeoutNow(to: NodeId): boolean {
    if (to !== this.transferee) return false;
    const pr = this.tracker.progress.get(to);
    if (pr === undefined || pr.match !== this.log.lastIndex() || pr.commitKnown < this.log.committed)
      return false;
    this.send({ type: 'timeoutNow', to });
    return true;
  }

  /** Whether this node is in the configuration in force (voter, outgoing voter or learner). */
  isMemberOfConf(): boolean {
    return isMember(this.tracker.conf, this.id);
  }

  // ---------------------------------------------------------------------------------------------
  // Output

  private hardState(): HardState {
    if (this.term === 0 && this.vote === null && this.log.committed === 0) return EMPTY_HARD_STATE;
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  /**
   * Queues a message. Acknowledgements (votes, append responses) promise durable state, so they wait
   * for the Ready's write; everything else may leave at once.
   */
  private send(partial: Outgoing<AnyMessage>): void {
    const m = { ...partial, from: this.id, term: partial.term ?? this.term } as Message;
    if (m.type === 'voteResponse' || m.type === 'appendResponse') this.persistedMessages.push(m);
    else this.messages.push(m);
  }
}
