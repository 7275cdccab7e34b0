/** How the value of a `tsraft serve` option is checked. */
export type ServeOptionKind =
  | 'id'
  | 'bind-address'
  | 'address'
  | 'peers'
  | 'endpoints'
  | 'path'
  | 'integer'
  | 'text'
  | 'choice'
  | 'boolean';

/** One option of `tsraft serve`: its flag, environment variable and config file key. */
export interface ServeOption {
  /** Flag name without the dashes, e.g. `data-dir`. */
  readonly flag: string;
  /** camelCase key in a config file, e.g. `dataDir`. */
  readonly key: string;
  /** `TSRAFT_` and the flag in upper snake case, e.g. `TSRAFT_DATA_DIR`. */
  readonly env: string;
  readonly kind: ServeOptionKind;
  /** Allowed values of a `choice`. */
  readonly choices?: readonly string[];
  /** What `--help` shows after the flag, e.g. `HOST:PORT`; empty for a boolean flag. */
  readonly placeholder: string;
  /** One line for `tsraft serve --help`. */
  readonly help: string;
}

function option(
  flag: string,
  kind: ServeOptionKind,
  placeholder: string,
  help: string,
  choices?: readonly string[],
): ServeOption {
  const key = flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  const env = `TSRAFT_${flag.replace(/-/g, '_').toUpperCase()}`;
  const base = { flag, key, env, kind, placeholder, help };
  return choices === undefined ? base : { ...base, choices };
}

/** Peer transports, in the order `--help` lists them. */
export const TRANSPORTS = ['streaming', 'unary'] as const;
/** pino levels, in the order `--help` lists them. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Every option of `tsraft serve` except `--config` and `--help`. The flag, env and file names all derive
 * from `flag`, so the three sources cannot drift apart.
 */
export const SERVE_OPTIONS: readonly ServeOption[] = [
  option('id', 'id', 'ID', "this node's id (required)"),
  option('listen', 'bind-address', 'HOST:PORT', 'host:port to serve peers and clients on (required)'),
  option(
    'peers',
    'peers',
    'ID=HOST:PORT,...',
    'every member, this node included: bootstraps a new cluster (required unless --join)',
  ),
  option(
    'join',
    'endpoints',
    'HOST:PORT,...',
    'join a running cluster through any of these members, as a learner, instead of --peers',
  ),
  option(
    'advertise',
    'address',
    'HOST:PORT',
    'with --join: where the other members reach this node (default: --listen)',
  ),
  option(
    'learner',
    'boolean',
    '',
    'with --join: stay a learner (receives the log, never votes) instead of being promoted',
  ),
  option(
    'promote-within',
    'integer',
    'N',
    "with --join: ask for promotion to voter once within N entries of the leader's commit (default 1000)",
  ),
  option('data-dir', 'path', 'DIR', 'log, hard state and snapshots; created if missing (required)'),
  option('transport', 'choice', 'KIND', 'peer transport: streaming (default) or unary', TRANSPORTS),
  option(
    'batching',
    'choice',
    'on|off',
    'leader batching: many proposals per log write and per message (on, default); off for benchmarks',
    ['on', 'off'],
  ),
  option(
    'cluster-id',
    'text',
    'NAME',
    "the cluster's id; other clusters' peers are refused (default tsraft)",
  ),
  option(
    'metrics-listen',
    'bind-address',
    'HOST:PORT',
    'host:port of the Prometheus /metrics endpoint (default: none)',
  ),
  option(
    'log-level',
    'choice',
    'LEVEL',
    'fatal, error, warn, info (default), debug, trace or silent',
    LOG_LEVELS,
  ),
  option('tick-interval-ms', 'integer', 'N', 'milliseconds per Raft tick (default 100)'),
  option('election-ticks', 'integer', 'N', 'election timeout in ticks (default 10)'),
  option('heartbeat-ticks', 'integer', 'N', 'heartbeat interval in ticks, below election-ticks (default 1)'),
  option('snapshot-interval-entries', 'integer', 'N', 'applied entries between snapshots (default 10000)'),
  option(
    'snapshot-interval-bytes',
    'integer',
    'N',
    'applied command bytes between snapshots, whichever comes first (default 67108864)',
  ),
  option(
    'max-inflight-requests',
    'integer',
    'N',
    'client requests in flight before refusing more (default 1024)',
  ),
  option(
    'max-stream-inflight-requests',
    'integer',
    'N',
    'client requests in flight on one Session stream before refusing more (default 512)',
  ),
  option('request-timeout-ms', 'integer', 'N', 'deadline of a client request that names none (default 5000)'),
  option('tls-cert', 'path', 'FILE', 'PEM certificate of this node (TLS needs all three tls flags)'),
  option('tls-key', 'path', 'FILE', 'PEM private key of this node'),
  option('tls-ca', 'path', 'FILE', 'PEM CA bundle that verifies the other side (mutual TLS)'),
];
