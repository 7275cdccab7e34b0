// The KV snapshot format, version 1. All integers are little-endian; u64 values are safe integers.
//
//   header   "TSRAFTKV" (8 bytes), version u16
//   records  type u8, payload length u32, payload:
//            META     appliedIndex u64, clockMs u64, keyCount u64, sessionCount u64   (first, exactly once)
//            ENTRY    keyLength u32, key, value                (one per key, keys in strictly increasing byte order)
//            SESSION  id u64, lastActiveMs u64, lowestRetained u64, resultCount u32,
//                     then per result: sequence u64 (increasing), result         (in order of last use)
//            END      recordCount u64 (records before END), SHA-256 of every byte before END (32 bytes)
//   nothing after END.
//
//   result   tag u8, then: put: -; delete: deleted u8; compareAndSwap: succeeded u8, hasValue u8,
//            [length u32, value]; openSession: sessionId u64; rejected: code u8, length u32, UTF-8 message.

import { Buffer } from 'node:buffer';
import type { KvRejectionCode, KvResult } from './kv-result.js';

/** The first bytes of every snapshot. */
export const SNAPSHOT_MAGIC: Uint8Array = new TextEncoder().encode('TSRAFTKV');
/** The format version this package writes and reads. */
export const SNAPSHOT_VERSION = 1;
/** Bytes of the header: magic and version. */
export const HEADER_BYTES = SNAPSHOT_MAGIC.byteLength + 2;
/** Bytes before each record's payload: type and length. */
export const RECORD_HEADER_BYTES = 5;
/** Largest chunk the writer emits. */
export const SNAPSHOT_CHUNK_BYTES = 64 * 1024;

/** Record types. */
export const RecordType = { meta: 1, entry: 2, session: 3, end: 0xff } as const;

/** Payload bytes of META: four u64. */
export const META_PAYLOAD_BYTES = 32;
/** Payload bytes of END: the record count and a SHA-256. */
export const END_PAYLOAD_BYTES = 8 + 32;

/** Tags of a cached result. */
export const ResultTag = { put: 1, delete: 2, compareAndSwap: 3, openSession: 4, rejected: 5 } as const;

/** Rejection codes by their number in the format (index + 1). */
export const REJECTION_CODES: readonly KvRejectionCode[] = [
  'SESSION_EXPIRED',
  'STALE_REQUEST',
  'MALFORMED_COMMAND',
];

/** Encoded size of a result. */
export function resultBytes(result: KvResult): number {
  switch (result.type) {
    case 'put':
      return 1;
    case 'delete':
      return 2;
    case 'compareAndSwap':
      return 3 + (result.value === undefined ? 0 : 4 + result.value.byteLength);
    case 'openSession':
      return 9;
    case 'rejected':
      return 6 + Buffer.byteLength(result.message, 'utf8');
  }
}
