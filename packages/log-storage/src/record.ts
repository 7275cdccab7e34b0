import type { Entry, EntryType, HardState } from '@tsraft/core';
import { crc32 } from './crc32.js';

/**
 * The write-ahead log's framed records.
 *
 * ```
 * u32 bodyLength | u32 crc32(body) | body
 * body = u8 kind | u8 aux | u64 a | u64 b | payload
 * ```
 * All little-endian. The checksum covers the whole body, so an entry's index and term are checked with
 * its payload.
 *
 * | kind | aux | a | b | payload |
 * |---|---|---|---|---|
 * | entry (1) | entry type | index | term | the entry's data |
 * | hard state (2) | 1 if a vote is set | commit | term | the vote (UTF-8) |
 * | snapshot marker (3) | 0 | snapshot index | snapshot term | empty |
 *
 * A snapshot marker records that a snapshot was installed: the log keeps the entries after it only if
 * it held the snapshot's (index, term) (Raft §7).
 */
export type WalRecord =
  | { readonly kind: 'entry'; readonly entry: Entry }
  | { readonly kind: 'hardState'; readonly hardState: HardState }
  | { readonly kind: 'marker'; readonly index: number; readonly term: number };

/** Bytes of the frame header (length and checksum). */
export const FRAME_HEADER_BYTES = 8;
/** Bytes of the fixed part of a body. */
export const BODY_HEADER_BYTES = 18;

const KIND_ENTRY = 1;
const KIND_HARD_STATE = 2;
const KIND_MARKER = 3;
const ENTRY_TYPES: readonly EntryType[] = ['normal', 'noop', 'config'];
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Encodes one record as buffers to write in order (the payload is not copied). */
export function encodeRecord(record: WalRecord): Uint8Array[] {
  let kind: number;
  let aux = 0;
  let a: number;
  let b: number;
  let payload: Uint8Array;
  switch (record.kind) {
    case 'entry':
      kind = KIND_ENTRY;
      aux = ENTRY_TYPES.indexOf(record.entry.type);
      a = record.entry.index;
      b = record.entry.term;
      payload = record.entry.data;
      break;
    case 'hardState':
      kind = KIND_HARD_STATE;
      aux = record.hardState.vote === null ? 0 : 1;
      a = record.hardState.commit;
      b = record.hardState.term;
      payload = record.hardState.vote === null ? new Uint8Array(0) : encoder.encode(record.hardState.vote);
      break;
    case 'marker':
      kind = KIND_MARKER;
      a = record.index;
      b = record.term;
      payload = new Uint8Array(0);
      break;
  }
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES + BODY_HEADER_BYTES);
  header.writeUInt32LE(BODY_HEADER_BYTES + payload.byteLength, 0);
  header.writeUInt8(kind, 8);
  header.writeUInt8(aux, 9);
  writeU64(header, 10, a);
  writeU64(header, 18, b);
  const crc = crc32(payload, crc32(header.subarray(FRAME_HEADER_BYTES)));
  header.writeUInt32LE(crc, 4);
  return payload.byteLength === 0 ? [header] : [header, payload];
}

/** Total bytes of the encoded record. */
export function encodedLength(buffers: readonly Uint8Array[]): number {
  let n = 0;
  for (const b of buffers) n += b.byteLength;
  return n;
}

/** What {@link decodeRecord} finds at an offset. */
export type DecodeResult =
  | { readonly status: 'ok'; readonly record: WalRecord; readonly length: number }
  /** The frame runs past the end of the bytes: a write that did not finish. */
  | { readonly status: 'incomplete' }
  /** The frame is complete but its checksum or contents are wrong. */
  | { readonly status: 'corrupt'; readonly reason: string; readonly length: number };

/** Decodes the record at `offset` of `bytes`, verifying its checksum. The entry data is copied. */
export function decodeRecord(bytes: Buffer, offset: number): DecodeResult {
  if (bytes.byteLength - offset < FRAME_HEADER_BYTES) return { status: 'incomplete' };
  const bodyLength = bytes.readUInt32LE(offset);
  const length = FRAME_HEADER_BYTES + bodyLength;
  if (bytes.byteLength - offset < length) return { status: 'incomplete' };
  if (bodyLength < BODY_HEADER_BYTES) return { status: 'corrupt', reason: 'record too short', length };
  const body = bytes.subarray(offset + FRAME_HEADER_BYTES, offset + length);
  if (crc32(body) !== bytes.readUInt32LE(offset + 4)) {
    return { status: 'corrupt', reason: 'checksum mismatch', length };
  }
  const kind = body.readUInt8(0);
  const aux = body.readUInt8(1);
  const a = readU64(body, 2);
  const b = readU64(body, 10);
  const payload = body.subarray(BODY_HEADER_BYTES);
  if (kind === KIND_ENTRY) {
    const type = ENTRY_TYPES[aux];
    if (type === undefined) return { status: 'corrupt', reason: `unknown entry type ${aux}`, length };
    return {
      status: 'ok',
      record: { kind: 'entry', entry: { index: a, term: b, type, data: new Uint8Array(payload) } },
      length,
    };
  }
  if (kind === KIND_HARD_STATE) {
    let vote: string | null = null;
    if (aux === 1) {
      try {
        vote = decoder.decode(payload);
      } catch {
        return { status: 'corrupt', reason: 'vote is not UTF-8', length };
      }
    }
    return { status: 'ok', record: { kind: 'hardState', hardState: { term: b, vote, commit: a } }, length };
  }
  if (kind === KIND_MARKER) return { status: 'ok', record: { kind: 'marker', index: a, term: b }, length };
  return { status: 'corrupt', reason: `unknown record kind ${kind}`, length };
}

function writeU64(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt32LE(value >>> 0, offset);
  buf.writeUInt32LE(Math.floor(value / 0x1_0000_0000), offset + 4);
}

function readU64(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset) + buf.readUInt32LE(offset + 4) * 0x1_0000_0000;
}
