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

/** A message waiting in a {@link PeerLink}'s queue. */
interface Queued {
  readonly message: RaftMessage;
  /** Estimated wire size, for batching and the queue's bounds. */
  readonly bytes: number;
  /** Its term for the obsolete-message rule (see `supersedingTerm`); `null`: never obsolete. */
  readonly term: number | null;
}

/**
 * The sending side of one peer: a channel, a bounded queue of messages batched into Send calls with up
 * to `maxInflightCallsPerPeer` calls in flight (with 1, the default, messages arrive in the order they
 * were sent), and one snapshot stream at a time.
 */
export interface PeerLink {
  /**
   * Queues a message (already in wire form, not a snapshot) of about `sizeBytes`; drops it when the queue
   * is full. `term` is its term for the obsolete-message rule (`null` for a pre-vote message): when
   * dropping obsolete messages is on, a higher term drops the queued messages of a lower term, cancels the
   * calls in flight that carry only such messages (a cancellation is not a failure: nothing is reported),
   * and a message of a lower term than one already queued is dropped at once.
   */
  enqueue(message: RaftMessage, sizeBytes: number, term: number | null): void;
  /**
   * Sends a snapshot as an `InstallSnapshot` stream of `pieces`, which are taken one at a time as the stream
   * accepts them (a lazy generator reads the snapshot's data only then). A newer snapshot replaces one still
   * waiting. When taking a piece throws (the snapshot's storage failed), the stream is cancelled, so the
   * receiver drops what it got, and the peer is reported unreachable. The snapshot's `term` takes part in
   * the obsolete-message rule like a queued message's: a snapshot waiting or being sent is dropped (its
   * stream cancelled, nothing reported) when a message of a higher term is queued.
   */
  sendSnapshot(pieces: Iterable<RaftMessage>, term: number): void;
  /**
   * Queued bytes and messages, and the messages dropped (or whose call was cancelled) as obsolete so far,
   * for tests and metrics.
   */
  pending(): { readonly messages: number; readonly bytes: number; readonly obsoleteMessages: number };
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
  /** Invariant: `queuedBytes` is the sum of the `bytes` in `queue`. */
  let queue: Queued[] = [];
  let queuedBytes = 0;
  /**
   * Send calls in flight (at most `maxInflightCallsPerPeer`), each with how many messages it carries and the
   * highest term among them, `null` when one of them never becomes obsolete.
   */
  const inflight = new Map<ClientUnaryCall, { readonly messages: number; readonly term: number | null }>();
  let snapshotWaiting: { readonly pieces: Iterable<RaftMessage>; readonly term: number } | null = null;
  let snapshotCall: ClientWritableStream<InstallSnapshotRequest> | null = null;
  let snapshotCallTerm = 0;
  /**
   * Calls whose end is not reported: snapshot calls cancelled because reading the snapshot failed (already
   * reported), and calls cancelled because everything they carry became obsolete (our own choice).
   */
  const unreported = new WeakSet<ClientUnaryCall | ClientWritableStream<InstallSnapshotRequest>>();
  /** The highest term queued to the peer so far (obsolete-message rule). */
  let highestTerm = 0;
  /** Messages (a snapshot counts as one) dropped or cancelled because they became obsolete. */
  let obsoleteMessages = 0;
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

  const takeBatch = (): Queued[] => {
    let bytes = 0;
    let count = 0;
    while (
      count < queue.length &&
      (count === 0 ||
        (count < options.maxBatchMessages && bytes + queue[count]!.bytes <= options.maxBatchBytes))
    ) {
      bytes += queue[count]!.bytes;
      count++;
    }
    const batch = queue.slice(0, count);
    queue = queue.slice(count);
    queuedBytes -= bytes;
    return batch;
  };

