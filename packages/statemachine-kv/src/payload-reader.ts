import { KvSnapshotError } from './kv-snapshot-error.js';

/** Reads the fields of one snapshot record, throwing {@link KvSnapshotError} rather than reading past its end. */
export class PayloadReader {
  private readonly view: DataView;
  private pos = 0;

  constructor(
    private readonly data: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  /** One byte. */
  u8(): number {
    this.need(1);
    return this.data[this.pos++]!;
  }

  /** Two bytes, little-endian. */
  u16(): number {
    this.need(2);
    const value = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return value;
  }

  /** Four bytes, little-endian. */
  u32(): number {
    this.need(4);
    const value = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return value;
  }

  /** A u64 that must be a safe integer. */
  u64(): number {
    this.need(8);
    const value = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new KvSnapshotError(`${this.what}: ${value} exceeds Number.MAX_SAFE_INTEGER`);
    }
    return Number(value);
  }

  /** A 0 or 1 byte. */
  bool(): boolean {
    const value = this.u8();
    if (value > 1) throw new KvSnapshotError(`${this.what}: ${value} is not a boolean`);
    return value === 1;
  }

  /** A view of the next `n` bytes (the payload is already a private copy). */
  bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.data.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** The rest of the payload. */
  rest(): Uint8Array {
    return this.bytes(this.data.byteLength - this.pos);
  }

  /** Checks that the whole payload was read. */
  end(): void {
    if (this.pos !== this.data.byteLength) {
      throw new KvSnapshotError(`${this.what}: ${this.data.byteLength - this.pos} unexpected trailing bytes`);
    }
  }

  private need(n: number): void {
    if (this.data.byteLength - this.pos < n) throw new KvSnapshotError(`${this.what}: record is too short`);
  }
}
