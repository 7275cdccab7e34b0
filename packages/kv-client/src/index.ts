/**
 * The client of a tsraft KV cluster: the `tsraft.kv.v1.KV` service definition for grpc-js (shared with the
 * server), a low-level per-endpoint stub, the typed {@link KvError}, and {@link createKvClient}, which follows
 * leader changes and retries writes safely under a session. Likewise for membership administration
 * (`tsraft.cluster.v1.Cluster`): {@link CLUSTER_SERVICE_DEFINITION}, {@link createClusterStub} and
 * {@link createClusterClient}.
 *
 * @packageDocumentation
 */
export type {
  ClusterClient,
  ClusterClientOptions,
  ClusterMember,
  ClusterMemberRole,
  ClusterMembership,
  ClusterOperationOptions,
  MemberChangeOptions,
} from './cluster-client.js';
export { createClusterClient, toClusterMembership } from './cluster-client.js';
export type { ClusterServiceDefinition } from './cluster-service.js';
export { CLUSTER_SERVICE_DEFINITION, CLUSTER_SERVICE_NAME } from './cluster-service.js';
export type { ClusterStub } from './cluster-stub.js';
export { createClusterStub } from './cluster-stub.js';
export type {
  KvClient,
  KvClientOptions,
  KvOperationOptions,
  MemberStatus,
  ReadConsistencyMode,
} from './kv-client.js';
export { createKvClient } from './kv-client.js';
export type { KvErrorCode, KvErrorOptions } from './kv-error.js';
export { isTaggedByServer, KV_ERROR_CODE_KEY, KvError } from './kv-error.js';
export type { KvServiceDefinition } from './kv-service.js';
export { KV_SERVICE_DEFINITION, KV_SERVICE_NAME, kvMalformedReason } from './kv-service.js';
export type { CallOptions, KvCallMode, KvStub, KvStubOptions } from './kv-stub.js';
export { createKvStub } from './kv-stub.js';
export type { KvTlsFiles } from './kv-tls.js';
export type { SessionKind, SessionRequestOf, SessionResponseOf } from './session-stream.js';
