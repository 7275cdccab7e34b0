import { create, type MessageInitShape } from '@bufbuild/protobuf';
import type { Message } from '@tsraft/core';
import { type RaftMessage, RaftMessageSchema } from '@tsraft/proto';
import { fromProtoEntry, toProtoEntry } from './entry.js';
import { invalidArgument } from './invalid-argument.js';
import { requireNodeId } from './node-id.js';
import { fromProtoSnapshotChunk, toProtoSnapshotChunk } from './snapshot-chunk.js';
import { fromUint64, toUint64 } from './uint64.js';

/** A peer message read from the wire: core's message and the cluster it was addressed in. */
export interface DecodedRaftMessage {
  /** The sender's cluster id, exactly as sent; comparing it with the receiver's is the transport's job. */
  readonly clusterId: string;
  /** The message, in core's form. */
  readonly message: Message;
}

/**
 * Converts a core peer message to the wire envelope `tsraft.raft.v1.RaftMessage`. Entry and snapshot bytes
 * are shared, not copied. An `InstallSnapshot` becomes a single whole chunk (see `toProtoSnapshotChunk`).
 *
 * @param clusterId - the sender's cluster id, copied into the envelope.
 * @throws RaftError `INVALID_ARGUMENT` when `from` or `to` is empty or a number is not a non-negative safe
 *   integer.
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
 * Converts a decoded wire envelope to core's message, checking everything the type system cannot.
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
        },
      };
    case 'heartbeat':
      return {
        case: 'heartbeat',
        value: {
          commit: toUint64(m.commit, 'heartbeat.commit'),
          context: toUint64(m.context, 'heartbeat.context'),
        },
      };
    case 'heartbeatResponse':
      return {
        case: 'heartbeatResponse',
        value: { context: toUint64(m.context, 'heartbeatResponse.context') },
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
      };
    }
    case 'heartbeat':
      return {
        type: 'heartbeat',
        ...h,
        commit: fromUint64(body.value.commit, 'heartbeat.commit'),
        context: fromUint64(body.value.context, 'heartbeat.context'),
      };
    case 'heartbeatResponse':
      return {
        type: 'heartbeatResponse',
        ...h,
        context: fromUint64(body.value.context, 'heartbeatResponse.context'),
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
