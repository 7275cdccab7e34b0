import type { PeerChannelOptions } from '@tsraft/grpc';
import type { ResolvedStreamingTransportOptions } from './streaming-transport-options.js';

/** The `@tsraft/grpc` channel options of a peer channel: keep-alive and reconnect pacing from the transport's options. */
export function peerChannelOptionsOf(options: ResolvedStreamingTransportOptions): PeerChannelOptions {
  return {
    keepaliveIntervalMs: options.keepaliveIntervalMs,
    keepaliveTimeoutMs: options.keepaliveTimeoutMs,
    initialReconnectBackoffMs: options.reconnectBaseMs,
    maxReconnectBackoffMs: options.reconnectMaxMs,
    ...(options.tls === undefined ? {} : { tls: options.tls }),
  };
}
