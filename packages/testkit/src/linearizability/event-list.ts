import { type History, isUnknownOutcome } from './history.js';

/**
 * How to order a return and a call that happen at the same instant.
 * - `concurrent` (default): the two operations overlap, so either may be linearized first. Never reports a
 *   false violation when the recorder's clock is coarse.
 * - `ordered`: the operation that returned precedes the one that was called, as if the return happened
 *   first. Stricter; use it when equal times really mean "response delivered, then next request sent".
 *   An operation that returned at the instant it was called still overlaps the others called then.
 */
export type EqualTimes = 'concurrent' | 'ordered';

/** Node id of the main list's head sentinel. */
export const HEAD = 0;
/** Node id of the main list's tail sentinel. */
export const TAIL = 1;
/** Node id of the unknown-outcome list's head sentinel. */
export const UNKNOWN_HEAD = 2;
/** Node id of the unknown-outcome list's tail sentinel. */
export const UNKNOWN_TAIL = 3;

const FIRST_EVENT = 4;

/**
 * The history's call and return events in time order, as doubly linked lists from which the Wing & Gong
 * search lifts an operation's events when it linearizes the operation and puts them back (in reverse order)
 * when it backtracks.
 *
 * Completed operations' calls and returns form the main list ({@link HEAD} .. {@link TAIL}). Operations with
 * an unknown outcome have no return (nothing forces them to be linearized) and their calls form a second
 * list ({@link UNKNOWN_HEAD} .. {@link UNKNOWN_TAIL}), so that walks over the main list do not step over
 * them again and again; `position` orders events of both lists in one time line.
 *
 * Node ids: the four sentinels, then `4 + 2i` for the call of operation `i` and `5 + 2i` for its return.
 */
export class EventList {
  /** Successor of each node. */
  readonly next: Int32Array;
  /** Predecessor of each node. */
  readonly prev: Int32Array;
  /** Rank of each event in time order (tails rank after every event). */
  readonly position: Int32Array;
  /** Whether operation `i` has a return event (its outcome is known). */
  readonly known: Uint8Array;

  /** Builds the lists for `history`; its operation ids are positions in `history`. */
  constructor(history: History<unknown, unknown>, equalTimes: EqualTimes = 'concurrent') {
    const n = history.length;
    const size = FIRST_EVENT + 2 * n;
    this.next = new Int32Array(size);
    this.prev = new Int32Array(size);
    this.position = new Int32Array(size);
    this.known = new Uint8Array(n);
    const events: { node: number; time: number; rank: number }[] = [];
    for (let i = 0; i < n; i++) {
      const op = history[i]!;
      events.push({ node: callNode(i), time: op.call, rank: 1 });
      if (!isUnknownOutcome(op)) {
        this.known[i] = 1;
        const rank = equalTimes === 'ordered' && op.call < op.return ? 0 : 2;
        events.push({ node: callNode(i) + 1, time: op.return, rank });
      }
    }
    events.sort((a, b) => a.time - b.time || a.rank - b.rank || a.node - b.node);
    let last = HEAD;
    let lastUnknown = UNKNOWN_HEAD;
    for (const [rank, e] of events.entries()) {
      this.position[e.node] = rank;
      if (this.known[nodeOperation(e.node)] === 1) {
        this.append(last, e.node);
        last = e.node;
      } else {
        this.append(lastUnknown, e.node);
        lastUnknown = e.node;
      }
    }
    this.append(last, TAIL);
    this.append(lastUnknown, UNKNOWN_TAIL);
    this.position[TAIL] = events.length;
    this.position[UNKNOWN_TAIL] = events.length;
  }

  /** The first event node of the main list ({@link TAIL} if it is empty). */
  first(): number {
    return this.next[HEAD]!;
  }

  /** The first call of the unknown-outcome list ({@link UNKNOWN_TAIL} if it is empty). */
  firstUnknown(): number {
    return this.next[UNKNOWN_HEAD]!;
  }

  /** Removes the call event of operation `op` and, if it has one, its return event. */
  lift(op: number): void {
    const call = callNode(op);
    this.unlink(call);
    if (this.known[op] === 1) this.unlink(call + 1);
  }

  /** Undoes the most recent {@link lift} still in effect, which must be the one of `op`. */
  unlift(op: number): void {
    const call = callNode(op);
    if (this.known[op] === 1) this.relink(call + 1);
    this.relink(call);
  }

  /** The nodes of the main list (or, with `unknown`, of the unknown-outcome list), for tests and reports. */
  toArray(unknown = false): number[] {
    const out: number[] = [];
    const end = unknown ? UNKNOWN_TAIL : TAIL;
    for (let node = this.next[unknown ? UNKNOWN_HEAD : HEAD]!; node !== end; node = this.next[node]!)
      out.push(node);
    return out;
  }

  private append(after: number, node: number): void {
    this.next[after] = node;
    this.prev[node] = after;
  }

  private unlink(node: number): void {
    const p = this.prev[node]!;
    const q = this.next[node]!;
    this.next[p] = q;
    this.prev[q] = p;
  }

  private relink(node: number): void {
    this.next[this.prev[node]!] = node;
    this.prev[this.next[node]!] = node;
  }
}

/** The call node of operation `op`. */
export function callNode(op: number): number {
  return FIRST_EVENT + 2 * op;
}

/** Whether `node` (an event, not a sentinel) is a call. */
export function isCallNode(node: number): boolean {
  return (node & 1) === 0;
}

/** The operation an event node belongs to. */
export function nodeOperation(node: number): number {
  return (node - FIRST_EVENT) >>> 1;
}
