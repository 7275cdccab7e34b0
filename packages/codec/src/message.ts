import { create, equals, type MessageInitShape } from '@bufbuild/protobuf';
import { type Message, SnapshotData } from '@tsraft/core';
import { type RaftMessage, RaftMessageSchema, SnapshotMetaSchema } from '@tsraft/proto';
import { fromProtoEntry, toProtoEntry } from './entry.js';
import { invalidArgument } from './invalid-argument.js';
import { requireNodeId } from './node-id.js';
import { fromProtoSnapshotChunk, toProtoSnapshotChunk, toProtoSnapshotChunks } from './snapshot-chunk.js';
import { fromProtoSnapshotMeta } from './snapshot-meta.js';
import { fromUint64, toUint64 } from './uint64.js';

/** A peer message read from the wire: core's message and the cluster it was addressed in. */
export interface DecodedRaftMessage {
  /** The sender's cluster id, exactly as sent; comparing it with the receiver's is the transport's job. */
  readonly clusterId: string;
  /** The message, in core's form. */
  readonly message: Message;
}

/** A core snapshot message. */
export type SnapshotMessage = Extract<Message, { readonly type: 'snapshot' }>;

/**
 * Converts a core peer message to the wire envelope `tsraft.raft.v1.RaftMessage`. Entry and snapshot bytes
 * are shared, not copied.
 *
 * A snapshot message becomes a single whole chunk (offset 0, `done`) only when its data needs no joining:
 * held in memory as one buffer (`SnapshotData.of`) or empty; that is meant for small snapshots and tests.
 * Data in several chunks or read from a source is refused: send it with {@link toProtoSnapshotPieces}, as
 * the transports do.
 *
 * @param clusterId - the sender's cluster id, copied into the envelope.
 * @throws RaftError `INVALID_ARGUMENT` when `from` or `to` is empty, a number is not a non-negative safe
 *   integer, or a snapshot's data is not one buffer in memory.
 */
export function toProtoMessage(message: Message, clusterId: string): RaftMessage {
  return create(RaftMessageSchema, {
    clusterId,
    from: requireNodeId(message.from, 'from'),
    to: requireNodeId(message.to, 'to'),
    term: toUint64(message.term, 'term'),
    body: toProtoBody(message),
  });
}

/**
 * Converts a snapshot message to its wire envelopes, produced lazily from `snapshot.data.chunks()` as the
 * generator is read: each carries the header, `meta`, its `offset` and a piece of at most `chunkBytes`
 * bytes (a larger source chunk is cut with `subarray`; smaller ones go as they are; nothing is copied or
 * joined); only the last has `done` set; an empty snapshot is one piece.
 *
 * The header, meta and `chunkBytes` are checked now. The data is read one source chunk ahead of the piece
 * handed out, so a read error (the data's source throwing, e.g. a pruned or corrupt snapshot file) comes out
 * of `next()` before the last piece: the receiver never completes the snapshot, and the sender should treat
 * the snapshot as failed. Stop early with `return()` (a `for...of` does) to close the data's reader.
 *
 * @param clusterId - the sender's cluster id, copied into every envelope.
 * @throws RaftError `INVALID_ARGUMENT` when `from` or `to` is empty, a number does not convert, or
 *   `chunkBytes` is not a positive integer.
 */
export function toProtoSnapshotPieces(
  message: SnapshotMessage,
  clusterId: string,
  chunkBytes: number,
): Generator<RaftMessage, void, undefined> {
  const header = {
    clusterId,
    from: requireNodeId(message.from, 'from'),
    to: requireNodeId(message.to, 'to'),
    term: toUint64(message.term, 'term'),
  };
  const chunks = toProtoSnapshotChunks(message.snapshot, chunkBytes);
  return (function* () {
    for (const chunk of chunks) {
      yield create(RaftMessageSchema, { ...header, body: { case: 'installSnapshot', value: chunk } });
    }
  })();
}

/**
 * Converts a snapshot reassembled by a transport: the header and meta come from `envelope` (any of the
 * snapshot's pieces; its `offset`, `done` and `data` are ignored), the bytes are `data` (for instance
 * `SnapshotData.fromChunks` of the pieces' bytes). The caller has checked that the pieces fit together.
 *
 * @throws RaftError `INVALID_ARGUMENT` when the envelope is not a snapshot piece, `from` or `to` is empty,
 *   a number exceeds `Number.MAX_SAFE_INTEGER`, or the meta is missing or does not convert.
 */
