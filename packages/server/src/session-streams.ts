import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { NodeId } from '@tsraft/core';
import { KvError, kvMalformedReason, type SessionKind } from '@tsraft/kv-client';
import type { SessionRequest, SessionResponse } from '@tsraft/proto';
import {
  deadlineMsOf,
  FORWARDED_BY_METADATA_KEY,
  type KvOperations,
  type RequestContext,
  type RequestRunner,
  requestDeadline,
} from './kv-operations.js';
import type { ServerMetrics } from './metrics.js';

/** A server-side `KV.Session` call. */
export type SessionCall = ServerDuplexStream<SessionRequest, SessionResponse>;

/** Options of {@link createSessionStreams}. */
export interface SessionStreamsOptions {
  readonly nodeId: NodeId;
  /** The operations each request runs, the same the unary methods run. */
  readonly operations: KvOperations;
  /** Runs one request under the member's admission control and metrics, as for a unary call. */
  readonly run: RequestRunner;
  /** Caps the time budget of every request, in ms. */
  readonly requestTimeoutMs: number;
  /** Requests in progress at once on one stream; more are answered RESOURCE_EXHAUSTED. */
  readonly maxInflightPerStream: number;
  readonly metrics: ServerMetrics;
}

/** The Session streams of a member. Made by {@link createSessionStreams}. */
export interface SessionStreams {
  /** The grpc-js handler of `KV.Session`. */
  readonly handle: (call: SessionCall) => void;
  /** Streams open now. */
  readonly open: number;
  /**
   * Ends every stream and refuses new ones: each request still in progress is answered first (a write
   * OUTCOME_UNKNOWN, a read UNAVAILABLE: it goes on, but its answer would come too late), then the stream ends
   * with UNAVAILABLE and the `tsraft-error-code` trailer, which tells the client that a request it has no
   * answer for was never read. Call it once requests in progress had their chance to finish. Idempotent.
   */
  close(): Promise<void>;
}

/** One open stream. */
interface OpenStream {
  readonly call: SessionCall;
  /** The requests in progress, by id, with their kind. */
  readonly pending: Map<bigint, SessionKind>;
  /** Aborted when the stream ends: its requests in progress stop at their next wait. */
  readonly gone: AbortController;
  /** The stream's own deadline (`Date.now()` ms; infinite when none), which caps its requests'. */
  readonly deadlineMs: number;
  /** Whether a member forwarded the stream: its writes are never forwarded again. */
  readonly forwarded: boolean;
  /** Set once the client half-closed: the stream ends (OK) when its last request is answered. */
  halfClosed: boolean;
  /** Set once the stream ended or was cancelled: nothing more is written to it. */
  ended: boolean;
}

/** The unary method name of each kind of request (metrics and messages use it). */
const METHOD: Readonly<Record<SessionKind, string>> = {
  put: 'Put',
  get: 'Get',
  delete: 'Delete',
  compareAndSwap: 'CompareAndSwap',
  openSession: 'OpenSession',
};

/**
 * Creates the handler of the `KV.Session` stream: each request runs through the same operation and the same
 * {@link RequestRunner} as the unary call of its kind (so forwarding, consistency, sessions, admission, metrics
 * and error codes are the same), concurrently with the others of the stream, and is answered once, under its
 * id, when it ends, whatever the order. A request that does not decode, names no operation, reuses the id
 * of one in progress or finds `maxInflightPerStream` in progress on its stream is answered with an error
 * under its id; the stream goes on. A stream that ends or is cancelled stops its requests at their next wait
 * and drops their answers.
 */