  /**
   * The obsolete-message rule (see `supersedingTerm`): a message of `term` makes every message of a lower
   * term to this peer useless if it was not delivered yet. Drops such queued messages and a waiting
   * snapshot, and cancels the calls in flight that carry nothing else. A cancellation here is this side's
   * choice, not a failure: it is neither logged as one nor reported unreachable.
   */
  const supersede = (term: number): void => {
    if (!options.dropObsoleteMessages || term <= highestTerm) return;
    highestTerm = term;
    let dropped = 0;
    if (queue.some((q) => q.term !== null && q.term < term)) {
      const kept = queue.filter((q) => q.term === null || q.term >= term);
      dropped += queue.length - kept.length;
      queue = kept;
      queuedBytes = kept.reduce((sum, q) => sum + q.bytes, 0);
    }
    if (snapshotWaiting !== null && snapshotWaiting.term < term) {
      snapshotWaiting = null;
      dropped++;
    }
    // Collected first: grpc-js may run a cancelled call's callback (which sends what is queued) at once.
    const cancelled: (ClientUnaryCall | ClientWritableStream<InstallSnapshotRequest>)[] = [];
    for (const [call, carried] of inflight) {
      if (carried.term !== null && carried.term < term) {
        cancelled.push(call);
        dropped += carried.messages;
      }
    }
    if (snapshotCall !== null && snapshotCallTerm < term) {
      cancelled.push(snapshotCall);
      dropped++;
      // Stops `writeAll`; the snapshot's reader is closed when it returns.
      snapshotCall = null;
    }
    if (dropped === 0 && cancelled.length === 0) return;
    obsoleteMessages += dropped;
    logger.debug(
      { peer, term, droppedMessages: dropped, cancelledCalls: cancelled.length, obsoleteMessages },
      'obsolete messages to peer dropped',
    );
    for (const call of cancelled) {
      unreported.add(call);
      call.cancel();
    }
  };

  const flush = (): void => {
    flushScheduled = false;
    if (closed || queue.length === 0 || inflight.size >= options.maxInflightCallsPerPeer) return;
    const c = ensureClient();
    if (c === null) {
      queue = [];
      queuedBytes = 0;
      failed(new TransportError('UNREACHABLE', `no address known for ${peer}`));
      return;
    }
    const batch = takeBatch();
    let batchTerm: number | null = 0;
    for (const q of batch)
      batchTerm = batchTerm === null || q.term === null ? null : Math.max(batchTerm, q.term);
    const request = create(SendRequestSchema, { messages: batch.map((q) => q.message) });
    const call: ClientUnaryCall = c.makeUnaryRequest(
      send.path,
      send.requestSerialize,
      send.responseDeserialize,
      request,
      new Metadata(),
      { deadline: Date.now() + options.callDeadlineMs },
      (error) => {
        inflight.delete(call);
        if (error !== null && !unreported.has(call)) failed(error);
        flush();
      },
    );
    inflight.set(call, { messages: batch.length, term: batchTerm });
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
          unreported.add(call);
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
    const { pieces, term } = snapshotWaiting;
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
        if (error !== null && !unreported.has(call)) failed(error);
        pumpSnapshot();
      },
    );
    call.on('error', () => {
      // Errors reach the callback above; this listener only keeps an emitted 'error' from crashing.
    });
    snapshotCall = call;
    snapshotCallTerm = term;
    void writeAll(call, pieces);
  };

  return {
    sendSnapshot(pieces, term) {
      if (closed) return;
      if (options.dropObsoleteMessages && term < highestTerm) {
        obsoleteMessages++;
        return;
      }
      supersede(term);
      // A newer snapshot supersedes one still waiting: only the latest is worth sending.
      snapshotWaiting = { pieces, term };
      pumpSnapshot();
    },
    enqueue(message, sizeBytes, term) {
      if (closed) return;
      if (term !== null) {
        if (options.dropObsoleteMessages && term < highestTerm) {
          // Already obsolete: a message of a higher term to this peer was queued before it.
          obsoleteMessages++;
          return;
        }
        supersede(term);
      }
      if (
        queue.length >= options.maxPendingMessagesPerPeer ||
        (queue.length > 0 && queuedBytes + sizeBytes > options.maxPendingBytesPerPeer)
      ) {
        failed(new TransportError('OVERLOADED', `send queue to ${peer} is full`));
        return;
      }
      queue.push({ message, bytes: sizeBytes, term });
      queuedBytes += sizeBytes;
      if (!flushScheduled && inflight.size < options.maxInflightCallsPerPeer) {
        // Batch what the caller sends in the same turn (one Ready's messages) into one call.
        flushScheduled = true;
        queueMicrotask(flush);
      }
    },
    pending: () => ({ messages: queue.length, bytes: queuedBytes, obsoleteMessages }),
    close() {
      if (closed) return;
      closed = true;
      queue = [];
      queuedBytes = 0;
      snapshotWaiting = null;
      for (const call of [...inflight.keys()]) call.cancel();
      inflight.clear();
      snapshotCall?.cancel();
      snapshotCall = null;
      client?.close();
      client = null;
    },
  };
}
