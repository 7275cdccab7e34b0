import { type NodeId, RaftError } from '@tsraft/core';
import {
  type AdmissionLimits,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_SNAPSHOT_CHUNK_BYTES,
  type GrpcLogger,
  type GrpcMetrics,
  type HostedService,
  type TlsFiles,
} from '@tsraft/grpc';

/**
 * Where each peer listens (`host:port`): a map or record, or a function asked each time a stream to the
 * peer starts (so a peer that moved is found at its next reconnect).
 */
export type PeerDirectory =
  | ReadonlyMap<NodeId, string>
  | Readonly<Record<NodeId, string>>
  | ((id: NodeId) => string | undefined);

/** Options of {@link createStreamingTransport}. Every duration is in milliseconds, every size in bytes. */
export interface StreamingTransportOptions {
  /** This node's id: the `from` of every message it sends, the `to` of every message it accepts. */
  readonly id: NodeId;
  /** The cluster this node belongs to; inbound streams and messages of another cluster are refused. */
  readonly clusterId: string;
  /**
   * Where each peer listens. Peers listed in a map or record are dialled at `start()`; with a function,
   * a peer is dialled on the first message to it. Messages to an id without an address are dropped and
   * reported unreachable.
   */
  readonly peers: PeerDirectory;
  /**
   * `host:port` to serve `Raft.Stream` on (with `@tsraft/grpc`'s server: health, reflection, cluster and
   * membership checks, admission control); port 0 picks a free port (read `address` after `start()`).
   * Absent: the transport serves nothing itself; mount {@link StreamingTransport.handlers} on your server.
   */
  readonly listen?: string;
  /** Who may open a stream to this node. Default: the ids in `peers` when it is a map or record, else anyone `peers` resolves. */
  readonly members?: readonly NodeId[] | ((id: NodeId) => boolean);
  /** Per-peer admission control of the server made for `listen`. */
  readonly limits?: AdmissionLimits;
  /** More gRPC services to serve on the server made for `listen` (a node's client API, for instance). */
  readonly services?: readonly HostedService[];
  /** Structured logger of the server made for `listen` (pino). Default: pino at level `warn`. */
  readonly logger?: GrpcLogger;
  /** Call metrics of the server made for `listen`. */
  readonly metrics?: GrpcMetrics;
  /** TLS (mutual by default) from PEM files, for the server and every channel (see `@tsraft/grpc`). Default: plaintext. */
  readonly tls?: TlsFiles;
  /** Interval of the HTTP/2 PINGs a channel sends its peer, idle or not (`grpc.keepalive_time_ms`). Default 10 000. */
  readonly keepaliveIntervalMs?: number;
  /** How long a PING may go unanswered before the connection is declared dead (`grpc.keepalive_timeout_ms`). Default 5 000. */
  readonly keepaliveTimeoutMs?: number;
  /**
   * How long sent batches may stay unacknowledged before the stream is declared stuck and reopened, which
   * catches a peer that is connected and answers PINGs but no longer reads. 0 disables. Default 10 000.
   */
  readonly ackTimeoutMs?: number;
  /** First reconnect delay after a stream fails; doubles on every failure in a row, with jitter. Default 100. */
  readonly reconnectBaseMs?: number;
  /** Upper bound of the reconnect delay. Default 5 000. */
  readonly reconnectMaxMs?: number;
  /** Messages queued per peer (not yet written to the stream) before new ones are dropped. Default 4 096. */
  readonly maxQueuedMessages?: number;
  /**
   * Bytes of messages queued per peer before new ones are dropped. One snapshot is always admitted when
   * no other is queued, whatever its size. Default 8 MiB.
   */
  readonly maxQueuedBytes?: number;
  /**
   * Drops queued messages to a peer that Raft no longer needs: when a message of a higher term is queued
   * for a peer, the queued (not yet written) messages of a lower term are dropped, and a lower-term snapshot
   * being written in pieces is abandoned (pre-vote messages excepted; see docs/transports.md). Turn it off
   * only for traffic whose terms do not follow Raft (a test sending arbitrary terms). Default true.
   */
  readonly dropObsoleteMessages?: boolean;
  /**
   * Bytes written to a stream and not yet acknowledged by the peer; past it, writing pauses until
   * acknowledgements arrive, so grpc-js and HTTP/2 buffers never hold more than this for a peer. Default 4 MiB.
   */
  readonly maxUnackedBytes?: number;
  /** Approximate upper bound of one frame (one `StreamRequest`). Default 1 MiB. */
  readonly maxBatchBytes?: number;
  /** Upper bound of the messages in one frame. Default 1 024. */
  readonly maxBatchMessages?: number;
  /** Size of the pieces a snapshot is cut into on the stream. Default 1 MiB. */
  readonly snapshotChunkBytes?: number;
  /** The largest snapshot accepted from a peer (reassembled from its pieces). Default 1 GiB. */
  readonly maxSnapshotBytes?: number;
  /** How long `close()` waits for queued messages to be written and acknowledged before it cancels the streams. Default 1 000. */
  readonly closeTimeoutMs?: number;
  /** Source of randomness in [0, 1) for the reconnect jitter. Default `Math.random`. */
  readonly random?: () => number;
}

