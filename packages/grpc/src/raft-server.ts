import type { DescFile } from '@bufbuild/protobuf';
import {
  type handleBidiStreamingCall,
  type handleClientStreamingCall,
  type handleUnaryCall,
  Server,
  type ServerOptions,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { NodeId } from '@tsraft/core';
import type {
  InstallSnapshotRequest,
  InstallSnapshotResponse,
  SendRequest,
  SendResponse,
  StreamRequest,
  StreamResponse,
} from '@tsraft/proto';
import { HealthImplementation } from 'grpc-health-check';
import { type AdmissionLimits, createAdmission } from './admission.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './channel.js';
import { createDefaultLogger, type GrpcLogger, type GrpcMetrics } from './observability.js';
import { membershipTest, type PeerPolicy } from './peer-identity.js';
import { RAFT_SERVICE_DEFINITION, RAFT_SERVICE_NAME } from './raft-service.js';
import { addReflection } from './reflection.js';
import { createServerInterceptor, type OpenCall } from './server-interceptor.js';
import { loadServerCredentials, type TlsFiles } from './tls.js';
import { TransportError } from './transport-error.js';

/** The Raft methods a server implements; a missing one is answered UNIMPLEMENTED. */
export interface RaftServiceHandlers {
  readonly Send?: handleUnaryCall<SendRequest, SendResponse>;
  readonly InstallSnapshot?: handleClientStreamingCall<InstallSnapshotRequest, InstallSnapshotResponse>;
  readonly Stream?: handleBidiStreamingCall<StreamRequest, StreamResponse>;
}

/**
 * A gRPC service served on the same port as Raft (a node's client API, for instance). Its calls skip the
 * Raft interceptor's peer checks and admission; its health follows the server's (see `setServing`).
 */
export interface HostedService {
  /** The full service name (`package.Service`), under which the health service reports it. */
  readonly name: string;
  readonly definition: ServiceDefinition;
  readonly implementation: UntypedServiceImplementation;
  /** The protobuf-es files describing it (with the files they import), for server reflection. Default none. */
  readonly files?: readonly DescFile[];
}

/** Options of {@link createRaftServer}. */
export interface RaftServerOptions {
  /** `host:port` to listen on; port 0 picks a free port (see {@link RaftServer.port}). */
  readonly listen: string;
  /** The cluster this node belongs to; callers naming another are refused with FAILED_PRECONDITION. */
  readonly clusterId: string;
  /** This node's id. */
  readonly nodeId: NodeId;
  /** The cluster's members, or a membership test; other callers are refused with PERMISSION_DENIED. */
  readonly members: readonly NodeId[] | ((id: NodeId) => boolean);
  /** The Raft methods. Callers reach them only after the cluster, membership and admission checks. */
  readonly handlers: RaftServiceHandlers;
  /** More services to serve on the same port. Default none. */
  readonly services?: readonly HostedService[];
  /** TLS (mutual by default) from PEM files; absent means plaintext. */
  readonly tls?: TlsFiles;
  /** Per-peer admission control. */
  readonly limits?: AdmissionLimits;
  /** Largest message accepted or sent, in bytes. Default 16 MiB. */
  readonly maxMessageBytes?: number;
  /**
   * Interval of the server's HTTP/2 keep-alive PINGs to each client, in ms. A client that answers none within
   * `keepaliveTimeoutMs` has its connection closed and its calls (streams included) cancelled, so the server
   * side of a stream from a vanished peer does not linger. Default 10 000.
   */
  readonly keepaliveIntervalMs?: number;
  /** How long the server waits for a PING answer before dropping the connection, in ms. Default 5 000. */
  readonly keepaliveTimeoutMs?: number;
  /** How long `close()` lets in-flight calls finish before it cuts them. Default 2 000. */
  readonly shutdownGraceMs?: number;
  /** Structured logger. Default: pino at level `warn`. */
  readonly logger?: GrpcLogger;
  readonly metrics?: GrpcMetrics;
}

/** A listening gRPC server for one node: Raft, grpc.health.v1 and server reflection. */
export interface RaftServer {
  /** The bound port (the real one when `listen` asked for port 0). */
  readonly port: number;
  /** `host:port` peers dial to reach this server. */
  readonly address: string;
  /**
   * Sets the health status of the whole server (`""`), of `tsraft.raft.v1.Raft` and of each hosted service. It starts
   * NOT_SERVING; the owner sets SERVING while the node runs and its storage is healthy.
   */
  setServing(serving: boolean): void;
  /**
   * Graceful shutdown: health NOT_SERVING, refuse new calls, end open bidirectional streams with
   * UNAVAILABLE, let other in-flight calls finish within `shutdownGraceMs`, then cut what remains.
   * Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Creates, binds and starts a {@link RaftServer} with its interceptors (cluster and membership check,
 * admission control, logging, metrics), health service and reflection.
 */
export async function createRaftServer(options: RaftServerOptions): Promise<RaftServer> {
  const logger = options.logger ?? createDefaultLogger();
  const policy: PeerPolicy = {
    clusterId: options.clusterId,
    nodeId: options.nodeId,
    isMember: membershipTest(options.members),
  };
  const openCalls = new Set<OpenCall>();
  let draining = false;
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const serverOptions: ServerOptions = {
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
    'grpc.default_compression_algorithm': 0,
    'grpc.keepalive_time_ms': options.keepaliveIntervalMs ?? 10_000,
    'grpc.keepalive_timeout_ms': options.keepaliveTimeoutMs ?? 5_000,
    interceptors: [
      createServerInterceptor({
        policy,
        admission: createAdmission(options.limits),
        logger,
        ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
        openCalls,
        draining: () => draining,
      }),
    ],
  };
  const server = new Server(serverOptions);
  server.addService(RAFT_SERVICE_DEFINITION, { ...options.handlers });
  const healthNames = ['', RAFT_SERVICE_NAME];
  for (const hosted of options.services ?? []) {
    server.addService(hosted.definition, hosted.implementation);
    healthNames.push(hosted.name);
  }
  const health = new HealthImplementation(
    Object.fromEntries(healthNames.map((name) => [name, 'NOT_SERVING' as const])),
  );
  health.addToServer(server);
  addReflection(
    server,
    (options.services ?? []).flatMap((hosted) => hosted.files ?? []),
  );

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(options.listen, loadServerCredentials(options.tls), (error, bound) =>
      error === null
        ? resolve(bound)
        : reject(new TransportError('UNREACHABLE', error.message, { cause: error })),
    );
  });
  const host = options.listen.slice(0, options.listen.lastIndexOf(':'));
  const address = `${host}:${port}`;
  logger.info({ address, nodeId: options.nodeId, tls: options.tls !== undefined }, 'raft server listening');

  const graceMs = options.shutdownGraceMs ?? 2_000;
  let closing: Promise<void> | null = null;
  const setServing = (serving: boolean): void => {
    const value = serving ? 'SERVING' : 'NOT_SERVING';
    for (const name of healthNames) health.setStatus(name, value);
  };
  const shutdown = async (): Promise<void> => {
    setServing(false);
    draining = true;
    // A bidirectional stream never finishes on its own, and tryShutdown waits for every call.
    for (const call of [...openCalls]) {
      if (call.bidi) call.end(new TransportError('SHUTTING_DOWN', 'the node is shutting down'));
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        for (const call of [...openCalls])
          call.end(new TransportError('SHUTTING_DOWN', 'drain deadline passed'));
        server.forceShutdown();
        resolve();
      }, graceMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    logger.info({ address }, 'raft server stopped');
  };
  return {
    port,
    address,
    setServing,
    close: () => {
      closing ??= shutdown();
      return closing;
    },
  };
}
