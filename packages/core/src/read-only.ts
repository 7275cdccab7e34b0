import type { NodeId } from './entry.js';

/** A ReadIndex request the leader is confirming. */
export interface PendingRead {
  /** Who asked: this node, or a follower that forwarded the request. */
  readonly from: NodeId;
  readonly requestId: number;
  /** The commit index when the request arrived: the read index once leadership is confirmed. */
  readonly index: number;
  /** The heartbeat round that confirms it. */
  readonly context: number;
  readonly acks: Set<NodeId>;
}

/**
 * The leader's queue of ReadIndex requests (Raft thesis §6.4): each waits until a quorum acknowledges a
 * heartbeat sent after it arrived, which proves this node was still the leader when it arrived.
 * Invariant: `pending` is ordered by `context`, and contexts only grow.
 */
export class ReadOnlyQueue {
  private pending: PendingRead[] = [];
  private nextContext = 1;

  /** Queues a read at `index` and returns the context of the heartbeat round that will confirm it. */
  add(from: NodeId, requestId: number, index: number, self: NodeId): number {
    const context = this.nextContext++;
    this.pending.push({ from, requestId, index, context, acks: new Set([self]) });
    return context;
  }

  /**
   * Records that `from` acknowledged the heartbeat round `context` (and so every earlier one), and
   * returns the reads now confirmed by a quorum (as `isVoter` and `hasQuorum` define it), oldest first.
   */
  recvAck(
    from: NodeId,
    context: number,
    isVoter: (id: NodeId) => boolean,
    hasQuorum: (acks: ReadonlySet<NodeId>) => boolean,
  ): PendingRead[] {
    if (context === 0 || !isVoter(from)) return [];
    for (const read of this.pending) {
      if (read.context > context) break;
      read.acks.add(from);
    }
    let confirmed = 0;
    for (let i = 0; i < this.pending.length; i++) {
      if (hasQuorum(this.pending[i]!.acks)) confirmed = i + 1;
    }
    if (confirmed === 0) return [];
    // A later confirmed round confirms every earlier read too.
    return this.pending.splice(0, confirmed);
  }

  /** The context of the newest round, or 0 when nothing waits. */
  lastContext(): number {
    return this.pending.length === 0 ? 0 : this.pending[this.pending.length - 1]!.context;
  }

  /** Removes and returns every pending read (on losing leadership). */
  drain(): PendingRead[] {
    const all = this.pending;
    this.pending = [];
    return all;
  }
}
