import type { Client, ClientDuplexStream, StatusObject } from '@grpc/grpc-js';
import { Metadata, status } from '@grpc/grpc-js';
import type { NodeId } from '@tsraft/core';
import {
  CLUSTER_ID_METADATA_KEY,
  createRaftClient,
  NODE_ID_METADATA_KEY,
  RAFT_SERVICE_DEFINITION,
} from '@tsraft/grpc';
import type { StreamRequest, StreamResponse } from '@tsraft/proto';
import { type Backoff, createBackoff } from './backoff.js';
import { peerChannelOptionsOf } from './peer-channel-options.js';
import { createPeerQueue, type PeerQueue, type QueuedMessage } from './peer-queue.js';
import { type Frame, toFrames } from './stream-frames.js';
import type { ResolvedStreamingTransportOptions } from './streaming-transport-options.js';

/** The lifecycle of the stream to one peer. */
export type PeerSessionStateKind =
  /** A stream was started; the peer has not accepted it yet (messages queue, bounded). */
  | 'connecting'
  /** The peer accepted the stream: messages flow. */
  | 'open'
  /** The last stream failed; a new one starts when the jittered delay ends. Messages are dropped. */
  | 'backoff'
  /** `close()` was called. Messages are dropped. */
  | 'closed';

/** One live stream and its flow-control bookkeeping. */
interface LiveStream {
  readonly call: ClientDuplexStream<StreamRequest, StreamResponse>;
  /** Frames written and not yet acknowledged by the peer. Invariant: equals `unackedSizes.length`. */
  unacked: number;
  /** Estimated bytes of each unacknowledged frame, oldest first. */
  readonly unackedSizes: number[];
  /** Sum of `unackedSizes`. Invariant: writing stops while it is >= `maxUnackedBytes`. */
  unackedBytes: number;
  /** When an acknowledgement last arrived, or when `unacked` last rose from 0 (ms, monotonic). */
  lastProgressAt: number;
  /** True between a `write()` that returned false and the next 'drain'. */
  waitingForDrain: boolean;
  /** Checks the acknowledgement deadline; `null` when `ackTimeoutMs` is 0. */
  readonly ackTimer: NodeJS.Timeout | null;
}

/**
 * The state of a peer session: a tagged union on `kind`.
 * Invariant: a {@link LiveStream} exists exactly in `connecting` and `open`.
 */
type SessionState =
  | { readonly kind: 'connecting'; readonly stream: LiveStream }
  | { readonly kind: 'open'; readonly stream: LiveStream }
  | { readonly kind: 'backoff'; readonly timer: NodeJS.Timeout }
  | { readonly kind: 'closed' };

/** Counters and gauges of one peer session, for tests, metrics and debugging. */
export interface PeerStats {
  /** The session's state. */
  readonly state: PeerSessionStateKind;
  /** Messages waiting to be written. */
  readonly queuedMessages: number;
  /** Bytes (estimated) waiting to be written. */
  readonly queuedBytes: number;
  /** Frames written and not yet acknowledged. */
  readonly unackedFrames: number;
  /** Bytes (estimated) written and not yet acknowledged. */
  readonly unackedBytes: number;
  /** Messages written to a stream since the transport started. */
  readonly sentMessages: number;
  /** Frames (`StreamRequest`s) written since the transport started. */
  readonly sentFrames: number;
  /** Heartbeats that replaced a queued one instead of queueing. */
  readonly coalescedHeartbeats: number;
  /**
   * Messages dropped because Raft no longer needs them: not yet written when a message of a higher term to
   * the peer was queued (a snapshot abandoned half-way counts as one). Not reported unreachable.
   */
  readonly obsoleteMessages: number;
  /**
   * Messages dropped: queue full, peer in backoff, or lost with a failed stream (each unacknowledged frame
   * of a failed stream counts as one).
   */
  readonly droppedMessages: number;
  /** Streams started, the first included. */
  readonly streamsStarted: number;
  /** Why the last stream ended, if one did. */
  readonly lastError: string | undefined;
}

/** The outbound half of a transport towards one peer: its channel, stream, queue and reconnect timer. */
export interface PeerSession {
  /** Queues a message for the peer (or drops it and reports the peer unreachable). */
  push(message: QueuedMessage): void;
  /** A snapshot of the session's counters. */
  stats(): PeerStats;
  /** Resolves once everything queued was written and acknowledged, the stream is gone, or `deadline` passed. */
  drain(deadline: number): Promise<void>;
  /** Ends the stream (cancelling it if the peer does not finish by `deadline`) and closes the channel. */
  close(deadline: number): Promise<void>;
}

/** What a session needs from its transport. */
export interface PeerSessionOptions {
  readonly peer: NodeId;
  /** The peer's address now; asked each time a stream starts. */
  readonly resolveAddress: () => string | undefined;
  readonly transport: ResolvedStreamingTransportOptions;
  /** Called (the transport coalesces and defers it) when messages to the peer were lost. */
  readonly onUnreachable: (peer: NodeId) => void;
}

