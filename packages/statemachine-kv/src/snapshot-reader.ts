import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { ChunkQueue } from './chunk-queue.js';
import { keyOf } from './keys.js';
import type { KvResult } from './kv-result.js';
import { KvSnapshotError } from './kv-snapshot-error.js';
import type { KvState } from './kv-state.js';
import { PayloadReader } from './payload-reader.js';
import type { Session } from './session-table.js';
import {
  END_PAYLOAD_BYTES,
  HEADER_BYTES,
  RECORD_HEADER_BYTES,
  REJECTION_CODES,
  RecordType,
  ResultTag,
  SNAPSHOT_MAGIC,
  SNAPSHOT_VERSION,
} from './snapshot-format.js';

/**
 * Decodes a snapshot written by `writeSnapshot` from chunks split anywhere, into a fresh state (nothing is
 * shared with any live state machine, so a failure leaves it untouched).
 * @throws KvSnapshotError for anything but a complete, well-formed snapshot with a matching checksum, and
 * (wrapped, as `cause`) for an error of the chunk source.
 */
export async function readSnapshot(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<KvState> {
  const parser = new SnapshotParser();
  try {
    for await (const chunk of chunks) parser.push(chunk);
  } catch (cause) {
    if (cause instanceof KvSnapshotError) throw cause;
    throw new KvSnapshotError(`reading the snapshot failed: ${describe(cause)}`, { cause });
  }
  return parser.finish();
}

interface Meta {
  readonly appliedIndex: number;
  readonly clockMs: number;
  readonly keyCount: number;
  readonly sessionCount: number;
}

/** Parses the format incrementally: each `push` consumes every record that is complete so far. */
class SnapshotParser {
  private readonly queue = new ChunkQueue();
  private readonly hash = createHash('sha256');
  private headerRead = false;
  private done = false;
  /** Type and length of a record whose payload has not fully arrived, with its raw header for the hash. */
  private pending: { readonly type: number; readonly length: number; readonly raw: Uint8Array } | undefined;
  private records = 0;
  private meta: Meta | undefined;
  private lastKey: string | undefined;
  private readonly data = new Map<string, Uint8Array>();
  private readonly sessions = new Map<number, Session>();
  private lastActiveMs = 0;

  push(chunk: Uint8Array): void {
    this.queue.push(chunk);
    this.consume();
  }

  finish(): KvState {
    if (!this.done) throw new KvSnapshotError('the snapshot is truncated');
    const meta = this.meta!;
    return {
      data: this.data,
      sessions: this.sessions,
      clockMs: meta.clockMs,
      appliedIndex: meta.appliedIndex,
    };
  }

  private consume(): void {
    if (!this.headerRead) {
      if (this.queue.available < HEADER_BYTES) return;
      this.readHeader(this.queue.take(HEADER_BYTES));
    }
    for (;;) {
      if (this.done) {
        if (this.queue.available > 0)
          throw new KvSnapshotError('unexpected bytes after the end of the snapshot');
        return;
      }
      if (this.pending === undefined) {
        if (this.queue.available < RECORD_HEADER_BYTES) return;
        const raw = this.queue.take(RECORD_HEADER_BYTES);
        const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
        this.pending = { type: raw[0]!, length: view.getUint32(1, true), raw };
        // Refuse a wrong end length at once rather than wait for bytes that will never come.
        if (this.pending.type === RecordType.end && this.pending.length !== END_PAYLOAD_BYTES) {
          throw new KvSnapshotError(`end record of ${this.pending.length} bytes`);
        }
      }
      const { type, length, raw } = this.pending;
      if (this.queue.available < length) return;
      const payload = this.queue.take(length);
      this.pending = undefined;
      if (type === RecordType.end) {
        this.readEnd(new PayloadReader(payload, 'end record'));
        continue;
      }
      this.hash.update(raw);
      this.hash.update(payload);
      this.readRecord(type, payload);
      this.records++;
    }
  }

  private readHeader(header: Uint8Array): void {
    this.hash.update(header);
    const magic = header.subarray(0, SNAPSHOT_MAGIC.byteLength);
    if (!Buffer.from(magic).equals(SNAPSHOT_MAGIC))
      throw new KvSnapshotError('not a KV snapshot (bad magic)');
    const r = new PayloadReader(header.subarray(SNAPSHOT_MAGIC.byteLength), 'header');
    const version = r.u16();
    if (version !== SNAPSHOT_VERSION) {
      throw new KvSnapshotError(`unsupported snapshot version ${version} (this reads ${SNAPSHOT_VERSION})`);
    }
    this.headerRead = true;
  }

  private readRecord(type: number, payload: Uint8Array): void {
    if (type === RecordType.meta) {
      this.readMeta(new PayloadReader(payload, 'meta record'));
    } else if (this.meta === undefined) {
      throw new KvSnapshotError('the snapshot does not start with its meta record');
    } else if (type === RecordType.entry) {
      this.readEntry(new PayloadReader(payload, 'entry record'));
    } else if (type === RecordType.session) {
      this.readSession(new PayloadReader(payload, 'session record'));
    } else {
      throw new KvSnapshotError(`unknown record type ${type}`);
    }
  }

  private readMeta(r: PayloadReader): void {
    if (this.records !== 0) throw new KvSnapshotError('a meta record after the first record');
    this.meta = { appliedIndex: r.u64(), clockMs: r.u64(), keyCount: r.u64(), sessionCount: r.u64() };
    r.end();
  }

  private readEntry(r: PayloadReader): void {
    if (this.sessions.size > 0) throw new KvSnapshotError('an entry record after a session record');
    const key = keyOf(r.bytes(r.u32()));
    if (this.lastKey !== undefined && !(this.lastKey < key)) {
      throw new KvSnapshotError('entry keys are not in strictly increasing order');
    }
    this.lastKey = key;
    // A view of the payload, which is this parser's own copy.
    this.data.set(key, r.rest());
  }

  private readSession(r: PayloadReader): void {
    const id = r.u64();
    const lastActiveMs = r.u64();
    const lowestRetained = r.u64();
    if (this.sessions.has(id)) throw new KvSnapshotError(`session ${id} appears twice`);
    // Expiry pops from the front, so the order of last use must hold.
    if (lastActiveMs < this.lastActiveMs || lastActiveMs > this.meta!.clockMs) {
      throw new KvSnapshotError(`session ${id} is out of order of last use`);
    }
    this.lastActiveMs = lastActiveMs;
    const results = new Map<number, KvResult>();
    let lastSequence = -1;
    for (let count = r.u32(); count > 0; count--) {
      const sequence = r.u64();
      if (sequence <= lastSequence || sequence < lowestRetained) {
        throw new KvSnapshotError(`session ${id}: cached sequence ${sequence} out of order`);
      }
      lastSequence = sequence;
      results.set(sequence, readResult(r));
    }
    r.end();
    this.sessions.set(id, { id, lastActiveMs, lowestRetained, results });
  }

  private readEnd(r: PayloadReader): void {
    const records = r.u64();
    const checksum = r.bytes(32);
    r.end();
    if (!Buffer.from(checksum).equals(this.hash.digest()))
      throw new KvSnapshotError('snapshot checksum mismatch');
    if (records !== this.records) {
      throw new KvSnapshotError(`the trailer counts ${records} records, the snapshot has ${this.records}`);
    }
    const meta = this.meta;
    if (meta === undefined) throw new KvSnapshotError('the snapshot has no meta record');
    if (meta.keyCount !== this.data.size || meta.sessionCount !== this.sessions.size) {
      throw new KvSnapshotError('the snapshot holds a different number of keys or sessions than it declares');
    }
    this.done = true;
  }
}

function readResult(r: PayloadReader): KvResult {
  const tag = r.u8();
  switch (tag) {
    case ResultTag.put:
      return { type: 'put' };
    case ResultTag.delete:
      return { type: 'delete', deleted: r.bool() };
    case ResultTag.compareAndSwap: {
      const succeeded = r.bool();
      const value = r.bool() ? r.bytes(r.u32()) : undefined;
      return { type: 'compareAndSwap', succeeded, value };
    }
    case ResultTag.openSession:
      return { type: 'openSession', sessionId: r.u64() };
    case ResultTag.rejected: {
      const code = REJECTION_CODES[r.u8() - 1];
      if (code === undefined) throw new KvSnapshotError('unknown rejection code in a cached result');
      const message = Buffer.from(r.bytes(r.u32())).toString('utf8');
      return { type: 'rejected', code, message };
    }
    default:
      throw new KvSnapshotError(`unknown result tag ${tag}`);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
