import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import {
  type ConfState,
  configId,
  createNode,
  isMember,
  isVoterIn,
  type NodeId,
  type NodeLogger,
  type RaftNode,
  type Transport,
} from '@tsraft/core';
import type { HostedService, TlsFiles } from '@tsraft/grpc';
import {
  CLUSTER_SERVICE_DEFINITION,
  CLUSTER_SERVICE_NAME,
  type ClusterMembership,
  createClusterClient,
  KV_SERVICE_DEFINITION,
  KV_SERVICE_NAME,
  KvError,
} from '@tsraft/kv-client';
import { LogStorageError, openLogStorage } from '@tsraft/log-storage';
import { file_tsraft_cluster_v1_cluster, file_tsraft_kv_v1_kv } from '@tsraft/proto';
import { createKvStateMachine, type KvResult, type KvStateMachine } from '@tsraft/statemachine-kv';
import { createStreamingTransport } from '@tsraft/transport-streaming';
import { createUnaryTransport } from '@tsraft/transport-unary';
import { type Logger, pino } from 'pino';
import { type ClusterService, createClusterService } from './cluster-service.js';
import { ConfigError } from './config/config-error.js';
import type { ServeConfig } from './config/serve-config.js';
import { instrumentStorage, instrumentTransport } from './instrumented.js';
import { createKvService, type KvService } from './kv-service.js';
import { createServerMetrics, type ServerMetrics } from './metrics.js';

