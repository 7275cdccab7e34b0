import { create } from '@bufbuild/protobuf';
import { type Snapshot, SnapshotData } from '@tsraft/core';
import {
  type InstallSnapshotChunk,
  InstallSnapshotChunkSchema,
  type SnapshotMeta as ProtoSnapshotMeta,
} from '@tsraft/proto';
import { invalidArgument } from './invalid-argument.js';
import { fromProtoSnapshotMeta, toProtoSnapshotMeta } from './snapshot-meta.js';

/**
 * The one buffer holding `data`, when it is held in memory as a single chunk (or is empty), so that it can
 * go out as one whole chunk without joining; `null` otherwise.
 */
function singleBuffer(data: SnapshotData): Uint8Array | null {
  if (data.byteLength === 0) return new Uint8Array(0);
  if (!data.inMemory) return null;
  const chunks = data.chunks();
  const first = chunks.next();
  if (first.done === true || chunks.next().done !== true) return null;
  return first.value;
}

/**
 * Converts a whole core snapshot to one wire chunk: offset 0, `done` set, all the bytes, shared, not
 * copied. Only for data that needs no joining: held in memory as one buffer (as `SnapshotData.of` makes) or
 * empty. Anything else (data in several chunks, or read from a file) must go out in pieces, see
 * {@link toProtoSnapshotChunks}.
 *
 * @throws RaftError `INVALID_ARGUMENT` when the snapshot's meta does not convert, or its data is not one
 *   buffer in memory.
 */
export function toProtoSnapshotChunk(snapshot: Snapshot): InstallSnapshotChunk {
  const data = singleBuffer(snapshot.data);
  if (data === null) {
    throw invalidArgument(
      `a snapshot of ${snapshot.data.byteLength} bytes held in several chunks or read from a source ` +
        'is not converted whole (that would join it into one buffer); send it in pieces (toProtoSnapshotPieces)',
    );
  }
  return create(InstallSnapshotChunkSchema, {
    meta: toProtoSnapshotMeta(snapshot.meta),
    offset: 0n,
    data,
    done: true,
  });
}

function checkChunkBytes(chunkBytes: number): void {
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) {
    throw invalidArgument(`chunkBytes must be a positive integer, got ${chunkBytes}`);
  }
}

/**
 * The bytes of `data` as slices of at most `chunkBytes`, read lazily from `data.chunks()`: a source chunk
 * larger than `chunkBytes` is cut with `subarray` (no copy), smaller ones go as they are (never joined).
 */
function* slices(data: SnapshotData, chunkBytes: number): Generator<Uint8Array, void, undefined> {
  for (const chunk of data.chunks()) {
    if (chunk.byteLength <= chunkBytes) {
      yield chunk;
      continue;
    }
    for (let at = 0; at < chunk.byteLength; at += chunkBytes) {
      yield chunk.subarray(at, Math.min(chunk.byteLength, at + chunkBytes));
    }
  }
}

/**
 * Produces the wire pieces of a snapshot lazily, one slice of `data` at a time. Every piece carries `meta`
 * and its `offset`; only the last has `done` set; an empty snapshot is one empty piece with `done`.
 *
 * The reading runs one slice ahead, so that `done` is known: if reading the data throws (a storage error, a
 * pruned or corrupt file), it throws from `next()` before the last piece was produced, so a receiver never
 * sees a complete snapshot. A consumer that stops early should call `return()` (a `for...of` does), which
 * closes the data's reader.
 */
function* pieces(
  meta: ProtoSnapshotMeta,
  data: SnapshotData,
  chunkBytes: number,
): Generator<InstallSnapshotChunk, void, undefined> {
  let offset = 0;
  let held: Uint8Array | null = null;
  const piece = (bytes: Uint8Array, done: boolean): InstallSnapshotChunk => {
    const chunk = create(InstallSnapshotChunkSchema, { meta, offset: BigInt(offset), data: bytes, done });
    offset += bytes.byteLength;
    return chunk;
  };
  for (const slice of slices(data, chunkBytes)) {
    if (held !== null) yield piece(held, false);
    held = slice;
  }
  yield piece(held ?? new Uint8Array(0), true);
}

/**
 * Converts a core snapshot to its wire pieces, produced lazily from `snapshot.data.chunks()` as the
 * generator is read: pieces of at most `chunkBytes` bytes (a larger source chunk is cut with `subarray`,
 * smaller ones go as they are, nothing is copied or joined), `meta` on every piece, offsets in order, `done`
 * on the last. An empty snapshot is one piece.
 *
 * The meta and `chunkBytes` are checked now; the data is read only as pieces are taken, and a read error
 * (thrown by the data's source) comes out of the generator's `next()`, never after the last piece.
 *
 * @throws RaftError `INVALID_ARGUMENT` when the meta does not convert or `chunkBytes` is not a positive
 *   integer.
 */
export function toProtoSnapshotChunks(
  snapshot: Snapshot,
  chunkBytes: number,
): Generator<InstallSnapshotChunk, void, undefined> {
  checkChunkBytes(chunkBytes);
  if (!(snapshot.data instanceof SnapshotData)) throw invalidArgument('snapshot data must be a SnapshotData');
  return pieces(toProtoSnapshotMeta(snapshot.meta), snapshot.data, chunkBytes);
}

/**
 * Whether a chunk holds a whole snapshot (offset 0 and `done` set), so that {@link fromProtoSnapshotChunk}
 * accepts it. Pieces are reassembled with `fromProtoSnapshotPieces` (or a transport's assembler) instead.
 */
export function isWholeSnapshotChunk(chunk: InstallSnapshotChunk): boolean {
  return chunk.offset === 0n && chunk.done;
}

/**
 * Converts a wire chunk that holds a whole snapshot to core's form; the data is `SnapshotData.of` the
 * chunk's bytes (shared, not copied).
 *
 * @throws RaftError `INVALID_ARGUMENT` when the chunk is only a piece of a snapshot (see
 *   {@link isWholeSnapshotChunk}), or `meta` is missing or does not convert.
 */
export function fromProtoSnapshotChunk(chunk: InstallSnapshotChunk): Snapshot {
  if (!isWholeSnapshotChunk(chunk)) {
    throw invalidArgument(
      `snapshot chunk at offset ${chunk.offset} (done=${chunk.done}) is a piece of a snapshot; ` +
        'the transport must reassemble the pieces before conversion',
    );
  }
  if (chunk.meta === undefined) throw invalidArgument('snapshot chunk has no meta');
  return { meta: fromProtoSnapshotMeta(chunk.meta), data: SnapshotData.of(chunk.data) };
}
