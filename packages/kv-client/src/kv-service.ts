import { type DescMessage, fromBinary, type MessageShape, toBinary } from '@bufbuild/protobuf';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import {
  type CompareAndSwapRequest,
  CompareAndSwapRequestSchema,
  type CompareAndSwapResponse,
  CompareAndSwapResponseSchema,
  type DeleteRequest,
  DeleteRequestSchema,
  type DeleteResponse,
  DeleteResponseSchema,
  type GetRequest,
  GetRequestSchema,
  type GetResponse,
  GetResponseSchema,
  KV as KvService,
  type OpenSessionRequest,
  OpenSessionRequestSchema,
  type OpenSessionResponse,
  OpenSessionResponseSchema,
  type PutRequest,
  PutRequestSchema,
  type PutResponse,
  PutResponseSchema,
  type StatusRequest,
  StatusRequestSchema,
  type StatusResponse,
  StatusResponseSchema,
} from '@tsraft/proto';

/** Full name of the KV service; every method path starts with `/` + this + `/`. */
export const KV_SERVICE_NAME: string = KvService.typeName;

/** Messages whose bytes did not decode, with the reason; servers answer them INVALID_ARGUMENT. */
const malformed = new WeakMap<object, string>();

/**
 * Why the bytes of a message decoded by a {@link KV_SERVICE_DEFINITION} deserializer did not decode, or
 * `undefined` when they did. A malformed message arrives as an empty one carrying this mark, so that a server
 * can answer INVALID_ARGUMENT (grpc-js would answer INTERNAL for a throwing deserializer).
 */
export function kvMalformedReason(message: unknown): string | undefined {
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
    try {
      return fromBinary(schema, bytes);
    } catch (error) {
      const message = fromBinary(schema, new Uint8Array(0));
      malformed.set(message, error instanceof Error ? error.message : String(error));
      return message;
    }
  };
}

function method<I extends DescMessage, O extends DescMessage>(
  name: string,
  input: I,
  output: O,
): MethodDefinition<MessageShape<I>, MessageShape<O>> {
  return {
    path: `/${KV_SERVICE_NAME}/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: serializer(input),
    requestDeserialize: deserializer(input),
    responseSerialize: serializer(output),
    responseDeserialize: deserializer(output),
    originalName: name.charAt(0).toLowerCase() + name.slice(1),
  };
}

/** The methods of `tsraft.kv.v1.KV`, typed by their protobuf-es messages; all are unary. */
export interface KvServiceDefinition extends ServiceDefinition {
  /** Stores a value under a key. */
  readonly Put: MethodDefinition<PutRequest, PutResponse>;
  /** Reads the value under a key. */
  readonly Get: MethodDefinition<GetRequest, GetResponse>;
  /** Removes a key. */
  readonly Delete: MethodDefinition<DeleteRequest, DeleteResponse>;
  /** Stores a value only if the key holds the expected one (or is absent). */
  readonly CompareAndSwap: MethodDefinition<CompareAndSwapRequest, CompareAndSwapResponse>;
  /** Opens a session under which writes are applied at most once. */
  readonly OpenSession: MethodDefinition<OpenSessionRequest, OpenSessionResponse>;
  /** One member's own view of the cluster. */
  readonly Status: MethodDefinition<StatusRequest, StatusResponse>;
}

/**
 * The `tsraft.kv.v1.KV` service for grpc-js, built from the generated protobuf-es schemas (no proto-loader):
 * serializers are `toBinary`/`fromBinary`. Serve it with `server.addService` (handlers may be named `Put` or
 * `put`; check {@link kvMalformedReason} on each request), call it through {@link createKvStub}.
 */
export const KV_SERVICE_DEFINITION: KvServiceDefinition = {
  Put: method('Put', PutRequestSchema, PutResponseSchema),
  Get: method('Get', GetRequestSchema, GetResponseSchema),
  Delete: method('Delete', DeleteRequestSchema, DeleteResponseSchema),
  CompareAndSwap: method('CompareAndSwap', CompareAndSwapRequestSchema, CompareAndSwapResponseSchema),
  OpenSession: method('OpenSession', OpenSessionRequestSchema, OpenSessionResponseSchema),
  Status: method('Status', StatusRequestSchema, StatusResponseSchema),
};