export function fromProtoSnapshotMessage(envelope: RaftMessage, data: SnapshotData): DecodedRaftMessage {
  if (envelope.body.case !== 'installSnapshot') {
    throw invalidArgument(`expected a snapshot piece, got ${envelope.body.case ?? 'no body'}`);
  }
  const meta = envelope.body.value.meta;
  if (meta === undefined) throw invalidArgument('snapshot chunk has no meta');
  return {
    clusterId: envelope.clusterId,
    message: {
      type: 'snapshot',
      from: requireNodeId(envelope.from, 'from'),
      to: requireNodeId(envelope.to, 'to'),
      term: fromUint64(envelope.term, 'term'),
      snapshot: { meta: fromProtoSnapshotMeta(meta), data },
    },
  };
}

/**
 * Reassembles every piece of one snapshot, in order, into core's message. The pieces' bytes are kept as
 * they are, as a list (`SnapshotData.fromChunks`), never joined into one buffer.
 *
 * @throws RaftError `INVALID_ARGUMENT` when there are no pieces, a piece is not a snapshot piece, offsets
 *   do not follow each other from 0, the header or meta differ between pieces, a piece follows the last
 *   (`done`) one or the last one is missing, or the envelope does not convert.
 */
export function fromProtoSnapshotPieces(pieces: Iterable<RaftMessage>): DecodedRaftMessage {
  let first: RaftMessage | undefined;
  const parts: Uint8Array[] = [];
  let received = 0;
  let done = false;
  for (const piece of pieces) {
    if (piece.body.case !== 'installSnapshot') {
      throw invalidArgument(`expected a snapshot piece, got ${piece.body.case ?? 'no body'}`);
    }
    const chunk = piece.body.value;
    if (done) throw invalidArgument('snapshot piece after the last one');
    if (chunk.offset !== BigInt(received)) {
      throw invalidArgument(`snapshot piece at offset ${chunk.offset}, expected ${received}`);
    }
    if (first === undefined) {
      first = piece;
    } else if (!samePieceHeader(first, piece)) {
      throw invalidArgument('snapshot pieces disagree on their header or meta');
    }
    if (chunk.data.byteLength > 0) parts.push(chunk.data);
    received += chunk.data.byteLength;
    done = chunk.done;
  }
  if (first === undefined) throw invalidArgument('a snapshot needs at least one piece');
  if (!done) throw invalidArgument('snapshot ended before its last piece');
  return fromProtoSnapshotMessage(first, SnapshotData.fromChunks(parts));
}

function samePieceHeader(a: RaftMessage, b: RaftMessage): boolean {
  if (a.clusterId !== b.clusterId || a.from !== b.from || a.to !== b.to || a.term !== b.term) return false;
  const ma = a.body.case === 'installSnapshot' ? a.body.value.meta : undefined;
  const mb = b.body.case === 'installSnapshot' ? b.body.value.meta : undefined;
  if (ma === undefined || mb === undefined) return ma === mb;
  return equals(SnapshotMetaSchema, ma, mb);
}

/**
 * Converts a decoded wire envelope to core's message, checking everything the type system cannot. A
 * snapshot must come as one whole chunk (offset 0, `done`); its data is `SnapshotData.of` the chunk's
 * bytes. Pieces are reassembled with {@link fromProtoSnapshotPieces} or a transport's assembler.
 *
 * @throws RaftError `INVALID_ARGUMENT` when the body is missing, `from` or `to` is empty, a number exceeds
 *   `Number.MAX_SAFE_INTEGER`, an enum is unspecified or unknown, or a snapshot chunk is not whole.
 */
export function fromProtoMessage(raft: RaftMessage): DecodedRaftMessage {
  const header = {
    from: requireNodeId(raft.from, 'from'),
    to: requireNodeId(raft.to, 'to'),
    term: fromUint64(raft.term, 'term'),
  };
  return { clusterId: raft.clusterId, message: fromProtoBody(raft.body, header) };
}

type ProtoBody = RaftMessage['body'];
type ProtoBodyInit = NonNullable<MessageInitShape<typeof RaftMessageSchema>['body']>;

interface Header {
  readonly from: string;
  readonly to: string;
  readonly term: number;
}

