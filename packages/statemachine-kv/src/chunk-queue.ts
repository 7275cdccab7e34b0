/**
 * Bytes arriving in chunks of any size, consumed in pieces of known length: reassembles a record split
 * across chunks. Chunks are referenced, not copied, until taken, so they must not change after `push`.
 */
export class ChunkQueue {
  private chunks: Uint8Array[] = [];
  /** Index in `chunks` of the first chunk not fully consumed. */
  private head = 0;
  /** Bytes of `chunks[head]` already consumed. */
  private offset = 0;
  private buffered = 0;

  /** Bytes available to take. */
  get available(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.byteLength;
  }

  /** A copy of the next `n` bytes (the caller checked `available`). */
  take(n: number): Uint8Array {
    if (n > this.buffered) throw new RangeError(`take(${n}) with ${this.buffered} bytes available`);
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[this.head]!;
      const count = Math.min(chunk.byteLength - this.offset, n - filled);
      out.set(chunk.subarray(this.offset, this.offset + count), filled);
      filled += count;
      this.offset += count;
      if (this.offset === chunk.byteLength) {
        this.head++;
        this.offset = 0;
      }
    }
    this.buffered -= n;
    // Drop consumed chunks now and then, not on every take (shifting an array is linear).
    if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    return out;
  }
}