/** How long a graceful shutdown lets client requests in progress finish. */
const DRAIN_MS = 5_000;
/** How often a joining learner checks whether it is close enough to the leader to ask for promotion. */
const PROMOTE_POLL_MS = 500;
/** Longest pause between two attempts to join. */
const JOIN_RETRY_MAX_MS = 5_000;

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
  /**
   * Resolves when the node stops on its own, with the reason: a crash-stop (e.g. a failed fsync); a
   * `RaftError` of code `REMOVED` once the node was removed from the cluster; a `ConfigError` when the
   * cluster refused to let it join (`--join`). The caller then closes the server.
   */
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
  // A data directory never written to: the node is new (with --join, it asks to be added).
  const fresh = storage.initialState().hardState.term === 0 && storage.lastIndex() === 0;
  const stateMachine = createKvStateMachine();

  // The configuration this node applied (updated on each change), and where its members listen: the
  // addresses recorded in the configuration, then --peers for members it names none for (clusters
  // bootstrapped before addresses were recorded).
  let node: RaftNode<KvResult> | undefined;
  let conf: ConfState | undefined;
  const liveConf = (): ConfState | undefined => {
    try {
      return node?.status().conf;
    } catch {
      return undefined;
    }
  };
  // Addresses a joining node learned from the member it joined through, until its own log has them.
  const learned = new Map<NodeId, string>();
  const resolvePeer = (id: NodeId): string | undefined =>
    conf?.addresses?.[id] ?? liveConf()?.addresses?.[id] ?? config.peers.get(id) ?? learned.get(id);
  // Who may send to this node: the members of its configuration and of --peers; anyone of the cluster
  // while this node is not a member itself (joining: the leader is not known in advance).
  const isPeerMember = (id: NodeId): boolean => {
    if (config.peers.has(id)) return true;
    const known = conf ?? liveConf();
    if (known === undefined) return config.join !== undefined;
    if (isMember(known, id) || !isMember(known, config.id)) return true;
    const live = liveConf();
    return live !== undefined && isMember(live, id);
  };
  const tls: TlsFiles | undefined =
    config.tls === undefined
      ? undefined
      : { certFile: config.tls.certFile, keyFile: config.tls.keyFile, caFile: config.tls.caFile };

  // The KV handlers need the node, and the node needs the transport that serves them: the hosted
  // service's handler table is filled once the node exists, before the transport starts serving.
  const kvImplementation: UntypedServiceImplementation = {};
  const clusterImplementation: UntypedServiceImplementation = {};
  const hosted: HostedService[] = [
    {
      name: KV_SERVICE_NAME,
      definition: KV_SERVICE_DEFINITION,
      implementation: kvImplementation,
      files: [file_tsraft_kv_v1_kv],
    },
    {
      name: CLUSTER_SERVICE_NAME,
      definition: CLUSTER_SERVICE_DEFINITION,
      implementation: clusterImplementation,
      files: [file_tsraft_cluster_v1_cluster],
    },
  ];
  const electionTimeoutMs = config.electionTicks * config.tickIntervalMs;
  const grpcLogger = log.child({ component: 'grpc' });
  const common = {
    id: config.id,
    clusterId: config.clusterId,
    listen: config.listen,
    // Peers are dialled on their first message, at the address known then: members added later included.
    peers: resolvePeer,
    members: isPeerMember,
    services: hosted,
    logger: grpcLogger,
    ...(tls === undefined ? {} : { tls }),
  };
  const batch = config.batching ? {} : { maxBatchMessages: 1 };
  const transport =
    config.transport === 'unary'
      ? createUnaryTransport({ ...common, ...batch, electionTimeoutMs })
      : createStreamingTransport({ ...common, ...batch });

  node = createNode<KvResult>({
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
    maxStreamInflightRequests: config.maxStreamInflightRequests,
    logger: log.child({ component: 'kv' }),
    metrics,
    ...(config.tls === undefined
      ? {}
      : { tls: { caFile: config.tls.caFile, certFile: config.tls.certFile, keyFile: config.tls.keyFile } }),
  });
  const cluster: ClusterService = createClusterService({
    node,
    nodeId: config.id,
    clusterId: config.clusterId,
    resolvePeer,
    requestTimeoutMs: Math.max(config.requestTimeoutMs, 10_000),
    electionTimeoutMs,
    maxInflightRequests: config.maxInflightRequests,
    logger: log.child({ component: 'cluster' }),
    metrics,
    ...(tls === undefined
      ? {}
      : { tls: { caFile: tls.caFile, certFile: tls.certFile, keyFile: tls.keyFile } }),
  });
  Object.assign(kvImplementation, service.implementation);
  Object.assign(clusterImplementation, cluster.implementation);
  const raftNode = node;
  metrics.bind({ status: () => raftNode.status(), appliedIndex: () => stateMachine.appliedIndex });
  node.onLeaderChange((leader, term) => {
    metrics.leaderChanged();
    log.info({ leader, term }, leader === null ? 'no leader known' : 'leader changed');
  });
  node.onMembershipChange((applied, index) => {
    conf = applied;
    metrics.membershipChanged();
    log.info(
      {
        index,
        voters: applied.voters,
        learners: applied.learners,
        votersOutgoing: applied.votersOutgoing ?? [],
        configId: configId(applied),
      },
      'configuration applied',
    );
  });

  try {
    await node.start();
  } catch (error) {
    await node.close().catch(() => {});
    if (isAddressInUse(error)) throw new ConfigError(`--listen ${config.listen}: the port is in use`);
    throw error;
  }
  conf ??= node.status().conf;
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
      ...(config.join === undefined ? {} : { join: config.join }),
      dataDir: config.dataDir,
      voters: conf.voters,
      learners: conf.learners,
    },
    'tsraft server started',
  );

  let closing: Promise<void> | null = null;
  const background = new AbortController();
  // Resolves only when the node stops on its own (crash, removal, refused join); a close() is awaited by
  // its caller.
  let stop: (reason: Error) => void = () => {};
  const stopped = new Promise<Error>((resolve) => {
    stop = (reason) => {
      background.abort();
      resolve(reason);
    };
  });
  void node.whenStopped().then((error) => {
    transport.setHealthy(false);
    background.abort();
    if (error === null) return;
    if (error.code === 'REMOVED') log.info('removed from the cluster: stopping');
    else log.fatal({ err: error }, 'the node crash-stopped');
    stop(error);
  });

  const advertise = config.advertise ?? address;
  if (config.join !== undefined) {
    const learn = (membership: ClusterMembership): void => {
      for (const member of membership.members) {
        if (member.address !== undefined && member.id !== config.id) learned.set(member.id, member.address);
      }
    };
    if (fresh || !isMember(conf, config.id)) {
      // A new node asks to be added. One that restarts before its log told it where the members are
      // (it cannot answer the leader without) asks for the membership again.
      void joinCluster(config, advertise, fresh, learn, log, background.signal).then((refusal) => {
        if (refusal !== undefined) stop(refusal);
      });
    }
    if (!config.learner) {
      void promoteWhenCaughtUp(
        raftNode,
        config,
        () => stateMachine.appliedIndex,
        cluster,
        log,
        background.signal,
      );
    }
  } else if (!fresh) {
    // A removed node does not stop at once: a voter may still need its vote. The driver stops it (REMOVED,
    // exit 3) once a leader releases it, which the leader does after it asks for votes.
    void checkStillMember(raftNode, config.id, () => stateMachine.appliedIndex, background.signal).then(
      (removed) => {
        if (!removed) return;
        log.warn(
          { voters: raftNode.status().conf.voters, learners: raftNode.status().conf.learners },
          'this node is not a member of the configuration stored in its data directory: it was removed from the cluster, and stops once a leader releases it',
        );
      },
    );
  }

  return {
    address,
    metricsAddress: metricsServer === undefined ? undefined : config.metricsListen,
    node,
    stateMachine,
    stopped,
    close: () => {
      closing ??= (async () => {
        log.info(
          { inflight: service.inflight + cluster.inflight },
          'shutting down: draining client requests',
        );
        background.abort();
        transport.setHealthy(false);
        const [drained, drainedCluster] = await Promise.all([
          service.drain(DRAIN_MS),
          cluster.drain(DRAIN_MS),
        ]);
        if (!drained || !drainedCluster) {
          log.warn(
            { inflight: service.inflight + cluster.inflight },
            'client requests still in progress at shutdown',
          );
        }
        await raftNode.close();
        service.close();
        cluster.close();
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
      // Used only when the directory is new: it bootstraps the cluster once (members and addresses);
      // afterwards the stored configuration rules. A joining node starts as no member at all: it learns the
      // configuration from the leader.
      conf:
        config.join === undefined
          ? { voters: [...config.peers.keys()], learners: [], addresses: Object.fromEntries(config.peers) }
          : { voters: [], learners: [] },
      logger,
    });
  } catch (error) {
    if (error instanceof LogStorageError && (error.code === 'LOCKED' || error.code === 'WRONG_NODE')) {
      throw new ConfigError(`--data-dir ${config.dataDir}: ${error.message}`);
    }
    throw error;
  }
}