export function createSessionStreams(options: SessionStreamsOptions): SessionStreams {
  const { operations, run, metrics, nodeId } = options;
  const open = new Set<OpenStream>();
  let closed = false;

  const end = (stream: OpenStream, error?: KvError): void => {
    if (stream.ended) return;
    stream.ended = true;
    open.delete(stream);
    stream.gone.abort();
    stream.pending.clear();
    if (error === undefined) {
      stream.call.end();
      return;
    }
    const status = error.toStatus();
    stream.call.emit('error', { code: status.code, details: status.details, metadata: status.metadata });
  };

  const write = (stream: OpenStream, id: bigint, response: SessionResponse['response']): void => {
    if (stream.ended) return;
    stream.call.write({ $typeName: 'tsraft.kv.v1.SessionResponse', id, response } as SessionResponse);
  };

  const refuse = (stream: OpenStream, id: bigint, error: KvError): void =>
    write(stream, id, { case: 'error', value: error.toRequestError() });

  /** Answers request `id` unless it was answered already (at close), then ends a half-closed stream once idle. */
  const settle = (stream: OpenStream, id: bigint, response: SessionResponse['response']): void => {
    if (!stream.pending.delete(id)) return;
    write(stream, id, response);
    if (stream.halfClosed && stream.pending.size === 0) end(stream);
  };

  /** Runs `request` (of kind `request.case`) and answers it under `id` when it ends. */
  const start = (
    stream: OpenStream,
    id: bigint,
    request: Exclude<SessionRequest['request'], { case: undefined }>,
    context: RequestContext,
  ): void => {
    const kind = request.case;
    // The operation of the request's own kind: its request and response types go together.
    const operation = operations[kind] as (request: unknown, context: RequestContext) => Promise<unknown>;
    run(METHOD[kind], request.value, context, operation).then(
      (value) => settle(stream, id, { case: kind, value } as SessionResponse['response']),
      (error: KvError) => settle(stream, id, { case: 'error', value: error.toRequestError() }),
    );
  };

  const receive = (stream: OpenStream, message: SessionRequest): void => {
    if (stream.ended) return;
    const id = message.id;
    const malformed = kvMalformedReason(message);
    const request = message.request;
    if (malformed !== undefined || request.case === undefined) {
      const reason = malformed ?? 'it names no operation';
      metrics.requestRejected('Session', 'INVALID_ARGUMENT');
      refuse(stream, id, new KvError('INVALID_ARGUMENT', `malformed Session request ${id}: ${reason}`));
      return;
    }
    const method = METHOD[request.case];
    if (stream.pending.has(id)) {
      metrics.requestRejected(method, 'INVALID_ARGUMENT');
      refuse(
        stream,
        id,
        new KvError('INVALID_ARGUMENT', `request ${id} is already in progress on this stream`),
      );
      return;
    }
    if (stream.pending.size >= options.maxInflightPerStream) {
      metrics.requestRejected(method, 'RESOURCE_EXHAUSTED');
      refuse(
        stream,
        id,
        new KvError(
          'RESOURCE_EXHAUSTED',
          `${nodeId} has ${options.maxInflightPerStream} requests in progress on this stream; retry later`,
        ),
      );
      return;
    }
    stream.pending.set(id, request.case);
    const budget = message.timeoutMs > 0 ? Date.now() + message.timeoutMs : Number.POSITIVE_INFINITY;
    const context: RequestContext = {
      deadlineMs: requestDeadline(Math.min(budget, stream.deadlineMs), options.requestTimeoutMs),
      forwarded: stream.forwarded,
      signal: stream.gone.signal,
    };
    start(stream, id, request, context);
  };

  const handle = (call: SessionCall): void => {
    // grpc-js's own listener turns an emitted error into the stream's status; this one keeps it quiet here.
    call.on('error', () => {});
    const stream: OpenStream = {
      call,
      pending: new Map(),
      gone: new AbortController(),
      deadlineMs: deadlineMsOf(call.getDeadline()),
      forwarded: call.metadata.get(FORWARDED_BY_METADATA_KEY).length > 0,
      halfClosed: false,
      ended: false,
    };
    if (closed) {
      end(stream, new KvError('UNAVAILABLE', `${nodeId} is shutting down`));
      return;
    }
    open.add(stream);
    call.on('data', (message: SessionRequest) => receive(stream, message));
    call.on('end', () => {
      stream.halfClosed = true;
      if (stream.pending.size === 0) end(stream);
    });
    call.on('cancelled', () => {
      // The client is gone: nothing to answer; stop the work.
      stream.ended = true;
      open.delete(stream);
      stream.pending.clear();
      stream.gone.abort();
    });
  };

  return {
    handle,
    get open() {
      return open.size;
    },
    close: async () => {
      closed = true;
      // Answers of requests that finished just now are on their way (promise callbacks): let them go first.
      await new Promise((resolve) => setImmediate(resolve));
      for (const stream of [...open]) {
        for (const [id, kind] of stream.pending) {
          refuse(
            stream,
            id,
            kind === 'get'
              ? new KvError('UNAVAILABLE', `${nodeId} is shutting down; ask another member`)
              : new KvError(
                  'OUTCOME_UNKNOWN',
                  `${nodeId} is shutting down; the write may or may not have been applied`,
                ),
          );
        }
        end(stream, new KvError('UNAVAILABLE', `${nodeId} is shutting down`));
      }
    },
  };
}
