import type { NodeId } from '../entry.js';
import type { Message } from '../message.js';

/** What a transport calls back into. */
export interface TransportHandler {
  /** A message arrived from a peer. */
  onMessage(message: Message): void;
  /** A message to `peer` could not be delivered (the core slows down replication to it). */
  onUnreachable(peer: NodeId): void;
}

/**
 * Moves messages between nodes. Delivery is best effort: messages may be lost, duplicated or reordered,
 * and Raft recovers from all three. A transport never throws from `send` because a peer is down.
 */
export interface Transport {
  /** Starts delivering inbound messages to `handler`. */
  start(handler: TransportHandler): Promise<void>;
  /** Sends one message to `message.to`. */
  send(message: Message): void;
  /** Stops sending and receiving and releases resources. Idempotent. */
  close(): Promise<void>;
}
