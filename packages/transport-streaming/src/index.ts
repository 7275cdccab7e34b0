/**
 * A tsraft `Transport` over gRPC that keeps one long-lived bidirectional `Raft.Stream` to each peer:
 * batched, ordered, bounded per peer, kept alive with HTTP/2 PINGs, reconnected with jittered backoff.
 *
 * @packageDocumentation
 */

// For users: the transport and its options.

export type { PeerSessionStateKind, PeerStats } from './peer-session.js';
export { createStreamingTransport, type StreamingTransport } from './streaming-transport.js';
export type { PeerDirectory, StreamingTransportOptions } from './streaming-transport-options.js';

// For integrators: the pieces, and the limits on the wire.

export { type Backoff, type BackoffOptions, createBackoff } from './backoff.js';
export { peerChannelOptionsOf } from './peer-channel-options.js';
export {
  createPeerQueue,
  type PeerQueue,
  type PeerQueueOptions,
  type PushResult,
  type QueuedMessage,
} from './peer-queue.js';
export {
  MAX_FRAME_BYTES,
  type ResolvedStreamingTransportOptions,
  resolveStreamingTransportOptions,
} from './streaming-transport-options.js';
