import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { createNode, type NodeLogger, type RaftNode, type Transport } from '@tsraft/core';
import type { HostedService, TlsFiles } from '@tsraft/grpc';
import { KV_SERVICE_DEFINITION, KV_SERVICE_NAME } from '@tsraft/kv-client';
import { LogStorageError, openLogStorage } from '@tsraft/log-storage';
import { file_tsraft_kv_v1_kv } from '@tsraft/proto';
import { createKvStateMachine, type KvResult, type KvStateMachine } from '@tsraft/statemachine-kv';
import { createStreamingTransport } from '@tsraft/transport-streaming';
import { createUnaryTransport } from '@tsraft/transport-unary';
import { type Logger, pino } from 'pino';
import { ConfigError } from './config/config-error.js';
import type { ServeConfig } from './config/serve-config.js';
import { instrumentStorage, instrumentTransport } from './instrumented.js';
import { createKvService, type KvService } from './kv-service.js';
import { createServerMetrics, type ServerMetrics } from './metrics.js';

/** How long a graceful shutdown lets client requests in progress finish. */
const DRAIN_MS = 5_000;

/** A running member of a KV cluster. Made by {@link startKvServer}. */
export interface KvServer {
  /** `host:port` peers and clients reach this member on. */
  readonly address: string;
  /** `host:port` of the `/metrics` endpoint, when enabled. */
  readonly metricsAddress: string | undefined;
  /** The Raft node (for embedding and tests). */
  readonly node: RaftNode<KvResult>;
  /** The replicated state machine (for embedding and tests). */
  readonly stateMachine: KvStateMachine;
  /** Resolves when the node stops on its own (a crash-stop, e.g. a failed fsync), with the reason. */
  readonly stopped: Promise<Error>;
  /**
   * Graceful shutdown: health NOT_SERVING, refuse new client requests, let those in progress finish (up to
   * 5 s), then close the node (transport, then storage; everything acknowledged is already synced).
   * Idempotent.
   */
  close(): Promise<void>;
}

/** Options of {@link startKvServer} beyond the configuration. */
export interface KvServerOptions {
  /** Structured logger. Default: pino at the configuration's level, to stdout. */
  readonly logger?: Logger;
}

/**
 * Starts one member of a replicated KV cluster from the published packages: disk storage
 * (`@tsraft/log-storage`), the configured gRPC transport, the KV state machine, the driver from
 * `@tsraft/core`, and the `tsraft.kv.v1.KV` service on the same port as Raft.
 *
 * @throws ConfigError when the port is in use or the data directory belongs to another node or process.
 */
