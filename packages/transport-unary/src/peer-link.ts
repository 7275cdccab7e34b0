import { create } from '@bufbuild/protobuf';
import { type Client, type ClientUnaryCall, type ClientWritableStream, Metadata } from '@grpc/grpc-js';
import type { NodeId } from '@tsraft/core';
import {
  createClientInterceptor,
  createRaftClient,
  type GrpcLogger,
  type GrpcMetrics,
  type PeerChannelOptions,
  RAFT_SERVICE_DEFINITION,
  TransportError,
} from '@tsraft/grpc';
import {
  type InstallSnapshotRequest,
  InstallSnapshotRequestSchema,
  type RaftMessage,
  SendRequestSchema,
} from '@tsraft/proto';
import type { ResolvedUnaryTransportOptions } from './unary-transport-options.js';

/** Everything a {@link PeerLink} needs from its transport. */
export interface PeerLinkContext {
  readonly self: NodeId;
  readonly clusterId: string;
  readonly options: ResolvedUnaryTransportOptions;
  readonly channel: PeerChannelOptions;
  readonly logger: GrpcLogger;
  readonly metrics: GrpcMetrics | undefined;
  /** Tells Raft that messages to `peer` were lost. */
  readonly reportUnreachable: (peer: NodeId) => void;
}

/**
 * The sending side of one peer: a channel, a bounded queue of messages batched into Send calls with up
 * to `maxInflightCallsPerPeer` calls in flight (with 1, the default, messages arrive in the order they
 * were sent), and one snapshot stream at a time.
 */
export interface PeerLink {
  /**
   * Queues a message (already in wire form, not a snapshot) of about `sizeBytes`; drops it when the queue
   * is full.
   */
  enqueue(message: RaftMessage, sizeBytes: number): void;
  /**
   * Sends a snapshot as an `InstallSnapshot` stream of `pieces`, which are taken one at a time as the stream
   * accepts them (a lazy generator reads the snapshot's data only then). A newer snapshot replaces one still
   * waiting. When taking a piece throws (the snapshot's storage failed), the stream is cancelled, so the
   * receiver drops what it got, and the peer is reported unreachable.
   */
  sendSnapshot(pieces: Iterable<RaftMessage>): void;
  /** Queued bytes and messages, for tests and metrics. */
  pending(): { readonly messages: number; readonly bytes: number };
  /** Cancels the calls in flight, drops what is queued and closes the channel. */
  close(): void;
}

