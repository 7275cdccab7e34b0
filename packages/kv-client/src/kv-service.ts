import type { DescMessage } from '@bufbuild/protobuf';
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
  type SessionRequest,
  type SessionResponse,
  type StatusRequest,
  StatusRequestSchema,
  type StatusResponse,
  StatusResponseSchema,
} from '@tsraft/proto';
import { sessionMethod } from './session-method.js';
import { unaryMethod } from './unary-method.js';

/** Full name of the KV service; every method path starts with `/` + this + `/`. */
export const KV_SERVICE_NAME: string = KvService.typeName;

export { kvMalformedReason } from './unary-method.js';

const method = <I extends DescMessage, O extends DescMessage>(name: string, input: I, output: O) =>
  unaryMethod(KV_SERVICE_NAME, name, input, output);

/** The methods of `tsraft.kv.v1.KV`, typed by their protobuf-es messages; all but `Session` are unary. */
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
  /**
   * The bidirectional stream carrying many of the requests above at once, each answered under its id. A
   * request that does not decode arrives with only its id and no request, marked for {@link kvMalformedReason}.
   */
  readonly Session: MethodDefinition<SessionRequest, SessionResponse>;
}

/**
 * The `tsraft.kv.v1.KV` service for grpc-js, built from the generated protobuf-es schemas (no proto-loader):
 * serializers are `toBinary`/`fromBinary`. Serve it with `server.addService` (handlers may be named `Put` or
 * `put`; check {@link kvMalformedReason} on each request), call it through {@link createKvStub} (whose
 * `calls: 'stream'` option sends the requests over `Session`).
 */
export const KV_SERVICE_DEFINITION: KvServiceDefinition = {
  Put: method('Put', PutRequestSchema, PutResponseSchema),
  Get: method('Get', GetRequestSchema, GetResponseSchema),
  Delete: method('Delete', DeleteRequestSchema, DeleteResponseSchema),
  CompareAndSwap: method('CompareAndSwap', CompareAndSwapRequestSchema, CompareAndSwapResponseSchema),
  OpenSession: method('OpenSession', OpenSessionRequestSchema, OpenSessionResponseSchema),
  Status: method('Status', StatusRequestSchema, StatusResponseSchema),
  Session: sessionMethod(KV_SERVICE_NAME),
};
