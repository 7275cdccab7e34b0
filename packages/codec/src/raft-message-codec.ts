import { fromBinary, toBinary } from '@bufbuild/protobuf';
import type { Message } from '@tsraft/core';
import { type RaftMessage, RaftMessageSchema } from '@tsraft/proto';
import { invalidArgument } from './invalid-argument.js';
import { type DecodedRaftMessage, fromProtoMessage, toProtoMessage } from './message.js';

/**
 * Encodes a core peer message as the bytes of a `tsraft.raft.v1.RaftMessage`.
 *
 * @param clusterId - the sender's cluster id, carried in the envelope.
 * @throws RaftError `INVALID_ARGUMENT` when the message does not convert (see `toProtoMessage`).
 */
export function encodeRaftMessage(message: Message, clusterId: string): Uint8Array {
  return toBinary(RaftMessageSchema, toProtoMessage(message, clusterId));
}

/**
 * Decodes the bytes of a `tsraft.raft.v1.RaftMessage` into core's message and the sender's cluster id.
 * The returned entry and snapshot bytes are views into `bytes`' buffer, not copies.
 *
 * @throws RaftError `INVALID_ARGUMENT` when `bytes` is not valid protobuf for a RaftMessage, or the
 *   message does not convert (see `fromProtoMessage`).
 */
export function decodeRaftMessage(bytes: Uint8Array): DecodedRaftMessage {
  let raft: RaftMessage;
  try {
    raft = fromBinary(RaftMessageSchema, bytes);
  } catch (error) {
    throw invalidArgument('bytes are not a valid tsraft.raft.v1.RaftMessage', error);
  }
  return fromProtoMessage(raft);
}
