import { toProtoMessage, toProtoSnapshotPieces } from '@tsraft/codec';
import { type Message, type NodeId, RaftError, type Transport, type TransportHandler } from '@tsraft/core';
import {
  createDefaultLogger,
  createRaftServer,
  type PeerChannelOptions,
  type RaftServer,
} from '@tsraft/grpc';
import { createInboundHandlers } from './inbound.js';
import { supersedingTerm } from './obsolete.js';
import { createPeerLink, type PeerLink, type PeerLinkContext } from './peer-link.js';
import { resolveUnaryTransportOptions, type UnaryTransportOptions } from './unary-transport-options.js';

/** A {@link Transport} over gRPC unary calls, with the server it listens on. */
export interface UnaryTransport extends Transport {
  /**
   * `host:port` this node serves on, known once `start` resolved (the real port when `listen` asked for 0).
   * @throws RaftError `UNAVAILABLE` before `start`.
   */
  readonly address: string;
  /**
   * Reports whether the node's storage is healthy: the health service says SERVING only while the
   * transport is started, not closed, and healthy (the default).
   */
  setHealthy(healthy: boolean): void;
}

/**
 * Rough wire size of a message, for batching and queue bounds (payload bytes plus a fixed overhead). A
 * snapshot's size is its declared `byteLength`: its data is not read for this.
 */
function estimateBytes(message: Message): number {
  switch (message.type) {
    case 'append': {
      let bytes = 64;
      for (const entry of message.entries) bytes += entry.data.byteLength + 24;
      return bytes;
    }
    case 'snapshot':
      return 64 + message.snapshot.data.byteLength;
    default:
      return 64;
  }
}

/**
 * Creates a {@link UnaryTransport}: each batch of messages to a peer is one `Raft.Send` unary call over
 * one reused channel per peer, one call in flight per peer (so order is kept) with later messages
 * batched behind it; snapshots travel as an `InstallSnapshot` client stream of chunks. The server starts
 * in `start`. See docs/transports.md.
 *
 * @throws RaftError `INVALID_CONFIG` when a numeric option is not positive.
 */
export function createUnaryTransport(options: UnaryTransportOptions): UnaryTransport {
  const resolved = resolveUnaryTransportOptions(options);
  const logger = options.logger ?? createDefaultLogger();
  const channel: PeerChannelOptions = {
    ...options.channel,
    maxMessageBytes: resolved.maxMessageBytes,
    ...(options.tls === undefined ? {} : { tls: options.tls }),
  };
  const links = new Map<NodeId, PeerLink>();
  let handler: TransportHandler | null = null;
  let server: RaftServer | null = null;
  let healthy = true;
  let closed = false;
  let closing: Promise<void> | null = null;
  const unreachable = new Set<NodeId>();
  let reportScheduled = false;

  const updateHealth = (): void => server?.setServing(handler !== null && !closed && healthy);

  const reportUnreachable = (peer: NodeId): void => {
    unreachable.add(peer);
    if (reportScheduled) return;
    reportScheduled = true;
    setImmediate(() => {
      reportScheduled = false;
      const peers = [...unreachable];
      unreachable.clear();
      if (closed) return;
      for (const p of peers) handler?.onUnreachable(p);
    });
  };

  const context: PeerLinkContext = {
    self: options.id,
    clusterId: options.clusterId,
    options: resolved,
    channel,
    logger,
    metrics: options.metrics,
    reportUnreachable,
  };

  return {
    get address(): string {
      if (server === null) throw new RaftError('UNAVAILABLE', 'the transport is not started');
      return server.address;
    },
    setHealthy(value) {
      healthy = value;
      updateHealth();
    },
    async start(h) {
      if (closed) throw new RaftError('STOPPED', `the transport of ${options.id} is closed`);
      if (server !== null) throw new RaftError('INVALID_ARGUMENT', 'the transport is already started');
      const policy = { clusterId: options.clusterId, nodeId: options.id, isMember: resolved.isMember };
      server = await createRaftServer({
        listen: options.listen,
        clusterId: options.clusterId,
        nodeId: options.id,
        members: resolved.isMember,
        handlers: createInboundHandlers(policy, resolved.maxSnapshotBytes, (message) => {
          if (!closed) handler?.onMessage(message);
        }),
        maxMessageBytes: resolved.maxMessageBytes,
        shutdownGraceMs: resolved.shutdownGraceMs,
        logger,
        ...(options.tls === undefined ? {} : { tls: options.tls }),
        ...(options.limits === undefined ? {} : { limits: options.limits }),
        ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
        ...(options.services === undefined ? {} : { services: options.services }),
      });
      handler = h;
      if (closed) {
        await server.close();
        return;
      }
      updateHealth();
    },
    send(message) {
      if (closed) return;
      if (message.from !== options.id) {
        throw new RaftError(
          'INVALID_ARGUMENT',
          `transport of ${options.id} cannot send a message from ${message.from}`,
        );
      }
      let link = links.get(message.to);
      if (link === undefined) {
        link = createPeerLink(message.to, context);
        links.set(message.to, link);
      }
      if (message.type === 'snapshot') {
        // Pieces are produced from the snapshot's data only as the InstallSnapshot stream takes them.
        link.sendSnapshot(
          toProtoSnapshotPieces(message, options.clusterId, resolved.snapshotChunkBytes),
          message.term,
        );
        return;
      }
      link.enqueue(
        toProtoMessage(message, options.clusterId),
        estimateBytes(message),
        supersedingTerm(message),
      );
    },
    close() {
      closing ??= (async () => {
        closed = true;
        handler = null;
        // Cancel outbound calls first (Raft needs no answer any more), then drain inbound ones.
        for (const link of links.values()) link.close();
        links.clear();
        await server?.close();
      })();
      return closing;
    },
  };
}