/** {@link StreamingTransportOptions} with every default filled in. */
export interface ResolvedStreamingTransportOptions {
  readonly id: NodeId;
  readonly clusterId: string;
  /** The address of a peer now, or `undefined`. */
  readonly resolvePeer: (id: NodeId) => string | undefined;
  /** The peers dialled at `start()`. */
  readonly knownPeers: readonly NodeId[];
  readonly isMember: (id: NodeId) => boolean;
  readonly listen: string | undefined;
  readonly tls: TlsFiles | undefined;
  readonly keepaliveIntervalMs: number;
  readonly keepaliveTimeoutMs: number;
  readonly ackTimeoutMs: number;
  readonly reconnectBaseMs: number;
  readonly reconnectMaxMs: number;
  readonly maxQueuedMessages: number;
  readonly maxQueuedBytes: number;
  readonly maxUnackedBytes: number;
  readonly maxBatchBytes: number;
  readonly maxBatchMessages: number;
  readonly snapshotChunkBytes: number;
  readonly maxSnapshotBytes: number;
  readonly closeTimeoutMs: number;
  readonly random: () => number;
  readonly dropObsoleteMessages: boolean;
}

/** The largest frame a peer accepts: the message size limit of `@tsraft/grpc`'s channels and servers. */
export const MAX_FRAME_BYTES = DEFAULT_MAX_MESSAGE_BYTES;

/**
 * Fills in the defaults of {@link StreamingTransportOptions} and checks them.
 * @throws RaftError `INVALID_CONFIG` when a value is out of range.
 */
export function resolveStreamingTransportOptions(
  options: StreamingTransportOptions,
): ResolvedStreamingTransportOptions {
  if (options.id === '') throw new RaftError('INVALID_CONFIG', 'id must not be empty');
  if (options.clusterId === '') throw new RaftError('INVALID_CONFIG', 'clusterId must not be empty');
  const { peers } = options;
  let resolvePeer: (id: NodeId) => string | undefined;
  let knownPeers: NodeId[] = [];
  if (typeof peers === 'function') {
    resolvePeer = (id) => (id === options.id ? undefined : peers(id) || undefined);
  } else {
    const map = new Map(peers instanceof Map ? peers : Object.entries(peers));
    for (const [peer, address] of map) {
      if (address === '') throw new RaftError('INVALID_CONFIG', `peer ${peer} has an empty address`);
    }
    map.delete(options.id);
    knownPeers = [...map.keys()];
    resolvePeer = (id) => map.get(id);
  }
  const members = options.members;
  const isMember =
    members === undefined
      ? (id: NodeId) => id === options.id || resolvePeer(id) !== undefined
      : typeof members === 'function'
        ? members
        : (
            (set: ReadonlySet<NodeId>) => (id: NodeId) =>
              set.has(id)
          )(new Set(members));
  const resolved: ResolvedStreamingTransportOptions = {
    id: options.id,
    clusterId: options.clusterId,
    resolvePeer,
    knownPeers,
    isMember,
    listen: options.listen,
    tls: options.tls,
    keepaliveIntervalMs: integer(options, 'keepaliveIntervalMs', 10_000, 1),
    keepaliveTimeoutMs: integer(options, 'keepaliveTimeoutMs', 5_000, 1),
    ackTimeoutMs: integer(options, 'ackTimeoutMs', 10_000, 0),
    reconnectBaseMs: integer(options, 'reconnectBaseMs', 100, 1),
    reconnectMaxMs: integer(options, 'reconnectMaxMs', 5_000, 1),
    maxQueuedMessages: integer(options, 'maxQueuedMessages', 4_096, 1),
    maxQueuedBytes: integer(options, 'maxQueuedBytes', 8 * 1024 * 1024, 1),
    maxUnackedBytes: integer(options, 'maxUnackedBytes', 4 * 1024 * 1024, 1),
    maxBatchBytes: integer(options, 'maxBatchBytes', 1024 * 1024, 1),
    maxBatchMessages: integer(options, 'maxBatchMessages', 1_024, 1),
    snapshotChunkBytes: integer(options, 'snapshotChunkBytes', DEFAULT_SNAPSHOT_CHUNK_BYTES, 1),
    maxSnapshotBytes: integer(options, 'maxSnapshotBytes', 1024 * 1024 * 1024, 1),
    closeTimeoutMs: integer(options, 'closeTimeoutMs', 1_000, 0),
    random: options.random ?? Math.random,
    dropObsoleteMessages: options.dropObsoleteMessages ?? true,
  };
  if (resolved.reconnectMaxMs < resolved.reconnectBaseMs) {
    throw new RaftError('INVALID_CONFIG', 'reconnectMaxMs must be >= reconnectBaseMs');
  }
  if (resolved.maxBatchBytes > MAX_FRAME_BYTES / 2 || resolved.snapshotChunkBytes > MAX_FRAME_BYTES / 2) {
    throw new RaftError(
      'INVALID_CONFIG',
      `maxBatchBytes and snapshotChunkBytes must be <= ${MAX_FRAME_BYTES / 2}`,
    );
  }
  return resolved;
}

type IntegerOption = {
  [K in keyof StreamingTransportOptions]-?: StreamingTransportOptions[K] extends number | undefined
    ? K
    : never;
}[keyof StreamingTransportOptions];

function integer(
  options: StreamingTransportOptions,
  key: IntegerOption,
  fallback: number,
  min: number,
): number {
  const value = options[key] ?? fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RaftError('INVALID_CONFIG', `${key} must be an integer >= ${min}, got ${value}`);
  }
  return value;
}
