import {
  collectSnapshotDataSync,
  type Entry,
  type ReadState,
  type Snapshot,
  type StateMachine,
} from '@tsraft/core';
import type { CheckerClock, SafetyChecker } from './safety-checker.js';
import type { PendingProposal, PendingRead, SimNode } from './sim-node.js';
import { InvariantViolation } from './violation.js';
import type { SimWorkload } from './workload.js';

/**
 * The state-machine side of the simulated nodes: applies what a Ready hands a node (a snapshot, committed
 * entries) to its state machine, answers reads once the state machine has reached their read index, takes
 * periodic snapshots, and settles the proposals and reads waiting on all of this.
 *
 * Invariant: a node's `applied` only moves forward, one entry at a time or to a snapshot's index; anything
 * else is reported as an `apply-order` violation.
 */
export class NodeApplier {
  private nextReadId = 1;

  constructor(
    private readonly clock: CheckerClock,
    private readonly checker: SafetyChecker,
    private readonly workload: SimWorkload,
    /** Snapshot period in applied entries (0: never). */
    private readonly snapshotEveryEntries: number,
  ) {}

  /** A new state machine for a node incarnation, restored from `stored` (its stable storage's snapshot). */
  createStateMachine(stored: Snapshot): StateMachine {
    const sm = this.workload.createStateMachine();
    if (stored.meta.index > 0) synchronous(sm.restore(stored.data, stored.meta), 'restore');
    return sm;
  }

  /** Keeps `proposal` until its entry is applied at node `n` (or replaced, or covered by a snapshot). */
  trackProposal(n: SimNode, proposal: PendingProposal): void {
    let list = n.proposals.get(proposal.index);
    if (list === undefined) {
      list = [];
      n.proposals.set(proposal.index, list);
    }
    list.push(proposal);
  }

  /** Keeps `read` until node `n` answers it; returns the request id to pass to `RawNode.readIndex`. */
  trackRead(n: SimNode, read: PendingRead): number {
    const id = this.nextReadId++;
    n.reads.set(id, read);
    return id;
  }

  /** Restores node `n`'s state machine from `snapshot`; proposals at or below its index end `unknown`. */
  restoreSnapshot(n: SimNode, snapshot: Snapshot): void {
    const { index } = snapshot.meta;
    if (index < n.applied) {
      this.fail(`${n.id} was handed a snapshot at ${index} after applying up to ${n.applied}`);
    }
    synchronous(n.stateMachine!.restore(snapshot.data, snapshot.meta), 'restore');
    n.applied = index;
    for (const [i, list] of n.proposals) {
      if (i > index) continue;
      n.proposals.delete(i);
      for (const p of list)
        p.onOutcome({ status: 'unknown', reason: `a snapshot at ${index} replaced the entry` });
    }
  }

  /**
   * Applies committed `entry` at node `n` and settles the proposals made there for its index: `ok` with the
   * state machine's result when the term matches, `PROPOSAL_DROPPED` when another leader's entry took the place.
   */
  apply(n: SimNode, entry: Entry): void {
    if (entry.index !== n.applied + 1) {
      this.fail(`${n.id} was handed entry ${entry.index} to apply after applying up to ${n.applied}`);
    }
    let result: unknown = null;
    if (entry.type === 'normal') {
      result = synchronous(
        n.stateMachine!.apply({ index: entry.index, term: entry.term, data: entry.data }),
        'apply',
      );
      this.checker.observeApplyResult(n.id, entry.index, result);
    }
    n.applied = entry.index;
    const list = n.proposals.get(entry.index);
    if (list === undefined) return;
    n.proposals.delete(entry.index);
    for (const p of list) {
      p.onOutcome(
        p.term === entry.term
          ? { status: 'ok', result, index: entry.index }
          : { status: 'failed', code: 'PROPOSAL_DROPPED', leader: n.leader },
      );
    }
  }

  /** Takes node `n`'s answer to a read index request: a refusal settles the read, a read index queues it. */
  onReadState(n: SimNode, rs: ReadState): void {
    const read = n.reads.get(rs.requestId);
    if (read === undefined) return;
    n.reads.delete(rs.requestId);
    if (!rs.ok) {
      read.onOutcome({ status: 'failed', code: rs.code, leader: rs.leader });
      return;
    }
    n.readsWaiting.push({ index: rs.index, read });
  }

  /** Answers, from node `n`'s state machine, every queued read whose read index it has applied. */
  answerReads(n: SimNode): void {
    if (n.readsWaiting.length === 0) return;
    const still: typeof n.readsWaiting = [];
    for (const w of n.readsWaiting) {
      if (w.index > n.applied) {
        still.push(w);
        continue;
      }
      const result = this.workload.read(n.stateMachine!, w.read.query);
      w.read.onOutcome({ status: 'ok', result, index: n.applied });
    }
    n.readsWaiting = still;
  }

  /** Snapshots node `n`'s state machine at its applied index (compacting its log) when a period has passed. */
  maybeSnapshot(n: SimNode): void {
    const every = this.snapshotEveryEntries;
    if (every <= 0) return;
    const stored = n.storage.snapshot().meta.index;
    if (n.applied - stored < every) return;
    const data = collectSnapshotDataSync(synchronous(n.stateMachine!.snapshot(), 'snapshot'));
    const snapshot: Snapshot = {
      meta: { index: n.applied, term: n.storage.term(n.applied), conf: n.conf },
      data,
    };
    n.storage.saveSnapshotSync(snapshot);
    if (n.storage.snapshot() !== snapshot)
      throw new Error(`${n.id}: saving the snapshot at ${n.applied} failed`);
  }

  private fail(message: string): never {
    throw new InvariantViolation('apply-order', message, this.clock.now, this.clock.steps);
  }
}

/** Returns `value`, or throws if a state machine returned a Promise (the simulator needs synchronous ones). */
function synchronous<T>(value: T | Promise<T>, method: string): T {
  if (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { then?: unknown }).then === 'function'
  ) {
    throw new TypeError(
      `the state machine's ${method}() returned a Promise; under the simulator it must be synchronous`,
    );
  }
  return value as T;
}
