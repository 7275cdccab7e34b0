import type { RaftError } from '../errors.js';
import type { Settler } from './operation.js';

/** One `read()` call: first waiting for its read index, then for the state machine to reach it. */
export interface PendingRead {
  /** The id of the latest ReadIndex request made for this read (a retry gets a new one). */
  requestId: number;
  /** The tick count when `requestId` was issued. */
  issuedAtTick: number;
  /** The confirmed read index, once the core answered; `null` before. */
  index: number | null;
  readonly settler: Settler<void>;
}

/**
 * The linearizable reads (thesis §6.4) waiting on this node, in two stages: waiting for the core's
 * ReadIndex answer (by request id), then waiting for the applied index to reach the read index.
 *
 * Invariant: a read is in exactly one stage until it settles; `waitingApply` is sorted by read index.
 */
export class PendingReads {
  private nextRequestId = 1;
  private readonly waitingIndex = new Map<number, PendingRead>();
  private waitingApply: PendingRead[] = [];

  /** Number of reads waiting in either stage. */
  get size(): number {
    return this.waitingIndex.size + this.waitingApply.length;
  }

  /** Registers a read; the caller passes the returned `requestId` to `RawNode.readIndex`. */
  add(settler: Settler<void>, tick: number): PendingRead {
    const read: PendingRead = { requestId: this.nextRequestId++, issuedAtTick: tick, index: null, settler };
    this.waitingIndex.set(read.requestId, read);
    return read;
  }

  /** Stops waiting for `read` (after a timeout or abort). */
  forget(read: PendingRead): void {
    this.waitingIndex.delete(read.requestId);
    const at = this.waitingApply.indexOf(read);
    if (at >= 0) this.waitingApply.splice(at, 1);
  }

  /**
   * Gives a new request id to every read whose ReadIndex request has gone unanswered for `afterTicks`
   * (the request or its answer may have been lost with a leader change). Returns the reads to re-request.
   */
  maybeRetry(tick: number, afterTicks: number): PendingRead[] {
    const due: PendingRead[] = [];
    for (const read of this.waitingIndex.values()) {
      if (tick - read.issuedAtTick >= afterTicks) due.push(read);
    }
    for (const read of due) {
      this.waitingIndex.delete(read.requestId);
      read.requestId = this.nextRequestId++;
      read.issuedAtTick = tick;
      this.waitingIndex.set(read.requestId, read);
    }
    return due;
  }

  /** The core confirmed `index` for `requestId`; the read completes once `applied` reaches it. */
  confirmed(requestId: number, index: number, applied: number): void {
    const read = this.waitingIndex.get(requestId);
    if (read === undefined) return; // forgotten, or answered under an older request id
    this.waitingIndex.delete(requestId);
    read.index = index;
    if (index <= applied) {
      read.settler.resolve();
      return;
    }
    let at = this.waitingApply.length;
    while (at > 0 && (this.waitingApply[at - 1]!.index ?? 0) > index) at--;
    this.waitingApply.splice(at, 0, read);
  }

  /** The core refused the read for `requestId` (for example: no leader known). */
  refused(requestId: number, error: RaftError): void {
    const read = this.waitingIndex.get(requestId);
    if (read === undefined) return;
    this.waitingIndex.delete(requestId);
    read.settler.reject(error);
  }

  /** The state machine has applied up to `applied`: completes the reads whose index it reached. */
  appliedTo(applied: number): void {
    let done = 0;
    while (done < this.waitingApply.length && this.waitingApply[done]!.index! <= applied) done++;
    if (done === 0) return;
    const ready = this.waitingApply.splice(0, done);
    for (const read of ready) read.settler.resolve();
  }

  /** Rejects every waiting read with `error` (the node stopped). */
  rejectAll(error: RaftError): void {
    const all = [...this.waitingIndex.values(), ...this.waitingApply];
    this.waitingIndex.clear();
    this.waitingApply = [];
    for (const read of all) read.settler.reject(error);
  }
}