export async function startKvServer(config: ServeConfig, options: KvServerOptions = {}): Promise<KvServer> {
  const logger = options.logger ?? pino({ name: 'tsraft', level: config.logLevel });
  const log = logger.child({ node: config.id });
  await ensurePortFree(config.listen, '--listen');
  if (config.metricsListen !== undefined) await ensurePortFree(config.metricsListen, '--metrics-listen');

  const metrics = createServerMetrics(config.id);
  // The driver names the node in its own fields.
  const nodeLogger = toNodeLogger(logger);
  const storage = await openStorage(config, nodeLogger);
  const stateMachine = createKvStateMachine();
  const resolvePeer = (id: string): string | undefined => config.peers.get(id);
  const tls: TlsFiles | undefined =
    config.tls === undefined
      ? undefined
      : { certFile: config.tls.certFile, keyFile: config.tls.keyFile, caFile: config.tls.caFile };

  // The KV handlers need the node, and the node needs the transport that serves them: the hosted
  // service's handler table is filled once the node exists, before the transport starts serving.
  const kvImplementation: UntypedServiceImplementation = {};
  const hosted: HostedService = {
    name: KV_SERVICE_NAME,
    definition: KV_SERVICE_DEFINITION,
    implementation: kvImplementation,
    files: [file_tsraft_kv_v1_kv],
  };
  const electionTimeoutMs = config.electionTicks * config.tickIntervalMs;
  const grpcLogger = log.child({ component: 'grpc' });
  const common = {
    id: config.id,
    clusterId: config.clusterId,
    listen: config.listen,
    // Membership is open to any id the cluster names in its configuration; unknown callers are refused.
    peers: resolvePeer,
    members: (id: string) => config.peers.has(id),
    services: [hosted],
    logger: grpcLogger,
    ...(tls === undefined ? {} : { tls }),
  };
  const batch = config.batching ? {} : { maxBatchMessages: 1 };
  const transport =
    config.transport === 'unary'
      ? createUnaryTransport({ ...common, ...batch, electionTimeoutMs })
      : createStreamingTransport({ ...common, ...batch });

  const node = createNode<KvResult>({
    id: config.id,
    storage: instrumentStorage(storage, metrics),
    transport: instrumentTransport(transport as Transport, metrics),
    stateMachine,
    tickIntervalMs: config.tickIntervalMs,
    electionTicks: config.electionTicks,
    heartbeatTicks: config.heartbeatTicks,
    snapshotIntervalEntries: config.snapshotIntervalEntries,
    snapshotIntervalBytes: config.snapshotIntervalBytes,
    preVote: true,
    checkQuorum: true,
    proposalBatching: config.batching,
    logger: nodeLogger,
  });
  const service: KvService = createKvService({
    node,
    stateMachine,
    nodeId: config.id,
    resolvePeer,
    requestTimeoutMs: config.requestTimeoutMs,
    maxInflightRequests: config.maxInflightRequests,
    logger: log.child({ component: 'kv' }),
    metrics,
    ...(config.tls === undefined
      ? {}
      : { tls: { caFile: config.tls.caFile, certFile: config.tls.certFile, keyFile: config.tls.keyFile } }),
  });
  Object.assign(kvImplementation, service.implementation);
  metrics.bind({ status: () => node.status(), appliedIndex: () => stateMachine.appliedIndex });
  node.onLeaderChange((leader, term) => {
    metrics.leaderChanged();
    log.info({ leader, term }, leader === null ? 'no leader known' : 'leader changed');
  });

  try {
    await node.start();
  } catch (error) {
    await node.close().catch(() => {});
    if (isAddressInUse(error)) throw new ConfigError(`--listen ${config.listen}: the port is in use`);
    throw error;
  }
  transport.setHealthy(true);
  const metricsServer =
    config.metricsListen === undefined ? undefined : await serveMetrics(config.metricsListen, metrics);
  const address =
    'address' in transport && typeof transport.address === 'string' ? transport.address : config.listen;
  log.info(
    {
      address,
      transport: config.transport,
      peers: Object.fromEntries(config.peers),
      dataDir: config.dataDir,
    },
    'tsraft server started',
  );

  let closing: Promise<void> | null = null;
  // Resolves only on a crash-stop; a close() is awaited by its caller.
  const stopped = new Promise<Error>((resolve) => {
    void node.whenStopped().then((error) => {
      transport.setHealthy(false);
      if (error === null) return;
      log.fatal({ err: error }, 'the node crash-stopped');
      resolve(error);
    });
  });

  return {
    address,
    metricsAddress: metricsServer === undefined ? undefined : config.metricsListen,
    node,
    stateMachine,
    stopped,
    close: () => {
      closing ??= (async () => {
        log.info({ inflight: service.inflight }, 'shutting down: draining client requests');
        transport.setHealthy(false);
        const drained = await service.drain(DRAIN_MS);
        if (!drained)
          log.warn({ inflight: service.inflight }, 'client requests still in progress at shutdown');
        await node.close();
        service.close();
        await new Promise<void>((resolve) =>
          metricsServer === undefined ? resolve() : metricsServer.close(() => resolve()),
        );
        log.info('tsraft server stopped');
      })();
      return closing;
    },
  };
}

async function openStorage(config: ServeConfig, logger: NodeLogger) {
  try {
    return await openLogStorage({
      dir: config.dataDir,
      nodeId: config.id,
      clusterId: config.clusterId,
      // Used only when the directory is new: it bootstraps the cluster once; afterwards the stored
      // configuration rules.
      conf: { voters: [...config.peers.keys()], learners: [] },
      logger,
    });
  } catch (error) {
    if (error instanceof LogStorageError && (error.code === 'LOCKED' || error.code === 'WRONG_NODE')) {
      throw new ConfigError(`--data-dir ${config.dataDir}: ${error.message}`);
    }
    throw error;
  }
}

function toNodeLogger(logger: Logger): NodeLogger {
  return {
    debug: (message, fields) => logger.debug(fields ?? {}, message),
    info: (message, fields) => logger.info(fields ?? {}, message),
    warn: (message, fields) => logger.warn(fields ?? {}, message),
    error: (message, fields) => logger.error(fields ?? {}, message),
  };
}

/** Splits `host:port` (IPv6 hosts in brackets). */
function splitHostPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(address.slice(at + 1)) };
}

/** Fails with a ConfigError naming `flag` when something already listens on `address`. */
async function ensurePortFree(address: string, flag: string): Promise<void> {
  const { host, port } = splitHostPort(address);
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new ConfigError(`${flag} ${address}: the port is in use`)
          : new ConfigError(`${flag} ${address}: cannot listen there (${error.code ?? error.message})`),
      );
    });
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

function isAddressInUse(error: unknown): boolean {
  const text = error instanceof Error ? `${error.message} ${String(error.cause ?? '')}` : String(error);
  return text.includes('EADDRINUSE') || text.includes('address already in use');
}

/** Serves `GET /metrics` (Prometheus text format) on `address`. */
async function serveMetrics(address: string, metrics: ServerMetrics): Promise<HttpServer> {
  const { host, port } = splitHostPort(address);
  const server = createHttpServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404).end('not found; try /metrics\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (error: unknown) => response.writeHead(500).end(String(error)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => resolve());
  });
  return server;
}
