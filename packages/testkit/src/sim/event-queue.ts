/** What the queue needs of an event: when it fires; `seq` is assigned by the queue. */
export interface Scheduled {
  /** Virtual time (ms) at which the event fires. */
  time: number;
  /** Tie-breaker among events at the same time: the order they were scheduled in. */
  seq: number;
}

/**
 * A priority queue of events ordered by (virtual time, sequence number): a binary min-heap.
 * Invariant: events at the same time come out in the order they were pushed, so a run is a pure
 * function of the seed.
 */
export class EventQueue<E extends Scheduled> {
  private readonly heap: E[] = [];
  private nextSeq = 0;

  /** Number of events waiting. */
  get size(): number {
    return this.heap.length;
  }

  /** Adds `event` (its `seq` is overwritten). */
  push(event: E): void {
    event.seq = this.nextSeq++;
    const heap = this.heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!before(event, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = event;
  }

  /** The earliest event without removing it. */
  peek(): E | undefined {
    return this.heap[0];
  }

  /** Removes and returns the earliest event. */
  pop(): E | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    const last = heap.pop()!;
    const n = heap.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const child = r < n && before(heap[r]!, heap[l]!) ? r : l;
        const c = heap[child]!;
        if (!before(c, last)) break;
        heap[i] = c;
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }

  /** Removes every event for which `drop` returns true (used rarely: linear time). */
  removeWhere(drop: (event: E) => boolean): void {
    const kept = this.heap.filter((e) => !drop(e));
    this.heap.length = 0;
    kept.sort((a, b) => (before(a, b) ? -1 : 1));
    for (const e of kept) this.heap.push(e);
  }
}

function before(a: Scheduled, b: Scheduled): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
