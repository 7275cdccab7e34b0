import { type ChannelOptions, Client, type Interceptor } from '@grpc/grpc-js';
import { loadChannelCredentials, type TlsFiles } from './tls.js';

/** Tunables of the channel to one peer; names carry their units. */
export interface PeerChannelOptions {
  /** Largest message this side sends or accepts, in bytes. Default 16 MiB. */
  readonly maxMessageBytes?: number;
  /** Interval of HTTP/2 keep-alive PINGs, also on an idle connection. Default 10 000. */
  readonly keepaliveIntervalMs?: number;
  /** How long to wait for a PING's answer before declaring the connection dead. Default 5 000. */
  readonly keepaliveTimeoutMs?: number;
  /** First reconnect delay after a connection fails; grpc-js grows it with jitter. Default 100. */
  readonly initialReconnectBackoffMs?: number;
  /** Cap of the reconnect delay. Default 2 000, so a peer that comes back is found within ~2 s. */
  readonly maxReconnectBackoffMs?: number;
  /** HTTP/2 connection flow-control window in bytes. Default 16 MiB. */
  readonly connectionWindowBytes?: number;
  /** TLS material; absent means plaintext. */
  readonly tls?: TlsFiles;
}

/** Default of {@link PeerChannelOptions.maxMessageBytes}: 16 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/**
 * The grpc-js channel options tsraft uses for a peer, documented in docs/transports.md:
 * keep-alive pings even without calls (a dead peer is noticed between heartbeats), a bounded message
 * size, no compression (Raft payloads are usually already compact, and CPU matters more on loopback and
 * LAN), a large connection window (snapshots and big batches), fast reconnects, and a subchannel of its
 * own (closing the channel closes its connection).
 */
export function peerChannelOptions(options: PeerChannelOptions = {}): ChannelOptions {
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  return {
    'grpc.keepalive_time_ms': options.keepaliveIntervalMs ?? 10_000,
    'grpc.keepalive_timeout_ms': options.keepaliveTimeoutMs ?? 5_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.max_send_message_length': maxMessageBytes,
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.default_compression_algorithm': 0,
    'grpc.initial_reconnect_backoff_ms': options.initialReconnectBackoffMs ?? 100,
    'grpc.max_reconnect_backoff_ms': options.maxReconnectBackoffMs ?? 2_000,
    'grpc-node.flow_control_window': options.connectionWindowBytes ?? 16 * 1024 * 1024,
    'grpc.use_local_subchannel_pool': 1,
    'grpc.enable_retries': 0,
  };
}

/**
 * Creates the one grpc-js client (and so the one channel) used for all traffic to the peer at `address`
 * (`host:port`). Call its methods with the serializers of {@link RAFT_SERVICE_DEFINITION}; `close()` it
 * when the peer is removed or the transport stops.
 */
export function createRaftClient(
  address: string,
  options: PeerChannelOptions = {},
  interceptors: readonly Interceptor[] = [],
): Client {
  return new Client(address, loadChannelCredentials(options.tls), {
    ...peerChannelOptions(options),
    interceptors: [...interceptors],
  });
}
