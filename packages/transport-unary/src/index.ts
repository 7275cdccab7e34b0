/**
 * A tsraft {@link Transport} over gRPC unary calls (grpc-js): one `Raft.Send` call per batch of messages
 * to a peer, snapshots as a client stream of chunks, with the server's health, reflection, cluster check
 * and admission control from `@tsraft/grpc`. See docs/transports.md.
 *
 * @packageDocumentation
 */

export { createUnaryTransport, type UnaryTransport } from './unary-transport.js';
export type { PeerDirectory, UnaryTransportOptions } from './unary-transport-options.js';
