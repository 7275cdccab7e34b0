/**
 * The client of a tsraft KV cluster: the `tsraft.kv.v1.KV` service definition for grpc-js (shared with the
 * server), a low-level per-endpoint stub, the typed {@link KvError}, and {@link createKvClient}, which follows
 * leader changes and retries writes safely under a session.
 *
 * @packageDocumentation
 */
export type {
  KvClient,
  KvClientOptions,
  KvOperationOptions,
  MemberStatus,
  ReadConsistencyMode,
} from './kv-client.js';
export { createKvClient } from './kv-client.js';
export type { KvErrorCode, KvErrorOptions } from './kv-error.js';
export { KV_ERROR_CODE_KEY, KvError } from './kv-error.js';
export type { KvServiceDefinition } from './kv-service.js';
export { KV_SERVICE_DEFINITION, KV_SERVICE_NAME, kvMalformedReason } from './kv-service.js';
export type { CallOptions, KvStub, KvStubOptions } from './kv-stub.js';
export { createKvStub } from './kv-stub.js';
export type { KvTlsFiles } from './kv-tls.js';
