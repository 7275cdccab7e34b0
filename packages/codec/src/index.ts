/**
 * Converts tsraft's core types to and from the protobuf wire schema (`@tsraft/proto`), once, at the edge.
 *
 * Core works with plain objects and numbers; the wire uses protobuf-es messages whose terms and indexes
 * are `bigint`. Everything a peer sends is checked on the way in: malformed input throws a `RaftError`
 * with code `INVALID_ARGUMENT`. See docs/wire-contract.md for the reasoning and the measurements.
 *
 * @packageDocumentation
 */

// Whole peer messages: what transports use.

export {
  type DecodedRaftMessage,
  fromProtoMessage,
  fromProtoSnapshotMessage,
  fromProtoSnapshotPieces,
  type SnapshotMessage,
  toProtoMessage,
  toProtoSnapshotPieces,
} from './message.js';
export { decodeRaftMessage, encodeRaftMessage } from './raft-message-codec.js';

// The parts, for storage and for transports that batch or chunk.

export { fromProtoConfChange, toProtoConfChange } from './conf-change.js';
export { fromProtoConfState, toProtoConfState } from './conf-state.js';
export { fromProtoEntry, toProtoEntry } from './entry.js';
export { fromProtoHardState, toProtoHardState } from './hard-state.js';
export {
  fromProtoSnapshotChunk,
  isWholeSnapshotChunk,
  toProtoSnapshotChunk,
  toProtoSnapshotChunks,
} from './snapshot-chunk.js';
export { fromProtoSnapshotMeta, toProtoSnapshotMeta } from './snapshot-meta.js';
export { fromUint64, toUint64 } from './uint64.js';
