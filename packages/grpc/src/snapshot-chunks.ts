import { create, equals } from '@bufbuild/protobuf';
import { SnapshotData } from '@tsraft/core';
import {
  type InstallSnapshotChunk,
  InstallSnapshotChunkSchema,
  type RaftMessage,
  RaftMessageSchema,
  type SnapshotMeta,
  SnapshotMetaSchema,
} from '@tsraft/proto';
import { TransportError } from './transport-error.js';

/** Default size of one snapshot piece on the wire: 1 MiB. */
export const DEFAULT_SNAPSHOT_CHUNK_BYTES = 1024 * 1024;

/**
 * Produces the envelopes carrying the pieces of a snapshot, lazily, as the generator is read: `head` is an
 * envelope with an `installSnapshot` body giving the header and `meta` (its `offset`, `done` and `data` are
 * ignored), `data` the snapshot's bytes, read chunk by chunk from `data.chunks()` only as pieces are taken.
 * Each piece holds at most `chunkBytes` bytes: a larger source chunk is cut with `subarray`, smaller ones go
 * as they are (nothing is copied or joined). Every piece keeps the header and `meta`, carries its `offset`,
 * and only the last is `done`; an empty snapshot is one piece.
 *
 * The data is read one source chunk ahead, so a read error (the source throwing) comes out of `next()`
 * before the last piece: a receiver never completes such a snapshot. Stop early with `return()` (a
 * `for...of` does) to close the data's reader. An envelope without a snapshot comes back alone.
 *
 * @throws TransportError `INTERNAL` (at once) when `chunkBytes` is not a positive integer.
 */
export function splitSnapshot(
  head: RaftMessage,
  data: SnapshotData,
  chunkBytes = DEFAULT_SNAPSHOT_CHUNK_BYTES,
): Generator<RaftMessage, void, undefined> {
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) {
    throw new TransportError('INTERNAL', `chunkBytes must be a positive integer, got ${chunkBytes}`);
  }
  if (head.body.case !== 'installSnapshot') {
    return (function* () {
      yield head;
    })();
  }
  const meta = head.body.value.meta;
  return (function* () {
    let offset = 0;
    let held: Uint8Array | null = null;
    const piece = (bytes: Uint8Array, done: boolean): RaftMessage => {
      const chunk = create(InstallSnapshotChunkSchema, {
        offset: BigInt(offset),
        data: bytes,
        done,
        ...(meta === undefined ? {} : { meta }),
      });
      offset += bytes.byteLength;
      return create(RaftMessageSchema, { ...head, body: { case: 'installSnapshot', value: chunk } });
    };
    for (const chunk of data.chunks()) {
      for (let at = 0; at < chunk.byteLength; at += chunkBytes) {
        const slice =
          chunk.byteLength <= chunkBytes
            ? chunk
            : chunk.subarray(at, Math.min(chunk.byteLength, at + chunkBytes));
        if (held !== null) yield piece(held, false);
        held = slice;
      }
    }
    yield piece(held ?? new Uint8Array(0), true);
  })();
}

/** A snapshot reassembled from its pieces. */
export interface AssembledSnapshot {
  /** The first piece's envelope: the header and `meta` (its `data` is only the first piece's). */
  readonly envelope: RaftMessage;
  /** All the bytes, as the list of the pieces' bytes (`SnapshotData.fromChunks`), never joined. */
  readonly data: SnapshotData;
}

/** Reassembles the pieces of one snapshot, checking that they fit together. Made by {@link createSnapshotAssembler}. */
export interface SnapshotAssembler {
  /**
   * Adds the next piece.
   * @throws TransportError `MALFORMED` when the piece is not a snapshot chunk, its offset is not where the
   *   previous one ended, its meta differs, or it comes after the last one; `MESSAGE_TOO_LARGE` when the
   *   snapshot grows past the limit.
   */
  push(message: RaftMessage): void;
  /** Whether the last piece (`done`) arrived. */
  readonly complete: boolean;
  /** Bytes received so far. */
  readonly receivedBytes: number;
  /**
   * The whole snapshot: the first envelope (header and meta) and the data as the list of received pieces,
   * ready for the codec's `fromProtoSnapshotMessage`. Nothing is concatenated.
   * @throws TransportError `MALFORMED` when the last piece has not arrived.
   */
  take(): AssembledSnapshot;
}

/** Creates a {@link SnapshotAssembler} that refuses snapshots over `maxBytes`. */
export function createSnapshotAssembler(maxBytes: number): SnapshotAssembler {
  const parts: Uint8Array[] = [];
  let received = 0;
  let first: RaftMessage | null = null;
  let meta: SnapshotMeta | undefined;
  let done = false;
  return {
    push(message) {
      if (message.body.case !== 'installSnapshot') {
        throw new TransportError(
          'MALFORMED',
          `expected a snapshot chunk, got ${message.body.case ?? 'no body'}`,
        );
      }
      const chunk: InstallSnapshotChunk = message.body.value;
      if (done) throw new TransportError('MALFORMED', 'snapshot chunk after the last one');
      if (chunk.offset !== BigInt(received)) {
        throw new TransportError(
          'MALFORMED',
          `snapshot chunk at offset ${chunk.offset}, expected ${received}`,
        );
      }
      if (first === null) {
        first = message;
        meta = chunk.meta;
      } else if (!sameMeta(meta, chunk.meta) || message.from !== first.from || message.term !== first.term) {
        throw new TransportError('MALFORMED', 'snapshot chunks disagree on their header or meta');
      }
      received += chunk.data.byteLength;
      if (received > maxBytes) {
        throw new TransportError('MESSAGE_TOO_LARGE', `snapshot exceeds ${maxBytes} bytes`);
      }
      if (chunk.data.byteLength > 0) parts.push(chunk.data);
      done = chunk.done;
    },
    get complete() {
      return done;
    },
    get receivedBytes() {
      return received;
    },
    take() {
      if (!done || first === null)
        throw new TransportError('MALFORMED', 'snapshot ended before its last chunk');
      return { envelope: first, data: SnapshotData.fromChunks(parts) };
    },
  };
}

function sameMeta(a: SnapshotMeta | undefined, b: SnapshotMeta | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return equals(SnapshotMetaSchema, a, b);
}
