import type { Message, NodeId } from '@tsraft/core';
import type { Scheduled } from './event-queue.js';
import type { NodeRequest } from './node-request.js';

/** A node's tick timer fired (each node ticks at its own interval: clock drift). */
export interface TickEvent extends Scheduled {
  readonly kind: 'tick';
  readonly node: number;
  /** The incarnation that scheduled it; a crash makes it stale. */
  readonly gen: number;
}

/** A message reaches its destination (unless the link is cut or the node is down by then). */
export interface DeliverEvent extends Scheduled {
  readonly kind: 'deliver';
  readonly message: Message;
  readonly from: number;
  readonly to: number;
  /** The sender's incarnation when it sent the message (for transport reports back to it). */
  readonly fromGen: number;
  /** Whether this is the network's duplicate of a message already scheduled. */
  readonly duplicate: boolean;
}

/** A node's pending stable-storage write completes. */
export interface PersistEvent extends Scheduled {
  readonly kind: 'persist';
  readonly node: number;
  readonly gen: number;
}

/** The transport tells a node about a message it sent: peer unreachable, snapshot delivered or lost. */
export interface ReportEvent extends Scheduled {
  readonly kind: 'report';
  readonly node: number;
  readonly gen: number;
  readonly peer: NodeId;
  readonly report: 'unreachable' | 'snapshot-ok' | 'snapshot-failed';
}

/** A client request (or a scripted one) reaches a node. */
export interface RequestEvent extends Scheduled {
  readonly kind: 'request';
  readonly node: number;
  readonly request: NodeRequest;
}

/** Anything else the simulation scheduled: client actions, fault actions, restarts, resumes. */
export interface CallEvent extends Scheduled {
  readonly kind: 'call';
  /** A small integer naming the action, mixed into the trace digest. */
  readonly code: number;
  /** Renders the action for the trace. */
  readonly label: string | (() => string);
  readonly run: () => void;
  /** Set by `cancel()`: the event is skipped when it comes due (and is not counted as a step). */
  cancelled: boolean;
}

/** Every event the simulator processes; processing one is one "step". */
export type SimEvent = TickEvent | DeliverEvent | PersistEvent | ReportEvent | RequestEvent | CallEvent;
