import { Metadata, status } from '@grpc/grpc-js';

/**
 * The closed set of reasons a gRPC transport call fails.
 *
 * | code | gRPC status | retryable | meaning |
 * |---|---|---|---|
 * | `UNREACHABLE` | UNAVAILABLE | yes | the peer cannot be connected to, or went away mid-call |
 * | `DEADLINE_EXCEEDED` | DEADLINE_EXCEEDED | yes | the call's deadline (derived from the election timeout) passed |
 * | `OVERLOADED` | RESOURCE_EXHAUSTED | yes | the peer's admission control refused the call (too many calls or bytes in flight) |
 * | `MESSAGE_TOO_LARGE` | RESOURCE_EXHAUSTED | no | the message exceeds the receive limit on one side |
 * | `MALFORMED` | INVALID_ARGUMENT | no | the bytes are not a valid RaftMessage, or a snapshot's chunks do not fit together |
 * | `WRONG_CLUSTER` | FAILED_PRECONDITION | no | the message names another cluster id |
 * | `UNKNOWN_NODE` | PERMISSION_DENIED | no | the sender is not a member, or the receiver is not who the message is for |
 * | `UNAUTHENTICATED` | UNAUTHENTICATED | no | the peer's credentials were refused |
 * | `CANCELLED` | CANCELLED | no | this side cancelled the call (shutdown, or Raft no longer needs it) |
 * | `SHUTTING_DOWN` | UNAVAILABLE | yes | the receiver is draining before it stops |
 * | `INTERNAL` | INTERNAL | no | anything else: a bug on one side |
 */
export type TransportErrorCode =
  | 'UNREACHABLE'
  | 'DEADLINE_EXCEEDED'
  | 'OVERLOADED'
  | 'MESSAGE_TOO_LARGE'
  | 'MALFORMED'
  | 'WRONG_CLUSTER'
  | 'UNKNOWN_NODE'
  | 'UNAUTHENTICATED'
  | 'CANCELLED'
  | 'SHUTTING_DOWN'
  | 'INTERNAL';

const GRPC_STATUS: Readonly<Record<TransportErrorCode, status>> = {
  UNREACHABLE: status.UNAVAILABLE,
  DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
  OVERLOADED: status.RESOURCE_EXHAUSTED,
  MESSAGE_TOO_LARGE: status.RESOURCE_EXHAUSTED,
  MALFORMED: status.INVALID_ARGUMENT,
  WRONG_CLUSTER: status.FAILED_PRECONDITION,
  UNKNOWN_NODE: status.PERMISSION_DENIED,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  CANCELLED: status.CANCELLED,
  SHUTTING_DOWN: status.UNAVAILABLE,
  INTERNAL: status.INTERNAL,
};

const RETRYABLE: ReadonlySet<TransportErrorCode> = new Set([
  'UNREACHABLE',
  'DEADLINE_EXCEEDED',
  'OVERLOADED',
  'SHUTTING_DOWN',
]);

/** Trailer that carries the exact {@link TransportErrorCode}, since several codes share a gRPC status. */
export const TRANSPORT_ERROR_CODE_KEY = 'tsraft-error-code';

/** A status object grpc-js accepts from a handler or interceptor. */
export interface GrpcStatusObject {
  readonly code: status;
  readonly details: string;
  readonly metadata: Metadata;
}

/** The one error type of tsraft's gRPC transports; match on `code`, retry when `retryable`. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  readonly code: TransportErrorCode;

  constructor(code: TransportErrorCode, message: string, options: { readonly cause?: unknown } = {}) {
    super(`${code}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }

  /** Whether sending again later (the same message or a newer one) can succeed. */
  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }

  /** The gRPC status code this error is answered with. */
  get grpcCode(): status {
    return GRPC_STATUS[this.code];
  }

  /** The status a server sends for this error; the exact code travels in a trailer. */
  toStatus(): GrpcStatusObject {
    const metadata = new Metadata();
    metadata.set(TRANSPORT_ERROR_CODE_KEY, this.code);
    return { code: this.grpcCode, details: this.message, metadata };
  }

  /**
   * Normalises anything thrown, including a grpc-js `ServiceError` (a status code, details and trailers),
   * into a TransportError, keeping the original as `cause`.
   */
  /** Maps a gRPC status (and the tsraft trailer, when present) to a TransportError. */
  static fromStatus(s: StatusLike): TransportError {
    const details = s.details ?? '';
    const tagged = s.metadata?.get(TRANSPORT_ERROR_CODE_KEY)[0];
    if (isCode(tagged)) return new TransportError(tagged, stripCode(details, tagged), { cause: s });
    return new TransportError(codeForStatus(s.code, details), details || `gRPC status ${s.code}`, {
      cause: s,
    });
  }

  static from(reason: unknown): TransportError {
    if (reason instanceof TransportError) return reason;
    if (isStatusLike(reason)) return TransportError.fromStatus(reason);
    const message = reason instanceof Error ? reason.message : String(reason);
    return new TransportError('INTERNAL', message, { cause: reason });
  }
}

/** A gRPC status as grpc-js reports it: a code, details and (optionally) trailers. */
export interface StatusLike {
  readonly code: number;
  readonly details?: string;
  readonly metadata?: Metadata;
}

function isStatusLike(value: unknown): value is StatusLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'number' &&
    ((value as { metadata?: unknown }).metadata instanceof Metadata ||
      typeof (value as { details?: unknown }).details === 'string')
  );
}

function isCode(value: unknown): value is TransportErrorCode {
  return typeof value === 'string' && Object.hasOwn(GRPC_STATUS, value);
}

function stripCode(details: string, code: TransportErrorCode): string {
  return details.startsWith(`${code}: `) ? details.slice(code.length + 2) : details;
}

/** The {@link TransportErrorCode} for a gRPC status that did not come from a tsraft server. */
export function codeForStatus(code: number, details = ''): TransportErrorCode {
  switch (code) {
    case status.UNAVAILABLE:
      return 'UNREACHABLE';
    case status.DEADLINE_EXCEEDED:
      return 'DEADLINE_EXCEEDED';
    case status.RESOURCE_EXHAUSTED:
      return /larger than max/i.test(details) ? 'MESSAGE_TOO_LARGE' : 'OVERLOADED';
    case status.INVALID_ARGUMENT:
      return 'MALFORMED';
    case status.FAILED_PRECONDITION:
      return 'WRONG_CLUSTER';
    case status.PERMISSION_DENIED:
      return 'UNKNOWN_NODE';
    case status.UNAUTHENTICATED:
      return 'UNAUTHENTICATED';
    case status.CANCELLED:
      return 'CANCELLED';
    default:
      return 'INTERNAL';
  }
}
