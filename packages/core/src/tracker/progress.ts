import type { ProgressState } from '../status.js';
import { Inflights } from './inflights.js';

/**
 * The leader's view of one member's log, and how it replicates to it (see docs/design.md).
 *
 * - `probe`: the leader does not know where the follower's log matches; it sends one append at a time
 *   and waits for the answer (or a heartbeat response) before sending another.
 * - `replicate`: the logs match up to `match`; appends stream optimistically, bounded by `inflights`.
 * - `snapshot`: the entries the follower needs are compacted; a snapshot is on its way and nothing
 *   else is sent until it is acknowledged or reported failed.
 *
 * Invariant: `0 <= match < next`.
 */
export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In `probe`: an append was sent and its answer is awaited. */
  probeSent = false;
  /** In `snapshot`: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** In `snapshot`: heartbeat responses received since the snapshot was sent (to retry a lost one). */
  heartbeatsSinceSnapshot = 0;
  /** The highest commit index sent to the member in an append or heartbeat. */
  commitSent = 0;
  /**
   * The highest commit index the member reported in an answer (durable there when it passes a configuration
   * entry); used to decide when a removal can be left to the new configuration, and when a transferee is ready.
   */
  commitKnown = 0;
  /** Whether the member was heard from since the last check-quorum round. */
  recentActive = false;
  readonly inflights: Inflights;

  constructor(
    next: number,
    public isLearner: boolean,
    maxInflightMessages: number,
    maxInflightBytes: number,
  ) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMessages, maxInflightBytes);
  }

  /** Enters `probe`: resend from just after what is known to match (or after the snapshot sent). */
  becomeProbe(): void {
    const fromSnapshot = this.state === 'snapshot';
    const snapshotIndex = this.pendingSnapshot;
    this.reset('probe');
    this.next = fromSnapshot ? Math.max(this.match + 1, snapshotIndex + 1) : this.match + 1;
  }

  /** Enters `replicate`: stream from just after `match`. */
  becomeReplicate(): void {
    this.reset('replicate');
    this.next = this.match + 1;
  }

  /** Enters `snapshot`: wait for the snapshot at `index` to be installed. */
  becomeSnapshot(index: number): void {
    this.reset('snapshot');
    this.pendingSnapshot = index;
  }

  /** Records that appends up to `lastIndex` were sent (optimistically advancing `next` in `replicate`). */
  sentEntries(lastIndex: number, entryCount: number, bytes: number): void {
    if (this.state === 'replicate') {
      if (entryCount > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, bytes);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  /** Raises `match` to `index` when the follower acknowledges it; false when the answer is stale. */
  maybeUpdate(index: number): boolean {
    if (index <= this.match) {
      this.probeSent = false;
      return false;
    }
    this.match = index;
    this.next = Math.max(this.next, index + 1);
    this.probeSent = false;
    return true;
  }

  /**
   * Handles a rejected append of `rejected` (its prevLogIndex) with the next index the leader should
   * probe from (`probeFrom`, from the reject hint). False when the rejection is stale.
   */
  maybeDecreaseTo(rejected: number, probeFrom: number): boolean {
    if (this.state === 'replicate') {
      // Appends at or below match were acknowledged already: this rejection is out of date.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // In probe only the answer to the outstanding probe counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, probeFrom + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  /** Whether the leader must hold back appends to this member now. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  private reset(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.heartbeatsSinceSnapshot = 0;
    this.inflights.reset();
  }
}
