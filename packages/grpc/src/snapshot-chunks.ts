import { create, equals } from '@bufbuild/protobuf';
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
 * Splits an envelope carrying a whole snapshot into envelopes carrying pieces of at most `chunkBytes`
 * bytes each: every piece keeps the header and `meta`, carries its `offset`, and only the last is `done`.
 * The pieces share `data`'s buffer (no copy). An envelope without a snapshot comes back alone.
 */
export function splitSnapshot(
  message: RaftMessage,
  chunkBytes = DEFAULT_SNAPSHOT_CHUNK_BYTES,
): RaftMessage[] {
  if (message.body.case !== 'installSnapshot') return [message];
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) {
    throw new TransportError('INTERNAL', `chunkBytes must be a positive integer, got ${chunkBytes}`);
  }
  const whole = message.body.value;
  const pieces: RaftMessage[] = [];
  const total = whole.data.byteLength;
  for (let offset = 0; offset < total || pieces.length === 0; offset += chunkBytes) {
    const end = Math.min(total, offset + chunkBytes);
    const chunk = create(InstallSnapshotChunkSchema, {
      offset: BigInt(offset),
      data: whole.data.subarray(offset, end),
      done: end === total,
      ...(whole.meta === undefined ? {} : { meta: whole.meta }),
    });
    pieces.push(create(RaftMessageSchema, { ...message, body: { case: 'installSnapshot', value: chunk } }));
  }
  return pieces;
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
  /**
   * The whole snapshot as one envelope (offset 0, `done`), ready for the codec.
   * @throws TransportError `MALFORMED` when the last piece has not arrived.
   */
  take(): RaftMessage;
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
      parts.push(chunk.data);
      done = chunk.done;
    },
    get complete() {
      return done;
    },
    take() {
      if (!done || first === null)
        throw new TransportError('MALFORMED', 'snapshot ended before its last chunk');
      const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts, received);
      const chunk = create(InstallSnapshotChunkSchema, {
        offset: 0n,
        data,
        done: true,
        ...(meta === undefined ? {} : { meta }),
      });
      return create(RaftMessageSchema, { ...first, body: { case: 'installSnapshot', value: chunk } });
    },
  };
}

function sameMeta(a: SnapshotMeta | undefined, b: SnapshotMeta | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return equals(SnapshotMetaSchema, a, b);
}
