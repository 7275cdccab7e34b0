import { create } from '@bufbuild/protobuf';
import type { ServerReadableStream, ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { fromProtoMessage, fromProtoSnapshotMessage } from '@tsraft/codec';
import { type Message, RaftError } from '@tsraft/core';
import {
  callerIdOf,
  checkEnvelope,
  createSnapshotAssembler,
  type PeerPolicy,
  type RaftServiceHandlers,
  TransportError,
} from '@tsraft/grpc';
import {
  type InstallSnapshotRequest,
  type InstallSnapshotResponse,
  InstallSnapshotResponseSchema,
  type RaftMessage,
  type SendRequest,
  type SendResponse,
  SendResponseSchema,
} from '@tsraft/proto';

/** Normalises what decoding or checking a message threw: the codec's `INVALID_ARGUMENT` is `MALFORMED`. */
function inboundError(error: unknown): TransportError {
  if (error instanceof RaftError && error.code === 'INVALID_ARGUMENT') {
    return new TransportError('MALFORMED', error.message, { cause: error });
  }
  return TransportError.from(error);
}

function callerOf(metadata: ServerUnaryCall<unknown, unknown>['metadata']): string {
  // The server interceptor admitted the call only after checking this id.
  return callerIdOf(metadata) ?? '';
}

/**
 * The server side of the unary transport: `Send` checks and decodes the whole batch before handing any
 * message to Raft (a bad message refuses the batch); `InstallSnapshot` keeps the pieces as they arrive and,
 * when the stream ends after the last one, hands the snapshot up with its data as the list of pieces
 * (`SnapshotData.fromChunks`, never joined). A stream cancelled or failed before its end delivers nothing.
 */
export function createInboundHandlers(
  policy: PeerPolicy,
  maxSnapshotBytes: number,
  deliver: (message: Message) => void,
): RaftServiceHandlers {
  const decode = (raft: RaftMessage, caller: string): Message => {
    checkEnvelope(raft, caller, policy);
    return fromProtoMessage(raft).message;
  };
  return {
    Send: (call: ServerUnaryCall<SendRequest, SendResponse>, callback: sendUnaryData<SendResponse>) => {
      const caller = callerOf(call.metadata);
      let messages: Message[];
      try {
        messages = call.request.messages.map((raft) => decode(raft, caller));
      } catch (error) {
        callback(inboundError(error).toStatus());
        return;
      }
      for (const message of messages) deliver(message);
      callback(null, create(SendResponseSchema));
    },
    InstallSnapshot: (
      call: ServerReadableStream<InstallSnapshotRequest, InstallSnapshotResponse>,
      callback: sendUnaryData<InstallSnapshotResponse>,
    ) => {
      const caller = callerOf(call.metadata);
      const assembler = createSnapshotAssembler(maxSnapshotBytes);
      let failed = false;
      const fail = (error: unknown): void => {
        if (failed) return;
        failed = true;
        callback(inboundError(error).toStatus());
      };
      call.on('data', (request: InstallSnapshotRequest) => {
        if (failed) return;
        try {
          if (request.message === undefined)
            throw new TransportError('MALFORMED', 'snapshot request without a message');
          checkEnvelope(request.message, caller, policy);
          assembler.push(request.message);
        } catch (error) {
          fail(error);
        }
      });
      call.on('end', () => {
        if (failed) return;
        let message: Message;
        try {
          const { envelope, data } = assembler.take();
          checkEnvelope(envelope, caller, policy);
          message = fromProtoSnapshotMessage(envelope, data).message;
        } catch (error) {
          fail(error);
          return;
        }
        deliver(message);
        callback(null, create(InstallSnapshotResponseSchema));
      });
      call.on('error', () => {
        failed = true;
      });
    },
  };
}
