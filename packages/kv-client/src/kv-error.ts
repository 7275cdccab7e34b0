import { create, isMessage } from '@bufbuild/protobuf';
import { Metadata, status } from '@grpc/grpc-js';
import { type RequestError, RequestErrorSchema } from '@tsraft/proto';

/**
 * The closed set of reasons a KV call fails.
 *
 * | code | gRPC status | retryable | meaning |
 * |---|---|---|---|
 * | `UNAVAILABLE` | UNAVAILABLE | yes | no leader reachable, or the member cannot be connected to |
 * | `NOT_LEADER` | UNAVAILABLE | yes | the member is not the leader and could not forward; not applied |
 * | `DEADLINE_EXCEEDED` | DEADLINE_EXCEEDED | yes | the call outlived its deadline; a write may or may not have been applied |
 * | `RESOURCE_EXHAUSTED` | RESOURCE_EXHAUSTED | yes | too many requests in flight; not applied |
 * | `SESSION_EXPIRED` | FAILED_PRECONDITION | no | the write's session is gone; open a new one |
 * | `STALE_REQUEST` | FAILED_PRECONDITION | no | the sequence is below what the session still remembers |
 * | `OUTCOME_UNKNOWN` | UNKNOWN | yes | a write that may or may not have been applied; retry with the same sequence |
 * | `INVALID_ARGUMENT` | INVALID_ARGUMENT | no | a malformed or invalid request |
 * | `INTERNAL` | INTERNAL | no | a bug on one side |
 * | `CLOSED` | CANCELLED | no | the client was closed, or the caller aborted the operation |
 * | `CONF_CHANGE_IN_PROGRESS` | ABORTED | yes | a membership change is not applied yet (one at a time); not applied |
 * | `CONFIG_MISMATCH` | FAILED_PRECONDITION | no | the membership is not the one the change expected; not applied |
 * | `NOT_CAUGHT_UP` | FAILED_PRECONDITION | no | the learner to promote is too far behind the leader; not applied |
 */
export type KvErrorCode =
  | 'UNAVAILABLE'
  | 'NOT_LEADER'
  | 'DEADLINE_EXCEEDED'
  | 'RESOURCE_EXHAUSTED'
  | 'SESSION_EXPIRED'
  | 'STALE_REQUEST'
  | 'OUTCOME_UNKNOWN'
  | 'INVALID_ARGUMENT'
  | 'INTERNAL'
  | 'CLOSED'
  | 'CONF_CHANGE_IN_PROGRESS'
  | 'CONFIG_MISMATCH'
  | 'NOT_CAUGHT_UP';

/** Trailing metadata key carrying the exact {@link KvErrorCode}, since several codes share a gRPC status. */
export const KV_ERROR_CODE_KEY = 'tsraft-error-code';

const GRPC_STATUS: Readonly<Record<KvErrorCode, status>> = {
  UNAVAILABLE: status.UNAVAILABLE,
  NOT_LEADER: status.UNAVAILABLE,
  DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
  SESSION_EXPIRED: status.FAILED_PRECONDITION,
  STALE_REQUEST: status.FAILED_PRECONDITION,
  OUTCOME_UNKNOWN: status.UNKNOWN,
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  INTERNAL: status.INTERNAL,
  CLOSED: status.CANCELLED,
  CONF_CHANGE_IN_PROGRESS: status.ABORTED,
  CONFIG_MISMATCH: status.FAILED_PRECONDITION,
  NOT_CAUGHT_UP: status.FAILED_PRECONDITION,
};

const RETRYABLE: ReadonlySet<KvErrorCode> = new Set<KvErrorCode>([
  'UNAVAILABLE',
  'NOT_LEADER',
  'DEADLINE_EXCEEDED',
  'RESOURCE_EXHAUSTED',
  'OUTCOME_UNKNOWN',
  'CONF_CHANGE_IN_PROGRESS',
]);

/** Options of the {@link KvError} constructor. */
export interface KvErrorOptions {
  /** What caused it (kept as `cause`). */
  readonly cause?: unknown;
  /** Overrides {@link KvError.outcomeUnknown}; default: true only for `OUTCOME_UNKNOWN`. */
  readonly outcomeUnknown?: boolean;
}

/** The one error type of the KV client and stub; match on `code`. */
export class KvError extends Error {
  override readonly name = 'KvError';
  readonly code: KvErrorCode;
  /** The `@grpc/grpc-js` status this error travels as. */
  readonly grpcCode: number;
  /** Whether retrying can succeed; for a write, only with the same session sequence. */
  readonly retryable: boolean;
  /** A write that may or may not have been applied. */
  readonly outcomeUnknown: boolean;

