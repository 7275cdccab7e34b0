import type { NodeId } from '@tsraft/core';
import { type Logger, pino } from 'pino';
import type { TransportErrorCode } from './transport-error.js';

/** The structured logger tsraft's gRPC code writes to: a pino logger (or anything with its shape). */
export type GrpcLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** A pino logger at level `warn`, named `tsraft-grpc`: the default when none is given. */
export function createDefaultLogger(): GrpcLogger {
  return pino({ name: 'tsraft-grpc', level: 'warn' });
}

/** Which side of a call an event is seen from. */
export type CallSide = 'client' | 'server';

/** A finished call, as seen by one side. */
export interface CallRecord {
  readonly side: CallSide;
  /** The method's full path, e.g. `/tsraft.raft.v1.Raft/Send`. */
  readonly method: string;
  /** The node at the other end, when known (the caller's id on the server, the target on the client). */
  readonly peer: NodeId | null;
  /** `OK`, or the {@link TransportErrorCode} the call failed with. */
  readonly outcome: 'OK' | TransportErrorCode;
  readonly durationMs: number;
}

/**
 * Metrics hooks, called synchronously on the hot path: keep them cheap (increment a counter, observe a
 * histogram). Every hook is optional; an exception thrown by a hook is ignored.
 */
export interface GrpcMetrics {
  /** A call ended, successfully or not. */
  onCallFinished?(record: CallRecord): void;
  /** The server refused a call before its handler ran (admission control, cluster check, malformed bytes). */
  onCallRejected?(method: string, peer: NodeId | null, code: TransportErrorCode): void;
}

/** Calls a metrics hook, ignoring anything it throws. */
export function emitMetric<A extends unknown[]>(hook: ((...args: A) => void) | undefined, ...args: A): void {
  if (hook === undefined) return;
  try {
    hook(...args);
  } catch {
    // A failing metrics hook must not break the transport.
  }
}
