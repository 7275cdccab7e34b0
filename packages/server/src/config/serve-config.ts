import type { NodeId } from '@tsraft/core';

/** Peer transports a server can run on. */
export type TransportKind = 'unary' | 'streaming';

/** pino log levels, plus `silent`. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** PEM files for TLS (mutual: `ca` verifies the other side's certificate). */
export interface ServeTlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

/**
 * Everything `tsraft serve` needs, validated, with defaults filled in. Built from flags, a config file
 * (YAML or JSON) and `TSRAFT_*` environment variables by `resolveServeConfig`.
 */
export interface ServeConfig {
  /** This node's id. */
  readonly id: NodeId;
  /** `host:port` this node serves peers (Raft) and clients (KV) on. */
  readonly listen: string;
  /**
   * The address this node dials for each member, by id, including itself. Bootstraps the membership of a
   * new cluster (members and their addresses); afterwards the persisted configuration rules, and these
   * addresses are used only for members the configuration gives no address for. Addresses may be DNS
   * names. Empty when the node joins a running cluster (`join`).
   */
  readonly peers: ReadonlyMap<NodeId, string>;
  /**
   * Members of a running cluster (`host:port`) this node asks to add it as a learner, the first time its
   * data directory is used; `undefined` when it bootstraps a cluster with `peers`.
   */
  readonly join: readonly string[] | undefined;
  /**
   * Where the other members reach this node, given to the cluster when joining. `undefined`: `listen` (or,
   * for port 0, the port picked).
   */
  readonly advertise: string | undefined;
  /** A joining node stays a learner instead of asking to be promoted. Default false. */
  readonly learner: boolean;
  /**
   * A joining learner asks to be promoted to voter once its applied index is within this many entries of
   * the leader's commit index. Default 1 000.
   */
  readonly promoteWithin: number;
  /** Directory of the node's log, hard state and snapshots (created if missing). */
  readonly dataDir: string;
  /** Peer transport. Default `streaming`. */
  readonly transport: TransportKind;
  /**
   * Leader batching: proposals that arrive together share one log write and one message per follower, and
   * the transport batches messages per call. `false` (one proposal per write, one message per call) exists to
   * measure what batching buys. Default true.
   */
  readonly batching: boolean;
  /** The cluster's id; peers of another cluster are refused. Default `tsraft`. */
  readonly clusterId: string;
  /** `host:port` of the Prometheus `/metrics` HTTP endpoint; absent disables it. */
  readonly metricsListen: string | undefined;
  /** Log level. Default `info`. */
  readonly logLevel: LogLevel;
  /** Milliseconds per Raft tick. Default 100. */
  readonly tickIntervalMs: number;
  /** Election timeout in ticks. Default 10. */
  readonly electionTicks: number;
  /** Heartbeat interval in ticks. Default 1. */
  readonly heartbeatTicks: number;
  /** Applied entries between state machine snapshots (the log behind them is released). Default 10 000. */
  readonly snapshotIntervalEntries: number;
  /** Applied command bytes between snapshots, whichever of the two intervals comes first. Default 64 MiB. */
  readonly snapshotIntervalBytes: number;
  /** Client requests in flight on this node; excess is answered RESOURCE_EXHAUSTED at once. Default 1 024. */
  readonly maxInflightRequests: number;
  /**
   * Client requests in flight on one `KV.Session` stream (within `maxInflightRequests`); excess is answered
   * RESOURCE_EXHAUSTED at once. Default 512.
   */
  readonly maxStreamInflightRequests: number;
  /** Deadline of a client request that names none, in ms. Default 5 000. */
  readonly requestTimeoutMs: number;
  /** TLS for peers and clients; absent means plaintext. */
  readonly tls: ServeTlsConfig | undefined;
}