  constructor(code: KvErrorCode, message: string, options: KvErrorOptions = {}) {
    super(`${code}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.grpcCode = GRPC_STATUS[code];
    this.retryable = RETRYABLE.has(code);
    this.outcomeUnknown = options.outcomeUnknown ?? code === 'OUTCOME_UNKNOWN';
  }

  /** The message without the `CODE: ` prefix, as sent in a status's details. */
  get reason(): string {
    return this.message.slice(this.code.length + 2);
  }

  /** For servers: the status to answer with; the exact code travels in the {@link KV_ERROR_CODE_KEY} trailer. */
  toStatus(): { code: number; details: string; metadata: Metadata } {
    const metadata = new Metadata();
    metadata.set(KV_ERROR_CODE_KEY, this.code);
    return { code: this.grpcCode, details: this.message, metadata };
  }

  /**
   * For servers of the `Session` stream: the error answer to one request, carrying what {@link toStatus}
   * would (the exact code, the gRPC status, the message).
   */
  toRequestError(): RequestError {
    return create(RequestErrorSchema, { code: this.code, status: this.grpcCode, message: this.message });
  }

  /**
   * Normalises anything thrown: a KvError is returned as is; a grpc-js `ServiceError` (or any status-like
   * object) becomes the code in its {@link KV_ERROR_CODE_KEY} trailer, else the one its gRPC status maps to;
   * a `RequestError` (the error answer on a `Session` stream) likewise, as the status it stands for;
   * anything else becomes `INTERNAL`. The original is kept as `cause`.
   */
  static from(error: unknown): KvError {
    if (error instanceof KvError) return error;
    if (isMessage(error, RequestErrorSchema)) {
      // As the unary call's status: the same code, retryability and "tagged by a server" reading.
      const metadata = new Metadata();
      if (error.code !== '') metadata.set(KV_ERROR_CODE_KEY, error.code);
      return KvError.from({ code: error.status, details: error.message, metadata });
    }
    if (isStatusLike(error)) {
      const details = error.details ?? '';
      const tagged = error.metadata?.get(KV_ERROR_CODE_KEY)[0];
      if (isKvErrorCode(tagged)) return new KvError(tagged, stripCode(details, tagged), { cause: error });
      return new KvError(kvCodeForStatus(error.code, details), details || `gRPC status ${error.code}`, {
        cause: error,
      });
    }
    const message = error instanceof Error ? error.message : String(error);
    return new KvError('INTERNAL', message, { cause: error });
  }
}

/** Whether a KvError came from a status whose trailer named its code, i.e. from a tsraft KV server. */
export function isTaggedByServer(error: KvError): boolean {
  const cause = error.cause;
  return isStatusLike(cause) && isKvErrorCode(cause.metadata?.get(KV_ERROR_CODE_KEY)[0]);
}

/** Whether `value` is one of the {@link KvErrorCode}s. */
export function isKvErrorCode(value: unknown): value is KvErrorCode {
  return typeof value === 'string' && Object.hasOwn(GRPC_STATUS, value);
}

/** The {@link KvErrorCode} for a gRPC status that carries no tsraft trailer. */
export function kvCodeForStatus(code: number, details = ''): KvErrorCode {
  switch (code) {
    case status.UNAVAILABLE:
      return 'UNAVAILABLE';
    case status.DEADLINE_EXCEEDED:
      return 'DEADLINE_EXCEEDED';
    case status.RESOURCE_EXHAUSTED:
      // grpc-js refusing an oversized message locally: retrying cannot help.
      return /larger than max/i.test(details) ? 'INVALID_ARGUMENT' : 'RESOURCE_EXHAUSTED';
    case status.FAILED_PRECONDITION:
      return 'SESSION_EXPIRED';
    case status.UNKNOWN:
      return 'OUTCOME_UNKNOWN';
    case status.INVALID_ARGUMENT:
      return 'INVALID_ARGUMENT';
    case status.CANCELLED:
      return 'CLOSED';
    case status.ABORTED:
      return 'CONF_CHANGE_IN_PROGRESS';
    default:
      return 'INTERNAL';
  }
}

interface StatusLike {
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

function stripCode(details: string, code: KvErrorCode): string {
  return details.startsWith(`${code}: `) ? details.slice(code.length + 2) : details;
}
