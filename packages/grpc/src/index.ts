/**
 * Shared gRPC plumbing for tsraft's transports (grpc-js): the `tsraft.raft.v1.Raft` service built from the
 * generated protobuf-es schemas, a server factory with health, reflection, interceptors, admission
 * control and graceful shutdown, the per-peer channel, TLS from files, snapshot chunking, and the typed
 * {@link TransportError}. See docs/transports.md.
 *
 * @packageDocumentation
 */

// For transport authors: server, channel, errors.

export {
  createRaftClient,
  DEFAULT_MAX_MESSAGE_BYTES,
  type PeerChannelOptions,
  peerChannelOptions,
} from './channel.js';
export {
  type CallRecord,
  type CallSide,
  createDefaultLogger,
  emitMetric,
  type GrpcLogger,
  type GrpcMetrics,
} from './observability.js';
export {
  createRaftServer,
  type HostedService,
  type RaftServer,
  type RaftServerOptions,
  type RaftServiceHandlers,
} from './raft-server.js';
export { loadChannelCredentials, loadServerCredentials, type TlsFiles } from './tls.js';
export {
  codeForStatus,
  type GrpcStatusObject,
  type StatusLike,
  TRANSPORT_ERROR_CODE_KEY,
  TransportError,
  type TransportErrorCode,
} from './transport-error.js';

// Building blocks.

export {
  type Admission,
  type AdmissionLimits,
  createAdmission,
  DEFAULT_MAX_CONCURRENT_CALLS_PER_PEER,
  DEFAULT_MAX_INFLIGHT_BYTES_PER_PEER,
} from './admission.js';
export { type ClientInterceptorOptions, createClientInterceptor } from './client-interceptor.js';
export {
  CLUSTER_ID_METADATA_KEY,
  callerIdOf,
  checkCaller,
  checkEnvelope,
  membershipTest,
  NODE_ID_METADATA_KEY,
  type PeerPolicy,
} from './peer-identity.js';
export {
  malformedReason,
  RAFT_SERVICE_DEFINITION,
  RAFT_SERVICE_NAME,
  type RaftServiceDefinition,
  wireSizeOf,
} from './raft-service.js';
export { addReflection } from './reflection.js';
export {
  createServerInterceptor,
  type OpenCall,
  type ServerInterceptorOptions,
} from './server-interceptor.js';
export {
  type AssembledSnapshot,
  createSnapshotAssembler,
  DEFAULT_SNAPSHOT_CHUNK_BYTES,
  type SnapshotAssembler,
  splitSnapshot,
} from './snapshot-chunks.js';