const STREAM = RAFT_SERVICE_DEFINITION.Stream;

/** Creates the session to one peer and starts its first stream. */
export function createPeerSession(options: PeerSessionOptions): PeerSession {
  const { peer, transport } = options;
  /** The channel to the peer; replaced only when the peer's address changes. */
  let client: Client | null = null;
  let clientAddress: string | undefined;
  const queue: PeerQueue = createPeerQueue({
    maxMessages: transport.maxQueuedMessages,
    maxBytes: transport.maxQueuedBytes,
  });
  const backoff: Backoff = createBackoff({
    baseMs: transport.reconnectBaseMs,
    maxMs: transport.reconnectMaxMs,
    random: transport.random,
  });
  /**
   * The frames of the batch being written, produced one at a time as the stream has room (a large
   * snapshot's pieces are read from its data only then); `null` once the batch is all written.
   */
  let pendingFrames: Generator<Frame, void, undefined> | null = null;
  let flushScheduled = false;
  let sentMessages = 0;
  let sentFrames = 0;
  let coalescedHeartbeats = 0;
  let obsoleteMessages = 0;
  /** The highest current term of a message queued to the peer so far (the obsolete-message rule). */
  let highestTerm = 0;
  let droppedMessages = 0;
  let streamsStarted = 0;
  let lastError: string | undefined;

  const lose = (count: number): void => {
    if (count <= 0) return;
    droppedMessages += count;
    options.onUnreachable(peer);
  };

  /** Starts a stream; with no address for the peer, goes (back) to backoff. */
  const startStream = (): SessionState => {
    const address = options.resolveAddress();
    if (address === undefined) {
      lastError = `no address for ${peer}`;
      return backoffState();
    }
    if (client === null || address !== clientAddress) {
      client?.close();
      client = createRaftClient(address, peerChannelOptionsOf(transport));
      clientAddress = address;
    }
    const metadata = new Metadata();
    metadata.set(CLUSTER_ID_METADATA_KEY, transport.clusterId);
    metadata.set(NODE_ID_METADATA_KEY, transport.id);
    const call = client.makeBidiStreamRequest(
      STREAM.path,
      STREAM.requestSerialize,
      STREAM.responseDeserialize,
      metadata,
    );
    streamsStarted++;
    const stream: LiveStream = {
      call,
      unacked: 0,
      unackedSizes: [],
      unackedBytes: 0,
      lastProgressAt: performance.now(),
      waitingForDrain: false,
      ackTimer:
        transport.ackTimeoutMs === 0
          ? null
          : setInterval(
              () => {
                if (
                  stream.unacked > 0 &&
                  performance.now() - stream.lastProgressAt > transport.ackTimeoutMs
                ) {
                  fail(stream, `no acknowledgement for ${transport.ackTimeoutMs} ms`);
                  call.cancel();
                }
              },
              Math.max(5, Math.floor(transport.ackTimeoutMs / 4)),
            ).unref(),
    };
    // grpc-js reports a cancelled or failed call as an 'error'; 'status' below handles every ending.
    call.on('error', () => {});
    call.on('metadata', () => {
      if (state.kind === 'connecting' && state.stream === stream) {
        state = { kind: 'open', stream };
        backoff.reset();
      }
    });
    call.on('data', () => {
      const size = stream.unackedSizes.shift();
      if (size === undefined) return;
      stream.unacked--;
      stream.unackedBytes -= size;
      stream.lastProgressAt = performance.now();
      if (stream.unackedBytes < transport.maxUnackedBytes) scheduleFlush();
    });
    call.on('status', (s: StatusObject) => {
      fail(stream, s.code === status.OK ? 'the peer ended the stream' : `${status[s.code]}: ${s.details}`);
    });
    return { kind: 'connecting', stream };
  };

  /** Ends `stream`'s life in the session (if it is still the current one) and schedules a new stream. */
  const fail = (stream: LiveStream, reason: string): void => {
    if (stream.ackTimer !== null) clearInterval(stream.ackTimer);
    if ((state.kind !== 'connecting' && state.kind !== 'open') || state.stream !== stream) return;
    lastError = reason;
    const lost = stream.unacked + queue.clear() + (pendingFrames === null ? 0 : 1);
    dropPendingFrames();
    stream.unacked = 0;
    stream.unackedSizes.length = 0;
    stream.unackedBytes = 0;
    state = backoffState();
    lose(lost);
  };

  /** The backoff state, with its timer set to start the next stream. */
  const backoffState = (): SessionState => {
    const timer = setTimeout(() => {
      if (state.kind === 'backoff') state = startStream();
    }, backoff.nextDelayMs());
    timer.unref();
    return { kind: 'backoff', timer };
  };

  const write = (stream: LiveStream, frame: Frame): boolean => {
    if (stream.unacked === 0) stream.lastProgressAt = performance.now();
    stream.unacked++;
    stream.unackedSizes.push(frame.bytes);
    stream.unackedBytes += frame.bytes;
    sentFrames++;
    sentMessages += frame.request.messages.length;
    return stream.call.write(frame.request);
  };

  /** Whether the stream takes no more frames now: its buffer is full, or too many bytes await acknowledgement. */
  const blocked = (stream: LiveStream): boolean =>
    stream.waitingForDrain || stream.unackedBytes >= transport.maxUnackedBytes;

  /** Abandons the frames not yet written (closing a snapshot's reader). */
  const dropPendingFrames = (): void => {
    const frames = pendingFrames;
    pendingFrames = null;
    frames?.return();
  };

  /** Reading a snapshot's data failed: the snapshot is lost, Raft hears the peer is unreachable and retries. */
  const snapshotFailed = (error: unknown): void => {
    lastError = `reading a snapshot failed: ${error instanceof Error ? error.message : String(error)}`;
    lose(1);
  };

  /**
   * The obsolete-message rule (see `supersedingTerm`): whether `item`, not yet (wholly) written, has a term
   * below a message queued after it; if so it is counted as dropped.
   */
  const dropIfObsolete = (item: QueuedMessage): boolean => {
    if (!transport.dropObsoleteMessages || item.currentTerm === false || item.term >= highestTerm)
      return false;
    obsoleteMessages++;
    return true;
  };

  /** The next frame to write: from the batch being written, else from a new batch; `null` when all is written. */
  const nextFrame = (): Frame | null => {
    for (;;) {
      if (pendingFrames === null) {
        if (queue.size === 0) return null;
        const batch = queue.take(transport.maxBatchMessages, transport.maxBatchBytes);
        pendingFrames = toFrames(batch, transport.snapshotChunkBytes, snapshotFailed, dropIfObsolete);
      }
      const next = pendingFrames.next();
      if (next.done !== true) return next.value;
      pendingFrames = null;
    }
  };

  /** Writes queued messages, batched into frames, until the stream is {@link blocked}. */
  const flush = (): void => {
    flushScheduled = false;
    if (state.kind !== 'connecting' && state.kind !== 'open') return;
    const stream = state.stream;
    while (!blocked(stream)) {
      const frame = nextFrame();
      if (frame === null) return;
      if (!write(stream, frame)) {
        stream.waitingForDrain = true;
        stream.call.once('drain', () => {
          stream.waitingForDrain = false;
          flush();
        });
      }
    }
  };

  let state: SessionState = startStream();

  const scheduleFlush = (): void => {
    if (flushScheduled) return;
    flushScheduled = true;
    queueMicrotask(flush);
  };

  const settled = (): boolean =>
    (state.kind !== 'connecting' && state.kind !== 'open') ||
    (queue.size === 0 && pendingFrames === null && state.stream.unacked === 0);

  return {
    push: (message) => {
      if (state.kind === 'backoff' || state.kind === 'closed') {
        lose(1);
        return;
      }
      if (transport.dropObsoleteMessages && message.currentTerm !== false) {
        if (dropIfObsolete(message)) {
          // A message of a higher term to the peer was queued before it: it is obsolete already.
          if (message.type === 'snapshot') message.pieces.return?.();
          return;
        }
        if (message.term > highestTerm) {
          highestTerm = message.term;
          // Frames already written stay (the stream is ordered); the batch being framed checks as it goes.
          obsoleteMessages += queue.dropBelow(message.term);
        }
      }
      const result = queue.push(message, blocked(state.stream));
      if (result === 'dropped') {
        lose(1);
        return;
      }
      if (result === 'coalesced') coalescedHeartbeats++;
      if (!blocked(state.stream)) scheduleFlush();
    },
    stats: () => ({
      state: state.kind,
      queuedMessages: queue.size,
      queuedBytes: queue.bytes,
      unackedFrames: state.kind === 'connecting' || state.kind === 'open' ? state.stream.unacked : 0,
      unackedBytes: state.kind === 'connecting' || state.kind === 'open' ? state.stream.unackedBytes : 0,
      sentMessages,
      sentFrames,
      coalescedHeartbeats,
      obsoleteMessages,
      droppedMessages,
      streamsStarted,
      lastError,
    }),
    drain: async (deadline) => {
      while (!settled() && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    close: async (deadline) => {
      const current = state;
      state = { kind: 'closed' };
      queue.clear();
      dropPendingFrames();
      if (current.kind === 'backoff') clearTimeout(current.timer);
      if (current.kind === 'connecting' || current.kind === 'open') {
        const { call, ackTimer } = current.stream;
        if (ackTimer !== null) clearInterval(ackTimer);
        const ended = new Promise<void>((resolve) => call.once('status', () => resolve()));
        call.end();
        const wait = Math.max(0, deadline - performance.now());
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, wait);
        });
        await Promise.race([ended, timedOut]);
        clearTimeout(timer);
        call.cancel();
      }
      client?.close();
    },
  };
}
