import { create } from '@bufbuild/protobuf';
import type { Snapshot } from '@tsraft/core';
import { type InstallSnapshotChunk, InstallSnapshotChunkSchema } from '@tsraft/proto';
import { invalidArgument } from './invalid-argument.js';
import { fromProtoSnapshotMeta, toProtoSnapshotMeta } from './snapshot-meta.js';

/**
 * Converts a whole core snapshot to one wire chunk: offset 0, `done` set, all the bytes. `data` is shared,
 * not copied.
 *
 * A transport that sends snapshots in pieces splits this chunk: every piece keeps `meta`, carries a
 * slice of `data` at its `offset`, and only the last has `done` set.
 *
 * @throws RaftError `INVALID_ARGUMENT` when the snapshot's meta does not convert.
 */
export function toProtoSnapshotChunk(snapshot: Snapshot): InstallSnapshotChunk {
  return create(InstallSnapshotChunkSchema, {
    meta: toProtoSnapshotMeta(snapshot.meta),
    offset: 0n,
    data: snapshot.data,
    done: true,
  });
}

/**
 * Whether a chunk holds a whole snapshot (offset 0 and `done` set), so that {@link fromProtoSnapshotChunk}
 * accepts it. A transport that receives pieces reassembles them into such a chunk first.
 */
export function isWholeSnapshotChunk(chunk: InstallSnapshotChunk): boolean {
  return chunk.offset === 0n && chunk.done;
}

/**
 * Converts a wire chunk that holds a whole snapshot to core's form. `data` is shared, not copied.
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
  return { meta: fromProtoSnapshotMeta(chunk.meta), data: chunk.data };
}