/**
 * Asks the members in `config.join` to add this node as a learner (`add`; else only for the membership),
 * until one answers (or this node stops), and hands the membership answered to `learn`. Resolves with a
 * ConfigError when the cluster refuses for good (another cluster id, an id that is already a voter), else
 * with undefined.
 */
async function joinCluster(
  config: ServeConfig,
  advertise: string,
  add: boolean,
  learn: (membership: ClusterMembership) => void,
  log: Logger,
  signal: AbortSignal,
): Promise<ConfigError | undefined> {
  // Short attempts: a join is idempotent (a node already a learner at this address is answered as added),
  // so an attempt cut short is simply made again, and a failure is reported soon.
  const client = createClusterClient({
    endpoints: config.join ?? [],
    timeoutMs: 3_000,
    ...(config.tls === undefined
      ? {}
      : { tls: { caFile: config.tls.caFile, certFile: config.tls.certFile, keyFile: config.tls.keyFile } }),
  });
  log.info(
    { join: config.join, advertise },
    add ? 'asking the cluster to add this node as a learner' : 'asking the cluster where its members are',
  );
  try {
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        const membership = add
          ? await client.join(config.id, advertise, config.clusterId, { signal })
          : await client.list({ signal });
        learn(membership);
        log.info(
          { leader: membership.leaderId, configId: membership.configId },
          add ? 'joined the cluster as a learner: catching up' : 'learned the membership: catching up',
        );
        return undefined;
      } catch (error) {
        if (signal.aborted) return undefined;
        const kvError = KvError.from(error);
        if (kvError.code === 'INVALID_ARGUMENT' || kvError.code === 'CONFIG_MISMATCH') {
          log.error(
            { code: kvError.code, reason: kvError.reason },
            'the cluster refused to let this node join',
          );
          return new ConfigError(`--join: the cluster refused: ${kvError.reason}`);
        }
        log.warn({ err: kvError, attempt }, 'joining the cluster failed; retrying');
      }
      await sleep(Math.min(JOIN_RETRY_MAX_MS, 250 * 2 ** attempt), signal);
    }
    return undefined;
  } finally {
    client.close();
  }
}

/**
 * While this node is a learner, asks the leader every {@link PROMOTE_POLL_MS} how far its log is, and once
 * its applied index is within `config.promoteWithin` entries of the leader's commit index, asks to be
 * promoted (the leader checks the distance again against what it knows this node holds). Every attempt
 * goes to the leader known at the time, so it carries on across leader changes and restarts.
 */
async function promoteWhenCaughtUp(
  node: RaftNode<KvResult>,
  config: ServeConfig,
  applied: () => number,
  cluster: ClusterService,
  log: Logger,
  signal: AbortSignal,
): Promise<void> {
  let reported = false;
  while (!signal.aborted) {
    await sleep(PROMOTE_POLL_MS, signal);
    if (signal.aborted) return;
    const status = node.status();
    if (status.stopped) return;
    if (isVoterIn(status.conf, config.id)) {
      if (reported) log.info('this node is a voter now');
      return;
    }
    if (!status.conf.learners.includes(config.id)) continue; // not added yet, or the log not received yet
    try {
      const membership = await cluster.list(Date.now() + 5_000);
      const lag = Number(membership.commitIndex) - applied();
      if (lag > config.promoteWithin) {
        if (!reported) log.info({ lag, promoteWithin: config.promoteWithin }, 'catching up before promotion');
        reported = true;
        continue;
      }
      log.info({ lag }, 'caught up: asking the leader to promote this node to voter');
      reported = true;
      await cluster.promote(config.id, config.promoteWithin, Date.now() + 10_000);
      log.info('promoted to voter');
      return;
    } catch (error) {
      if (signal.aborted) return;
      const kvError = KvError.from(error);
      if (kvError.code === 'INVALID_ARGUMENT' && isVoterIn(node.status().conf, config.id)) return;
      log.info({ err: kvError }, 'not promoted yet; trying again');
    }
  }
}

/**
 * Whether a restarted node (bootstrapped with --peers) finds itself outside the configuration once it has
 * applied the entries it had committed: it was removed (it is told so in the log).
 */
async function checkStillMember(
  node: RaftNode<KvResult>,
  id: NodeId,
  applied: () => number,
  signal: AbortSignal,
): Promise<boolean> {
  const committed = node.basicStatus().commit;
  const deadline = Date.now() + 10_000;
  while (applied() < committed && Date.now() < deadline && !signal.aborted) await sleep(50, signal);
  return !signal.aborted && !node.status().stopped && !isMember(node.status().conf, id);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
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
