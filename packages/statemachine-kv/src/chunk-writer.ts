import { Buffer } from 'node:buffer';
import { createHash, type Hash } from 'node:crypto';

/**
 * Writes bytes into fixed-size chunks, hashing everything written until {@link ChunkWriter.seal}, so a
 * snapshot streams out without ever being one buffer. Completed chunks are collected with `take()`.
 */
export class ChunkWriter {
  private buf: Buffer;
  private pos = 0;
  /** How much of `buf` is already hashed. */
  private hashed = 0;
  private hash: Hash | undefined = createHash('sha256');
  private ready: Uint8Array[] = [];

  constructor(private readonly chunkBytes: number) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
  }

  /** One byte. */
  u8(value: number): void {
    this.room(1);
    this.buf[this.pos++] = value;
  }

  /** Two bytes, little-endian. */
  u16(value: number): void {
    this.room(2);
    this.pos = this.buf.writeUInt16LE(value, this.pos);
  }

  /** Four bytes, little-endian. */
  u32(value: number): void {
    this.room(4);
    this.pos = this.buf.writeUInt32LE(value, this.pos);
  }

  /** A safe non-negative integer as 8 bytes. */
  u64(value: number): void {
    this.room(8);
    this.pos = this.buf.writeBigUInt64LE(BigInt(value), this.pos);
  }

  /** Raw bytes, split across chunks as needed. */
  bytes(data: Uint8Array): void {
    let offset = 0;
    while (offset < data.byteLength) {
      if (this.pos === this.chunkBytes) this.flush();
      const n = Math.min(this.chunkBytes - this.pos, data.byteLength - offset);
      this.buf.set(data.subarray(offset, offset + n), this.pos);
      this.pos += n;
      offset += n;
    }
  }

  /** A string of latin1 characters, one byte each (a map key). */
  latin1(text: string): void {
    if (text.length <= this.chunkBytes - this.pos) this.pos += this.buf.write(text, this.pos, 'latin1');
    else this.bytes(Buffer.from(text, 'latin1'));
  }

  /** Stops hashing and returns the SHA-256 of everything written so far. */
  seal(): Buffer {
    this.hashPending();
    const digest = this.hash!.digest();
    this.hash = undefined;
    return digest;
  }

  /** Ends the current chunk, if it holds anything. */
  flush(): void {
    if (this.pos === 0) return;
    this.hashPending();
    // A plain Uint8Array view: a Buffer's slice() would not copy, surprising consumers.
    this.ready.push(new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.pos));
    // A fresh buffer: the consumer may still hold the chunk just emitted.
    this.buf = Buffer.allocUnsafe(this.chunkBytes);
    this.pos = 0;
    this.hashed = 0;
  }

  /** The chunks completed since the last call. */
  take(): Uint8Array[] {
    const ready = this.ready;
    this.ready = [];
    return ready;
  }

  /** Makes `n` contiguous bytes available (n is small, at most a chunk). */
  private room(n: number): void {
    if (this.chunkBytes - this.pos < n) this.flush();
  }

  private hashPending(): void {
    if (this.hash !== undefined && this.pos > this.hashed)
      this.hash.update(this.buf.subarray(this.hashed, this.pos));
    this.hashed = this.pos;
  }
}
