import type { Message } from '@tsraft/core';
import type { RaftMessage } from '@tsraft/proto';

interface QueuedBase {
  /** What the message weighs in the queue's byte budget (an estimate of its encoded size). */
  readonly bytes: number;
  /** The sender's term. */
  readonly term: number;
  /**
   * False when `term` is not the sender's current term (a pre-vote message): such a message is never
   * obsolete and makes nothing obsolete (see `supersedingTerm`). Default true.
   */
  readonly currentTerm?: boolean;
}

/** A message other than a snapshot, waiting to be written to a peer's stream, already in its wire form. */
export interface QueuedEnvelope extends QueuedBase {
  /** The core message's type. */
  readonly type: Exclude<Message['type'], 'snapshot'>;
  /** The wire envelope. */
  readonly proto: RaftMessage;
}

/**
 * A snapshot waiting to be written: its wire pieces, produced lazily from its data as they are written
 * (an iterator consumed once; reading the data may throw, which fails the snapshot).
 */
export interface QueuedSnapshot extends QueuedBase {
  readonly type: 'snapshot';
  /** The snapshot's data size in bytes (declared, not read). */
  readonly byteLength: number;
  /** The pieces, in order, the last one `done`. */
  readonly pieces: Iterator<RaftMessage>;
}

/** A message waiting to be written to a peer's stream. */
export type QueuedMessage = QueuedEnvelope | QueuedSnapshot;

/** What {@link PeerQueue.push} did with a message. */
export type PushResult =
  /** Appended at the end of the queue. */
  | 'queued'
  /** Replaced a queued heartbeat of the same term, which it supersedes. */
  | 'coalesced'
  /** Refused: the queue is full. The caller reports the peer unreachable. */
  | 'dropped';

/**
 * The bounded queue of messages for one peer, in the order they were sent.
 *
 * Invariant: `size <= maxMessages`, and `bytes <= maxBytes` except for a single queued snapshot, which is
 * admitted whatever its size when no other snapshot is queued.
 * Under pressure, a newer heartbeat replaces a queued one of the same or an earlier term in place: its
 * commit index is newer and its ReadIndex context acknowledges every earlier round, so nothing is lost.
 */
export interface PeerQueue {
  /**
   * Adds a message; when `underPressure` (the stream is not keeping up), a heartbeat replaces a queued one.
   * When full, a queued heartbeat is evicted first; otherwise the message is dropped.
   */
  push(message: QueuedMessage, underPressure: boolean): PushResult;
  /** Removes and returns the next messages, at most `maxMessages` and about `maxBytes` (always at least one). */
  take(maxMessages: number, maxBytes: number): QueuedMessage[];
  /**
   * Removes the messages of a term below `term` (those with `currentTerm: false` stay), closing a removed
   * snapshot's pieces, and returns how many it removed.
   */
  dropBelow(term: number): number;
  /** Empties the queue and returns how many messages it held. */
  clear(): number;
  /** Messages queued. */
  readonly size: number;
  /** Bytes queued. */
  readonly bytes: number;
}

/** Options of {@link createPeerQueue}. */
export interface PeerQueueOptions {
  /** The most messages the queue holds. */
  readonly maxMessages: number;
  /** The most bytes the queue holds (one snapshot excepted). */
  readonly maxBytes: number;
}

/** Creates an empty {@link PeerQueue}. */
export function createPeerQueue(options: PeerQueueOptions): PeerQueue {
  let items: QueuedMessage[] = [];
  let bytes = 0;
  let snapshots = 0;

  const heartbeatIndex = (): number => items.findIndex((m) => m.type === 'heartbeat');

  const remove = (index: number): void => {
    const [removed] = items.splice(index, 1);
    if (removed !== undefined) bytes -= removed.bytes;
  };

  const fits = (message: QueuedMessage): boolean => {
    if (items.length + 1 > options.maxMessages) return false;
    if (message.type === 'snapshot' && snapshots === 0) return true;
    return bytes + message.bytes <= options.maxBytes;
  };

  return {
    push: (message, underPressure) => {
      if (message.type === 'heartbeat' && underPressure) {
        // Scan only the tail: a heartbeat is sent every few ticks, so a queued one is near the end.
        for (let i = items.length - 1; i >= Math.max(0, items.length - 64); i--) {
          const queued = items[i]!;
          if (queued.type === 'heartbeat' && queued.term <= message.term) {
            bytes += message.bytes - queued.bytes;
            items[i] = message;
            return 'coalesced';
          }
        }
      }
      if (!fits(message)) {
        const heartbeat = heartbeatIndex();
        if (heartbeat >= 0) remove(heartbeat);
        if (!fits(message)) return 'dropped';
      }
      items.push(message);
      bytes += message.bytes;
      if (message.type === 'snapshot') snapshots++;
      return 'queued';
    },
    take: (maxMessages, maxBytes) => {
      let count = 0;
      let taken = 0;
      while (count < items.length && count < maxMessages) {
        const next = items[count]!;
        if (count > 0 && taken + next.bytes > maxBytes) break;
        taken += next.bytes;
        count++;
      }
      const batch = count === items.length ? items : items.slice(0, count);
      items = count === items.length ? [] : items.slice(count);
      bytes -= taken;
      for (const m of batch) if (m.type === 'snapshot') snapshots--;
      return batch;
    },
    dropBelow: (term) => {
      const obsolete = (m: QueuedMessage): boolean => m.currentTerm !== false && m.term < term;
      if (!items.some(obsolete)) return 0;
      const kept: QueuedMessage[] = [];
      for (const m of items) {
        if (!obsolete(m)) {
          kept.push(m);
          continue;
        }
        bytes -= m.bytes;
        if (m.type === 'snapshot') {
          snapshots--;
          m.pieces.return?.();
        }
      }
      const removed = items.length - kept.length;
      items = kept;
      return removed;
    },
    clear: () => {
      const n = items.length;
      items = [];
      bytes = 0;
      snapshots = 0;
      return n;
    },
    get size() {
      return items.length;
    },
    get bytes() {
      return bytes;
    },
  };
}
