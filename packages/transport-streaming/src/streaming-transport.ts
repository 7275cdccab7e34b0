import { toProtoMessage, toProtoSnapshotPieces } from '@tsraft/codec';
import { type Message, type NodeId, RaftError, type Transport, type TransportHandler } from '@tsraft/core';
import { createRaftServer, type RaftServer, type RaftServiceHandlers } from '@tsraft/grpc';
import { supersedingTerm } from './obsolete.js';
import type { QueuedMessage } from './peer-queue.js';
import { createPeerSession, type PeerSession, type PeerStats } from './peer-session.js';
import { createStreamHandler, type StreamHandler } from './stream-handler.js';
import {
  type ResolvedStreamingTransportOptions,
  resolveStreamingTransportOptions,
  type StreamingTransportOptions,
} from './streaming-transport-options.js';

/**
 * A {@link Transport} over gRPC that keeps one long-lived `Raft.Stream` to each peer, plus the handler that
 * serves peers' streams. Serve {@link StreamingTransport.handlers} with `@tsraft/grpc`'s `createRaftServer`,
 * which checks callers' cluster and membership before a stream reaches them.
 */
export interface StreamingTransport extends Transport {
  /** The `Raft` methods this transport serves: `Stream` (the others answer UNIMPLEMENTED). */
  readonly handlers: RaftServiceHandlers;
  /** Counters of each peer session, by peer id. */
  stats(): ReadonlyMap<NodeId, PeerStats>;
  /** Inbound streams open now. */
  readonly inboundStreams: number;
  /** `host:port` the transport serves on, once `start()` resolved (only with the `listen` option). */
  readonly address: string | undefined;
  /** The server made for the `listen` option (health, reflection), once started. */
  readonly server: RaftServer | undefined;
  /**
   * Reports whether the node's storage is healthy: the health service of the server made for `listen`
   * says SERVING only while the transport is started, not closed, and healthy (the default).
   */
  setHealthy(healthy: boolean): void;
}

/**
 * Creates a {@link StreamingTransport}. Nothing is dialled until `start()`; then each peer gets its own
 * channel and stream, reopened with jittered exponential backoff whenever it fails.
 *
 * @throws RaftError `INVALID_CONFIG` when an option is out of range.
 */
export function createStreamingTransport(options: StreamingTransportOptions): StreamingTransport {
  const resolved: ResolvedStreamingTransportOptions = resolveStreamingTransportOptions(options);
  const sessions = new Map<NodeId, PeerSession>();
  let handler: TransportHandler | null = null;
  let server: RaftServer | undefined;
  let closing: Promise<void> | null = null;
  let healthy = true;
  const updateHealth = (): void => server?.setServing(healthy && handler !== null && closing === null);
  /** Peers whose unreachability is reported on the next turn; one report per peer per turn. */
  const unreachable = new Set<NodeId>();

  const reportUnreachable = (peer: NodeId): void => {
    if (unreachable.has(peer)) return;
    unreachable.add(peer);
    setImmediate(() => {
      unreachable.delete(peer);
      if (closing === null) handler?.onUnreachable(peer);
    });
  };

  const inbound: StreamHandler = createStreamHandler({
    id: resolved.id,
    clusterId: resolved.clusterId,
    maxSnapshotBytes: resolved.maxSnapshotBytes,
    deliver: () => (closing === null && handler !== null ? handler.onMessage : null),
  });

  const sessionOf = (peer: NodeId): PeerSession | undefined => {
    const existing = sessions.get(peer);
    if (existing !== undefined) return existing;
    if (handler === null || resolved.resolvePeer(peer) === undefined) return undefined;
    const session = createPeerSession({
      peer,
      resolveAddress: () => resolved.resolvePeer(peer),
      transport: resolved,
      onUnreachable: reportUnreachable,
    });
    sessions.set(peer, session);
    return session;
  };

  return {
    handlers: { Stream: inbound.handle },
    start: async (h) => {
      if (closing !== null) throw new RaftError('STOPPED', `the transport of ${resolved.id} is closed`);
      if (handler !== null)
        throw new RaftError('INVALID_ARGUMENT', `the transport of ${resolved.id} is already started`);
      if (resolved.listen !== undefined) {
        server = await createRaftServer({
          listen: resolved.listen,
          clusterId: resolved.clusterId,
          nodeId: resolved.id,
          members: resolved.isMember,
          handlers: { Stream: inbound.handle },
          shutdownGraceMs: resolved.closeTimeoutMs,
          ...(resolved.tls === undefined ? {} : { tls: resolved.tls }),
          ...(options.limits === undefined ? {} : { limits: options.limits }),
          ...(options.logger === undefined ? {} : { logger: options.logger }),
          ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
          ...(options.services === undefined ? {} : { services: options.services }),
        });
      }
      handler = h;
      updateHealth();
      for (const peer of resolved.knownPeers) sessionOf(peer);
    },
    send: (message: Message) => {
      if (closing !== null) return;
      if (message.from !== resolved.id) {
        throw new RaftError(
          'INVALID_ARGUMENT',
          `transport of ${resolved.id} cannot send a message from ${message.from}`,
        );
      }
      const session = sessionOf(message.to);
      if (session === undefined) {
        reportUnreachable(message.to);
        return;
      }
      session.push(toQueued(message, resolved.clusterId, resolved.snapshotChunkBytes));
    },
    setHealthy: (value) => {
      healthy = value;
      updateHealth();
    },
    close: () => {
      closing ??= (async () => {
        server?.setServing(false);
        const deadline = performance.now() + resolved.closeTimeoutMs;
        const all = [...sessions.values()];
        await Promise.all([inbound.close(deadline), ...all.map((s) => s.drain(deadline))]);
        await Promise.all(all.map((s) => s.close(deadline)));
        await server?.close();
        handler = null;
      })();
      return closing;
    },
    stats: () => {
      const out = new Map<NodeId, PeerStats>();
      for (const [peer, session] of sessions) out.set(peer, session.stats());
      return out;
    },
    get inboundStreams() {
      return inbound.openStreams;
    },
    get address() {
      return server?.address;
    },
    get server() {
      return server;
    },
  };
}

/** Per-message overhead assumed by the byte budget: the envelope, ids and numbers. */
const ENVELOPE_BYTES = 64;
/** Per-entry overhead assumed by the byte budget: term, index, type and framing. */
const ENTRY_BYTES = 24;

/**
 * The queued form of a message. A snapshot weighs its declared `byteLength` (its data is not read here) and
 * is queued as a lazy generator of its pieces: its data is read only as its frames are written.
 */
function toQueued(message: Message, clusterId: string, chunkBytes: number): QueuedMessage {
  if (message.type === 'snapshot') {
    const byteLength = message.snapshot.data.byteLength;
    return {
      type: 'snapshot',
      term: message.term,
      bytes: ENVELOPE_BYTES + byteLength,
      byteLength,
      pieces: toProtoSnapshotPieces(message, clusterId, chunkBytes),
    };
  }
  let bytes = ENVELOPE_BYTES;
  if (message.type === 'append') {
    for (const entry of message.entries) bytes += ENTRY_BYTES + entry.data.byteLength;
  }
  return {
    proto: toProtoMessage(message, clusterId),
    bytes,
    type: message.type,
    term: message.term,
    ...(supersedingTerm(message) === null ? { currentTerm: false } : {}),
  };
}
