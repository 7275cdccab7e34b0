import { type DescMessage, fromBinary, type MessageShape, toBinary } from '@bufbuild/protobuf';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import {
  type InstallSnapshotRequest,
  InstallSnapshotRequestSchema,
  type InstallSnapshotResponse,
  InstallSnapshotResponseSchema,
  Raft as RaftService,
  type SendRequest,
  SendRequestSchema,
  type SendResponse,
  SendResponseSchema,
  type StreamRequest,
  StreamRequestSchema,
  type StreamResponse,
  StreamResponseSchema,
} from '@tsraft/proto';

/** Full name of the Raft peer service; every method path starts with `/` + this + `/`. */
export const RAFT_SERVICE_NAME: string = RaftService.typeName;

/** Size in bytes of each message grpc-js decoded, for admission control. */
const wireSizes = new WeakMap<object, number>();
/** Messages whose bytes did not decode, with the reason; they are answered INVALID_ARGUMENT. */
const malformed = new WeakMap<object, string>();

/** The encoded size of a message decoded by a {@link RAFT_SERVICE_DEFINITION} deserializer, else 0. */
export function wireSizeOf(message: unknown): number {
  return typeof message === 'object' && message !== null ? (wireSizes.get(message) ?? 0) : 0;
}

/**
 * Why the bytes of a message received by a {@link RAFT_SERVICE_DEFINITION} deserializer did not decode,
 * or `undefined` when they did. A malformed message arrives as an empty one carrying this mark, so that the
 * server answers INVALID_ARGUMENT (grpc-js would answer INTERNAL for a throwing deserializer).
 */
export function malformedReason(message: unknown): string | undefined {
  return typeof message === 'object' && message !== null ? malformed.get(message) : undefined;
}

function serializer<Desc extends DescMessage>(schema: Desc): (value: MessageShape<Desc>) => Buffer {
  return (value) => {
    const bytes = toBinary(schema, value);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer<Desc extends DescMessage>(schema: Desc): (bytes: Buffer) => MessageShape<Desc> {
  return (bytes) => {
    let message: MessageShape<Desc>;
    try {
      message = fromBinary(schema, bytes);
    } catch (error) {
      message = fromBinary(schema, new Uint8Array(0));
      malformed.set(message, error instanceof Error ? error.message : String(error));
    }
    wireSizes.set(message, bytes.byteLength);
    return message;
  };
}

function method<I extends DescMessage, O extends DescMessage>(
  name: string,
  input: I,
  output: O,
  requestStream: boolean,
  responseStream: boolean,
): MethodDefinition<MessageShape<I>, MessageShape<O>> {
  return {
    path: `/${RAFT_SERVICE_NAME}/${name}`,
    requestStream,
    responseStream,
    requestSerialize: serializer(input),
    requestDeserialize: deserializer(input),
    responseSerialize: serializer(output),
    responseDeserialize: deserializer(output),
    originalName: name.charAt(0).toLowerCase() + name.slice(1),
  };
}

/** The methods of `tsraft.raft.v1.Raft`, typed by their protobuf-es messages. */
export interface RaftServiceDefinition extends ServiceDefinition {
  /** One batch of messages per unary call. */
  readonly Send: MethodDefinition<SendRequest, SendResponse>;
  /** One snapshot as a client stream of chunks. */
  readonly InstallSnapshot: MethodDefinition<InstallSnapshotRequest, InstallSnapshotResponse>;
  /** A long-lived bidirectional stream of batches. */
  readonly Stream: MethodDefinition<StreamRequest, StreamResponse>;
}

/**
 * The `tsraft.raft.v1.Raft` service for grpc-js, built from the generated protobuf-es schemas (no
 * proto-loader): serializers are `toBinary`/`fromBinary`. Use it with `server.addService` and
 * `makeGenericClientConstructor`, or through {@link createRaftServer} and {@link createRaftClient}.
 */
export const RAFT_SERVICE_DEFINITION: RaftServiceDefinition = {
  Send: method('Send', SendRequestSchema, SendResponseSchema, false, false),
  InstallSnapshot: method(
    'InstallSnapshot',
    InstallSnapshotRequestSchema,
    InstallSnapshotResponseSchema,
    true,
    false,
  ),
  Stream: method('Stream', StreamRequestSchema, StreamResponseSchema, true, true),
};
