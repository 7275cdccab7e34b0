import type { NodeId } from '../entry.js';
import { RaftError } from '../errors.js';
import type { Message } from '../message.js';
import type { Transport, TransportHandler } from '../node/transport.js';
import { SnapshotData } from '../snapshot-data.js';

/**
 * A set of in-process nodes that reach each other through {@link MemoryNetwork.transport}, with controls
 * to partition them. For tests, examples and demos.
 *
 * Delivery is asynchronous (a message sent now arrives on a later turn of the event loop, never inside
 * `send`) and in order on each link. Messages are deep-copied (snapshots chunk by chunk), so nodes never share objects.
 * A message to a node that is unknown, not started, closed, isolated or cut off is dropped and its sender's
 * `onUnreachable` is called (asynchronously too).
 */
export interface MemoryNetwork {
  /**
   * The transport of node `id`. One open transport per id: asking again for an id whose transport is
   * still open throws `INVALID_ARGUMENT`; after it is closed a new one may be made (a restarted node).
   */
  transport(id: NodeId): Transport;
  /** Cuts every link to and from `id` until `heal()`. */
  isolate(id: NodeId): void;
  /** Cuts the links between `a` and `b`, in both directions, until `heal()`. */
  cut(a: NodeId, b: NodeId): void;
  /** Restores every link that `isolate` and `cut` removed. */
  heal(): void;
  /** Number of messages delivered and dropped so far (for tests and demos). */
  stats(): { readonly delivered: number; readonly dropped: number };
}

type Delivery =
  | { readonly kind: 'message'; readonly message: Message }
  | { readonly kind: 'unreachable'; readonly from: NodeId; readonly peer: NodeId };

interface Endpoint {
  handler: TransportHandler | null;
  closed: boolean;
}

/** Creates an empty {@link MemoryNetwork}. */
export function createMemoryNetwork(): MemoryNetwork {
  const endpoints = new Map<NodeId, Endpoint>();
  const isolated = new Set<NodeId>();
  /** Cut links, each stored as both `a→b` and `b→a`. */
  const cuts = new Set<string>();
  /** Invariant: messages are delivered in the order they were queued, so each link stays in order. */
  let queue: Delivery[] = [];
  let flushScheduled = false;
  let delivered = 0;
  let dropped = 0;

  const link = (from: NodeId, to: NodeId): string => JSON.stringify([from, to]);

  /** The endpoint `to` if a message from `from` can reach it now. */
  const reachable = (from: NodeId, to: NodeId): Endpoint | null => {
    if (isolated.has(from) || isolated.has(to) || cuts.has(link(from, to))) return null;
    const endpoint = endpoints.get(to);
    if (endpoint === undefined || endpoint.closed || endpoint.handler === null) return null;
    return endpoint;
  };

  const schedule = (delivery: Delivery): void => {
    queue.push(delivery);
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(flush);
  };

  const reportUnreachable = (from: NodeId, peer: NodeId): void => {
    dropped++;
    schedule({ kind: 'unreachable', from, peer });
  };

  /** Delivers what was queued before this turn; what the handlers send meanwhile waits for the next one. */
  const flush = (): void => {
    flushScheduled = false;
    const batch = queue;
    queue = [];
    let failure: { error: unknown } | null = null;
    for (const delivery of batch) {
      try {
        if (delivery.kind === 'unreachable') {
          const sender = endpoints.get(delivery.from);
          if (sender !== undefined && !sender.closed) sender.handler?.onUnreachable(delivery.peer);
          continue;
        }
        const { message } = delivery;
        const target = reachable(message.from, message.to);
        if (target === null) {
          // The link went down while the message was in flight.
          reportUnreachable(message.from, message.to);
          continue;
        }
        delivered++;
        target.handler?.onMessage(message);
      } catch (error) {
        failure ??= { error };
      }
    }
    // A handler must not throw; surface it instead of hiding it, after the rest of the batch is delivered.
    if (failure !== null) throw failure.error;
  };

  const transport = (id: NodeId): Transport => {
    const existing = endpoints.get(id);
    if (existing !== undefined && !existing.closed) {
      throw new RaftError('INVALID_ARGUMENT', `a transport for ${id} is already open on this network`);
    }
    const endpoint: Endpoint = { handler: null, closed: false };
    endpoints.set(id, endpoint);
    return {
      start: async (handler) => {
        if (endpoint.closed) throw new RaftError('STOPPED', `the transport of ${id} is closed`);
        endpoint.handler = handler;
      },
      send: (message) => {
        if (endpoint.closed) return;
        if (message.from !== id) {
          throw new RaftError(
            'INVALID_ARGUMENT',
            `transport of ${id} cannot send a message from ${message.from}`,
          );
        }
        if (reachable(id, message.to) === null) {
          reportUnreachable(id, message.to);
          return;
        }
        let copy: Message;
        try {
          copy = cloneMessage(message);
        } catch {
          // The snapshot's bytes could not be read (say, its file is gone): a lost message.
          reportUnreachable(id, message.to);
          return;
        }
        schedule({ kind: 'message', message: copy });
      },
      close: async () => {
        endpoint.closed = true;
        endpoint.handler = null;
      },
    };
  };

  return {
    transport,
    isolate: (id) => {
      isolated.add(id);
    },
    cut: (a, b) => {
      cuts.add(link(a, b));
      cuts.add(link(b, a));
    },
    heal: () => {
      isolated.clear();
      cuts.clear();
    },
    stats: () => ({ delivered, dropped }),
  };
}

/**
 * A deep copy of `message`, so that nodes never share objects. A snapshot's bytes are read chunk by chunk
 * and copied into a new {@link SnapshotData} (structured cloning would drop its class).
 */
function cloneMessage(message: Message): Message {
  if (message.type !== 'snapshot') return structuredClone(message);
  const chunks = [...message.snapshot.data.chunks()].map((chunk) => chunk.slice());
  return {
    ...message,
    snapshot: { meta: structuredClone(message.snapshot.meta), data: SnapshotData.fromChunks(chunks) },
  };
}
