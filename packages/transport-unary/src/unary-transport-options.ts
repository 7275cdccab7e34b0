import { type NodeId, RaftError } from '@tsraft/core';
import type {
  AdmissionLimits,
  GrpcLogger,
  GrpcMetrics,
  HostedService,
  PeerChannelOptions,
  TlsFiles,
} from '@tsraft/grpc';

/** Where each peer listens (`host:port`): a map, or a function asked on every connection attempt. */
export type PeerDirectory = ReadonlyMap<NodeId, string> | ((id: NodeId) => string | undefined);

/** Options of {@link createUnaryTransport}. Names carry their units. */
export interface UnaryTransportOptions {
  /** This node's id. */
  readonly id: NodeId;
  /** The cluster's id: sent with every message; messages naming another are refused. */
  readonly clusterId: string;
  /** `host:port` to serve on; port 0 picks a free port (read it from `address` after `start`). */
  readonly listen: string;
  /** Where peers listen. A changed address is picked up at the next call (a new channel is made). */
  readonly peers: PeerDirectory;
  /**
   * Who may send to this node. Default: the ids in `peers` when it is a map, else any id `peers`
   * resolves.
   */
  readonly members?: readonly NodeId[] | ((id: NodeId) => boolean);
  /** The node's election timeout (`electionTicks * tickIntervalMs`), from which deadlines derive. Default 1 000. */
  readonly electionTimeoutMs?: number;
  /** Deadline of one Send call: a message older than an election timeout is not worth delivering. Default `electionTimeoutMs`. */
  readonly callDeadlineMs?: number;
  /** Deadline of one snapshot transfer. Default max(30 000, 10 × `electionTimeoutMs`). */
  readonly snapshotDeadlineMs?: number;
  /** Bytes per snapshot piece on the InstallSnapshot stream. Default 1 MiB. */
  readonly snapshotChunkBytes?: number;
  /** Largest snapshot accepted from a peer, in bytes. Default 1 GiB. */
  readonly maxSnapshotBytes?: number;
  /** Upper bound of one Send batch, in (estimated) bytes. Default 4 MiB. */
  readonly maxBatchBytes?: number;
  /** Upper bound of one Send batch, in messages; 1 sends every message in its own call. Default 1 024. */
  readonly maxBatchMessages?: number;
  /**
   * Send calls in flight to one peer. Default 1, which keeps messages to a peer in order; more calls
   * pipeline better but may reorder messages (Raft tolerates it; the conformance order test does not).
   */
  readonly maxInflightCallsPerPeer?: number;
  /**
   * Messages waiting for a peer (behind the call in flight) are bounded by this many bytes; past it new
   * messages to that peer are dropped and reported unreachable, so a slow or dead peer cannot grow
   * memory. Default 32 MiB.
   */
  readonly maxPendingBytesPerPeer?: number;
  /** The same bound in messages. Default 4 096. */
  readonly maxPendingMessagesPerPeer?: number;
  /** Largest gRPC message sent or accepted, in bytes. Default 16 MiB. */
  readonly maxMessageBytes?: number;
  /**
   * Drops messages to a peer that Raft no longer needs: when a message of a higher term is queued for a
   * peer, the queued messages of a lower term are dropped and the calls in flight that carry only such
   * messages are cancelled (pre-vote messages excepted; see docs/transports.md). Turn it off only for
   * traffic whose terms do not follow Raft (a test sending arbitrary terms). Default true.
   */
  readonly dropObsoleteMessages?: boolean;
  /** Channel tunables (keep-alive, reconnect backoff, connection window). */
  readonly channel?: Omit<PeerChannelOptions, 'tls' | 'maxMessageBytes'>;
  /** TLS (mutual by default) from PEM files, for the server and every channel; absent means plaintext. */
  readonly tls?: TlsFiles;
  /** Server-side admission control per peer. */
  readonly limits?: AdmissionLimits;
  /** More gRPC services to serve on the transport's port (a node's client API, for instance). */
  readonly services?: readonly HostedService[];
  /** How long `close()` drains in-flight inbound calls before it cuts them. Default 1 000. */
  readonly shutdownGraceMs?: number;
  /** Structured logger (pino). Default: pino at level `warn`. */
  readonly logger?: GrpcLogger;
  readonly metrics?: GrpcMetrics;
}

/** {@link UnaryTransportOptions} with every default filled in. */
export interface ResolvedUnaryTransportOptions {
  readonly resolvePeer: (id: NodeId) => string | undefined;
  readonly isMember: (id: NodeId) => boolean;
  readonly callDeadlineMs: number;
  readonly snapshotDeadlineMs: number;
  readonly snapshotChunkBytes: number;
  readonly maxSnapshotBytes: number;
  readonly maxBatchBytes: number;
  readonly maxBatchMessages: number;
  readonly maxInflightCallsPerPeer: number;
  readonly maxPendingBytesPerPeer: number;
  readonly maxPendingMessagesPerPeer: number;
  readonly maxMessageBytes: number;
  readonly shutdownGraceMs: number;
  readonly dropObsoleteMessages: boolean;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RaftError('INVALID_CONFIG', `${name} must be a positive number, got ${value}`);
  }
  return value;
}

/**
 * Fills in the defaults of {@link UnaryTransportOptions}.
 * @throws RaftError `INVALID_CONFIG` when a number is not positive.
 */
export function resolveUnaryTransportOptions(options: UnaryTransportOptions): ResolvedUnaryTransportOptions {
  const { peers } = options;
  const resolvePeer = typeof peers === 'function' ? peers : (id: NodeId) => peers.get(id);
  const members = options.members;
  const isMember =
    members === undefined
      ? (id: NodeId) => resolvePeer(id) !== undefined
      : typeof members === 'function'
        ? members
        : (
            (set) => (id: NodeId) =>
              set.has(id)
          )(new Set(members));
  const electionTimeoutMs = positive('electionTimeoutMs', options.electionTimeoutMs ?? 1_000);
  return {
    resolvePeer,
    isMember,
    callDeadlineMs: positive('callDeadlineMs', options.callDeadlineMs ?? electionTimeoutMs),
    snapshotDeadlineMs: positive(
      'snapshotDeadlineMs',
      options.snapshotDeadlineMs ?? Math.max(30_000, 10 * electionTimeoutMs),
    ),
    snapshotChunkBytes: positive('snapshotChunkBytes', options.snapshotChunkBytes ?? 1024 * 1024),
    maxSnapshotBytes: positive('maxSnapshotBytes', options.maxSnapshotBytes ?? 1024 * 1024 * 1024),
    maxBatchBytes: positive('maxBatchBytes', options.maxBatchBytes ?? 4 * 1024 * 1024),
    maxBatchMessages: positive('maxBatchMessages', options.maxBatchMessages ?? 1_024),
    maxInflightCallsPerPeer: positive('maxInflightCallsPerPeer', options.maxInflightCallsPerPeer ?? 1),
    maxPendingBytesPerPeer: positive(
      'maxPendingBytesPerPeer',
      options.maxPendingBytesPerPeer ?? 32 * 1024 * 1024,
    ),
    maxPendingMessagesPerPeer: positive(
      'maxPendingMessagesPerPeer',
      options.maxPendingMessagesPerPeer ?? 4_096,
    ),
    maxMessageBytes: positive('maxMessageBytes', options.maxMessageBytes ?? 16 * 1024 * 1024),
    shutdownGraceMs: positive('shutdownGraceMs', options.shutdownGraceMs ?? 1_000),
    dropObsoleteMessages: options.dropObsoleteMessages ?? true,
  };
}
