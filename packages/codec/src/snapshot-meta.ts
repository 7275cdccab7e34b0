import { create } from '@bufbuild/protobuf';
import type { SnapshotMeta } from '@tsraft/core';
import { type SnapshotMeta as ProtoSnapshotMeta, SnapshotMetaSchema } from '@tsraft/proto';
import { fromProtoConfState, toProtoConfState } from './conf-state.js';
import { invalidArgument } from './invalid-argument.js';
import { fromUint64, toUint64 } from './uint64.js';

/**
 * Converts a core snapshot position and membership to its wire form.
 *
 * @throws RaftError `INVALID_ARGUMENT` when `index` or `term` is not a non-negative safe integer, or a
 *   member id is empty.
 */
export function toProtoSnapshotMeta(meta: SnapshotMeta): ProtoSnapshotMeta {
  return create(SnapshotMetaSchema, {
    index: toUint64(meta.index, 'snapshot.meta.index'),
    term: toUint64(meta.term, 'snapshot.meta.term'),
    conf: toProtoConfState(meta.conf),
  });
}

/**
 * Converts a decoded wire snapshot position and membership to core's form.
 *
 * @throws RaftError `INVALID_ARGUMENT` when `conf` is missing, `index` or `term` exceeds
 *   `Number.MAX_SAFE_INTEGER`, or a member id is empty.
 */
export function fromProtoSnapshotMeta(meta: ProtoSnapshotMeta): SnapshotMeta {
  if (meta.conf === undefined) throw invalidArgument('snapshot.meta.conf is missing');
  return {
    index: fromUint64(meta.index, 'snapshot.meta.index'),
    term: fromUint64(meta.term, 'snapshot.meta.term'),
    conf: fromProtoConfState(meta.conf),
  };
}
