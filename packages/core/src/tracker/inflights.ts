/**
 * The append messages sent to one follower and not yet acknowledged, as a bounded ring buffer of
 * (last index, payload bytes) pairs. When it is full the leader stops sending (flow control).
 * Invariant: indexes are strictly increasing from oldest to newest.
 */
export class Inflights {
  private readonly indexes: Float64Array;
  private readonly sizes: Float64Array;
  private start = 0;
  private count = 0;
  private totalBytes = 0;

  constructor(
    private readonly maxMessages: number,
    private readonly maxBytes: number,
  ) {
    this.indexes = new Float64Array(maxMessages);
    this.sizes = new Float64Array(maxMessages);
  }

  /** Records a message whose last entry is `index`, carrying `bytes` of payload. */
  add(index: number, bytes: number): void {
    if (this.count === this.maxMessages) throw new Error('inflights: add() on a full window');
    const slot = (this.start + this.count) % this.maxMessages;
    this.indexes[slot] = index;
    this.sizes[slot] = bytes;
    this.count++;
    this.totalBytes += bytes;
  }

  /** Releases every message whose last index is at or below `index` (they were acknowledged). */
  freeTo(index: number): void {
    while (this.count > 0 && this.indexes[this.start]! <= index) {
      this.totalBytes -= this.sizes[this.start]!;
      this.start = (this.start + 1) % this.maxMessages;
      this.count--;
    }
  }

  /** Releases the oldest message (used to let one message through a stuck window). */
  freeFirst(): void {
    if (this.count > 0) this.freeTo(this.indexes[this.start]!);
  }

  /** Whether no further message may be sent. */
  full(): boolean {
    return this.count === this.maxMessages || (this.maxBytes > 0 && this.totalBytes >= this.maxBytes);
  }

  /** Number of messages in flight. */
  get size(): number {
    return this.count;
  }

  /** Forgets everything in flight. */
  reset(): void {
    this.start = 0;
    this.count = 0;
    this.totalBytes = 0;
  }
}
