import { Buffer } from 'node:buffer';
import { ChunkWriter } from './chunk-writer.js';
import type { KvResult } from './kv-result.js';
import type { KvState } from './kv-state.js';
import {
  END_PAYLOAD_BYTES,
  META_PAYLOAD_BYTES,
  REJECTION_CODES,
  RecordType,
  ResultTag,
  resultBytes,
  SNAPSHOT_MAGIC,
  SNAPSHOT_VERSION,
} from './snapshot-format.js';

/** A session as the snapshot records it. */
interface SessionImage {
  readonly id: number;
  readonly lastActiveMs: number;
  readonly lowestRetained: number;
  readonly results: readonly (readonly [number, KvResult])[];
}

/**
 * The state at one instant, ready to encode: later applies do not change it. Values and results are
 * immutable once stored, so it shares them; only the containers are copied.
 */
export interface SnapshotImage {
  readonly appliedIndex: number;
  readonly clockMs: number;
  /** Keys in byte order. */
  readonly entries: readonly (readonly [string, Uint8Array])[];
  /** In order of last use. */
  readonly sessions: readonly SessionImage[];
}

/** Captures `state` for {@link writeSnapshot}. */
export function captureSnapshot(state: KvState): SnapshotImage {
  const entries = [...state.data.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const sessions = [...state.sessions.values()].map((s) => ({
    id: s.id,
    lastActiveMs: s.lastActiveMs,
    lowestRetained: s.lowestRetained,
    // By sequence, so the bytes do not depend on the order results were recorded in.
    results: [...s.results.entries()].sort((a, b) => a[0] - b[0]),
  }));
  return { appliedIndex: state.appliedIndex, clockMs: state.clockMs, entries, sessions };
}

/**
 * Encodes an image in the format of `snapshot-format.ts`, yielding chunks of at most `chunkBytes` as it
 * goes; returns the SHA-256 the trailer carries (the state's digest).
 */
export function* writeSnapshot(image: SnapshotImage, chunkBytes: number): Generator<Uint8Array, Buffer> {
  // The widest fixed-size field (a u64) must fit in a chunk.
  const w = new ChunkWriter(Math.max(chunkBytes, 8));
  w.bytes(SNAPSHOT_MAGIC);
  w.u16(SNAPSHOT_VERSION);

  record(w, RecordType.meta, META_PAYLOAD_BYTES);
  w.u64(image.appliedIndex);
  w.u64(image.clockMs);
  w.u64(image.entries.length);
  w.u64(image.sessions.length);
  let records = 1;

  for (const [key, value] of image.entries) {
    record(w, RecordType.entry, 4 + key.length + value.byteLength);
    w.u32(key.length);
    w.latin1(key);
    w.bytes(value);
    records++;
    yield* w.take();
  }

  for (const session of image.sessions) {
    let length = 8 * 3 + 4;
    for (const [, result] of session.results) length += 8 + resultBytes(result);
    record(w, RecordType.session, length);
    w.u64(session.id);
    w.u64(session.lastActiveMs);
    w.u64(session.lowestRetained);
    w.u32(session.results.length);
    for (const [sequence, result] of session.results) {
      w.u64(sequence);
      writeResult(w, result);
    }
    records++;
    yield* w.take();
  }

  const checksum = w.seal();
  record(w, RecordType.end, END_PAYLOAD_BYTES);
  w.u64(records);
  w.bytes(checksum);
  w.flush();
  yield* w.take();
  return checksum;
}

function record(w: ChunkWriter, type: number, payloadBytes: number): void {
  if (payloadBytes > 0xffff_ffff)
    throw new RangeError(`snapshot record of ${payloadBytes} bytes is too large`);
  w.u8(type);
  w.u32(payloadBytes);
}

function writeResult(w: ChunkWriter, result: KvResult): void {
  switch (result.type) {
    case 'put':
      w.u8(ResultTag.put);
      return;
    case 'delete':
      w.u8(ResultTag.delete);
      w.u8(result.deleted ? 1 : 0);
      return;
    case 'compareAndSwap':
      w.u8(ResultTag.compareAndSwap);
      w.u8(result.succeeded ? 1 : 0);
      if (result.value === undefined) {
        w.u8(0);
      } else {
        w.u8(1);
        w.u32(result.value.byteLength);
        w.bytes(result.value);
      }
      return;
    case 'openSession':
      w.u8(ResultTag.openSession);
      w.u64(result.sessionId);
      return;
    case 'rejected': {
      const message = Buffer.from(result.message, 'utf8');
      w.u8(ResultTag.rejected);
      w.u8(REJECTION_CODES.indexOf(result.code) + 1);
      w.u32(message.byteLength);
      w.bytes(message);
      return;
    }
  }
}