function toProtoBody(m: Message): ProtoBodyInit {
  switch (m.type) {
    case 'vote':
      return {
        case: 'voteRequest',
        value: {
          preVote: m.preVote,
          lastLogIndex: toUint64(m.lastLogIndex, 'vote.lastLogIndex'),
          lastLogTerm: toUint64(m.lastLogTerm, 'vote.lastLogTerm'),
          leadershipTransfer: m.leadershipTransfer,
        },
      };
    case 'voteResponse':
      return { case: 'voteResponse', value: { preVote: m.preVote, granted: m.granted } };
    case 'append':
      return {
        case: 'appendEntriesRequest',
        value: {
          prevLogIndex: toUint64(m.prevLogIndex, 'append.prevLogIndex'),
          prevLogTerm: toUint64(m.prevLogTerm, 'append.prevLogTerm'),
          entries: m.entries.map(toProtoEntry),
          commit: toUint64(m.commit, 'append.commit'),
        },
      };
    case 'appendResponse':
      return {
        case: 'appendEntriesResponse',
        value: {
          reject: m.reject,
          index: toUint64(m.index, 'appendResponse.index'),
          rejectHintIndex: toUint64(m.rejectHintIndex, 'appendResponse.rejectHintIndex'),
          rejectHintTerm: toUint64(m.rejectHintTerm, 'appendResponse.rejectHintTerm'),
          commit: toUint64(m.commit, 'appendResponse.commit'),
        },
      };
    case 'heartbeat':
      return {
        case: 'heartbeat',
        value: {
          commit: toUint64(m.commit, 'heartbeat.commit'),
          context: toUint64(m.context, 'heartbeat.context'),
          release: m.release === true,
        },
      };
    case 'heartbeatResponse':
      return {
        case: 'heartbeatResponse',
        value: {
          context: toUint64(m.context, 'heartbeatResponse.context'),
          commit: toUint64(m.commit, 'heartbeatResponse.commit'),
        },
      };
    case 'snapshot':
      return { case: 'installSnapshot', value: toProtoSnapshotChunk(m.snapshot) };
    case 'timeoutNow':
      return { case: 'timeoutNow', value: {} };
    case 'readIndex':
      return { case: 'readIndexRequest', value: { requestId: toUint64(m.requestId, 'readIndex.requestId') } };
    case 'readIndexResponse':
      return {
        case: 'readIndexResponse',
        value: {
          requestId: toUint64(m.requestId, 'readIndexResponse.requestId'),
          index: toUint64(m.index, 'readIndexResponse.index'),
        },
      };
    default:
      throw invalidArgument(`unknown message type ${String((m satisfies never as { type: unknown }).type)}`);
  }
}

function fromProtoBody(body: ProtoBody, h: Header): Message {
  switch (body.case) {
    case 'voteRequest': {
      const v = body.value;
      return {
        type: 'vote',
        ...h,
        preVote: v.preVote,
        lastLogIndex: fromUint64(v.lastLogIndex, 'vote.lastLogIndex'),
        lastLogTerm: fromUint64(v.lastLogTerm, 'vote.lastLogTerm'),
        leadershipTransfer: v.leadershipTransfer,
      };
    }
    case 'voteResponse':
      return { type: 'voteResponse', ...h, preVote: body.value.preVote, granted: body.value.granted };
    case 'appendEntriesRequest': {
      const v = body.value;
      return {
        type: 'append',
        ...h,
        prevLogIndex: fromUint64(v.prevLogIndex, 'append.prevLogIndex'),
        prevLogTerm: fromUint64(v.prevLogTerm, 'append.prevLogTerm'),
        entries: v.entries.map(fromProtoEntry),
        commit: fromUint64(v.commit, 'append.commit'),
      };
    }
    case 'appendEntriesResponse': {
      const v = body.value;
      return {
        type: 'appendResponse',
        ...h,
        reject: v.reject,
        index: fromUint64(v.index, 'appendResponse.index'),
        rejectHintIndex: fromUint64(v.rejectHintIndex, 'appendResponse.rejectHintIndex'),
        rejectHintTerm: fromUint64(v.rejectHintTerm, 'appendResponse.rejectHintTerm'),
        commit: fromUint64(v.commit, 'appendResponse.commit'),
      };
    }
    case 'heartbeat':
      return {
        type: 'heartbeat',
        ...h,
        commit: fromUint64(body.value.commit, 'heartbeat.commit'),
        context: fromUint64(body.value.context, 'heartbeat.context'),
        ...(body.value.release ? { release: true } : {}),
      };
    case 'heartbeatResponse':
      return {
        type: 'heartbeatResponse',
        ...h,
        context: fromUint64(body.value.context, 'heartbeatResponse.context'),
        commit: fromUint64(body.value.commit, 'heartbeatResponse.commit'),
      };
    case 'installSnapshot':
      return { type: 'snapshot', ...h, snapshot: fromProtoSnapshotChunk(body.value) };
    case 'timeoutNow':
      return { type: 'timeoutNow', ...h };
    case 'readIndexRequest':
      return {
        type: 'readIndex',
        ...h,
        requestId: fromUint64(body.value.requestId, 'readIndex.requestId'),
      };
    case 'readIndexResponse':
      return {
        type: 'readIndexResponse',
        ...h,
        requestId: fromUint64(body.value.requestId, 'readIndexResponse.requestId'),
        index: fromUint64(body.value.index, 'readIndexResponse.index'),
      };
    case undefined:
      throw invalidArgument('message has no body (an unknown or missing oneof case)');
    default:
      throw invalidArgument(`unknown body ${String((body satisfies never as { case: unknown }).case)}`);
  }
}