/** Creates the {@link PeerLink} to `peer`. */
export function createPeerLink(peer: NodeId, context: PeerLinkContext): PeerLink {
  const { options, logger } = context;
  const send = RAFT_SERVICE_DEFINITION.Send;
  const install = RAFT_SERVICE_DEFINITION.InstallSnapshot;
  let client: Client | null = null;
  let clientAddress: string | null = null;
  /** Invariant: `queuedBytes` is the sum of the sizes in `sizes`, which parallels `queue`. */
  let queue: RaftMessage[] = [];
  let sizes: number[] = [];
  let queuedBytes = 0;
  /** Send calls in flight; at most `maxInflightCallsPerPeer`. */
  const inflight = new Set<ClientUnaryCall>();
  let snapshotWaiting: Iterable<RaftMessage> | null = null;
  let snapshotCall: ClientWritableStream<InstallSnapshotRequest> | null = null;
  /** Snapshot calls this side cancelled because reading the snapshot failed (already reported). */
  const abandoned = new WeakSet<ClientWritableStream<InstallSnapshotRequest>>();
  let closed = false;
  let flushScheduled = false;

  const ensureClient = (): Client | null => {
    const address = options.resolvePeer(peer);
    if (address === undefined) return null;
    if (client !== null && clientAddress === address) return client;
    client?.close();
    client = createRaftClient(address, context.channel, [
      createClientInterceptor({
        clusterId: context.clusterId,
        nodeId: context.self,
        peer,
        logger,
        ...(context.metrics === undefined ? {} : { metrics: context.metrics }),
      }),
    ]);
    clientAddress = address;
    return client;
  };

  const failed = (error: unknown): void => {
    if (closed) return;
    const transportError = TransportError.from(error);
    logger.debug({ peer, code: transportError.code }, 'messages to peer lost');
    context.reportUnreachable(peer);
  };

  const takeBatch = (): RaftMessage[] => {
    let bytes = 0;
    let count = 0;
    while (
      count < queue.length &&
      (count === 0 || (count < options.maxBatchMessages && bytes + sizes[count]! <= options.maxBatchBytes))
    ) {
      bytes += sizes[count]!;
      count++;
    }
    const batch = queue.slice(0, count);
    queue = queue.slice(count);
    sizes = sizes.slice(count);
    queuedBytes -= bytes;
    return batch;
  };

  const flush = (): void => {
    flushScheduled = false;
    if (closed || queue.length === 0 || inflight.size >= options.maxInflightCallsPerPeer) return;
    const c = ensureClient();
    if (c === null) {
      queue = [];
      sizes = [];
      queuedBytes = 0;
      failed(new TransportError('UNREACHABLE', `no address known for ${peer}`));
      return;
    }
    const messages = takeBatch();
    const request = create(SendRequestSchema, { messages });
    const call: ClientUnaryCall = c.makeUnaryRequest(
      send.path,
      send.requestSerialize,
      send.responseDeserialize,
      request,
      new Metadata(),
      { deadline: Date.now() + options.callDeadlineMs },
      (error) => {
        inflight.delete(call);
        if (error !== null) failed(error);
        flush();
      },
    );
    inflight.add(call);
    // With room for more calls, send what is still queued now instead of behind this one.
    if (queue.length > 0 && inflight.size < options.maxInflightCallsPerPeer) flush();
  };

  /** Writes the pieces as the stream accepts them, then half-closes; a failed read cancels the call. */
  const writeAll = async (
    call: ClientWritableStream<InstallSnapshotRequest>,
    pieces: Iterable<RaftMessage>,
  ): Promise<void> => {
    const iterator = pieces[Symbol.iterator]();
    try {
      for (;;) {
        if (closed || snapshotCall !== call) return;
        let next: IteratorResult<RaftMessage>;
        try {
          next = iterator.next();
        } catch (error) {
          // The snapshot's data could not be read (pruned, corrupt, I/O error): the transfer fails. Raft
          // retries with a fresh snapshot after the unreachable report.
          logger.warn({ peer, err: error }, 'reading the snapshot failed; transfer abandoned');
          abandoned.add(call);
          failed(new TransportError('INTERNAL', 'reading the snapshot failed', { cause: error }));
          call.cancel();
          return;
        }
        if (next.done === true) break;
        const ok = call.write(create(InstallSnapshotRequestSchema, { message: next.value }));
        // Respect the stream's write buffer: wait for it to drain (or for the call to end) before the next piece.
        if (!ok)
          await new Promise<void>((resolve) => {
            const done = (): void => {
              call.off('drain', done);
              call.off('close', done);
              resolve();
            };
            call.on('drain', done);
            call.on('close', done);
          });
      }
      if (!closed && snapshotCall === call) call.end();
    } finally {
      // Closes the snapshot's reader when the transfer stopped early.
      iterator.return?.();
    }
  };

  const pumpSnapshot = (): void => {
    if (closed || snapshotCall !== null || snapshotWaiting === null) return;
    const c = ensureClient();
    const pieces = snapshotWaiting;
    snapshotWaiting = null;
    if (c === null) {
      failed(new TransportError('UNREACHABLE', `no address known for ${peer}`));
      return;
    }
    const call = c.makeClientStreamRequest(
      install.path,
      install.requestSerialize,
      install.responseDeserialize,
      new Metadata(),
      { deadline: Date.now() + options.snapshotDeadlineMs },
      (error) => {
        if (snapshotCall === call) snapshotCall = null;
        if (error !== null && !abandoned.has(call)) failed(error);
        pumpSnapshot();
      },
    );
    call.on('error', () => {
      // Errors reach the callback above; this listener only keeps an emitted 'error' from crashing.
    });
    snapshotCall = call;
    void writeAll(call, pieces);
  };

  return {
    sendSnapshot(pieces) {
      if (closed) return;
      // A newer snapshot supersedes one still waiting: only the latest is worth sending.
      snapshotWaiting = pieces;
      pumpSnapshot();
    },
    enqueue(message, sizeBytes) {
      if (closed) return;
      if (
        queue.length >= options.maxPendingMessagesPerPeer ||
        (queue.length > 0 && queuedBytes + sizeBytes > options.maxPendingBytesPerPeer)
      ) {
        failed(new TransportError('OVERLOADED', `send queue to ${peer} is full`));
        return;
      }
      queue.push(message);
      sizes.push(sizeBytes);
      queuedBytes += sizeBytes;
      if (!flushScheduled && inflight.size < options.maxInflightCallsPerPeer) {
        // Batch what the caller sends in the same turn (one Ready's messages) into one call.
        flushScheduled = true;
        queueMicrotask(flush);
      }
    },
    pending: () => ({ messages: queue.length, bytes: queuedBytes }),
    close() {
      if (closed) return;
      closed = true;
      queue = [];
      sizes = [];
      queuedBytes = 0;
      snapshotWaiting = null;
      for (const call of [...inflight]) call.cancel();
      inflight.clear();
      snapshotCall?.cancel();
      snapshotCall = null;
      client?.close();
      client = null;
    },
  };
}
