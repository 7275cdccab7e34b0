import type { ClientDuplexStream, StatusObject } from '@grpc/grpc-js';
import type { SessionRequest, SessionResponse } from '@tsraft/proto';
import type { KvChannel } from './kv-channel.js';
import { KvError } from './kv-error.js';
import { KV_SERVICE_DEFINITION } from './kv-service.js';
import type { CallOptions } from './kv-stub.js';
import { kvMalformedReason } from './unary-method.js';

/** The kinds of request a `Session` stream carries: the cases of `SessionRequest.request`. */
export type SessionKind = Exclude<SessionRequest['request']['case'], undefined>;
/** The request message of `kind`. */
export type SessionRequestOf<K extends SessionKind> = Extract<
  SessionRequest['request'],
  { case: K }
>['value'];
/** The response message of `kind`. */
export type SessionResponseOf<K extends SessionKind> = Extract<
  SessionResponse['response'],
  { case: K }
>['value'];

/** The requests of one endpoint, pipelined over one `Session` stream at a time. */
export interface SessionStream {
  /**
   * Sends one request and resolves with its answer; rejects with a {@link KvError}, as the unary call of the
   * same kind would: the server's error answer, `DEADLINE_EXCEEDED` at `opts.deadlineMs`, `CLOSED` when
   * `opts.signal` aborts, or, when the stream ends before the answer, the error its status maps to.
   */
  call<K extends SessionKind>(
    kind: K,
    request: SessionRequestOf<K>,
    opts: CallOptions,
  ): Promise<SessionResponseOf<K>>;
  /** Cancels the stream; requests awaiting an answer and later ones reject with `CLOSED`. Idempotent. */
  close(): void;
}

/** A request awaiting its answer. */
interface Pending {
  readonly kind: SessionKind;
  readonly resolve: (response: unknown) => void;
  readonly reject: (error: KvError) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** One `Session` call and the requests sent on it that await an answer. */
interface Live {
  readonly call: ClientDuplexStream<SessionRequest, SessionResponse>;
  /** By request id. */
  readonly pending: Map<number, Pending>;
  /** Set when the call ended (its status arrived, or it was broken off): no request goes on it any more. */
  ended: boolean;
  /** Set once the requests still pending were failed: nothing happens on this call any more. */
  finished: boolean;
  /** What ended the call: its error, else its status. */
  end: unknown;
}

/** The largest `timeout_ms` a request carries (uint32). */
const MAX_TIMEOUT_MS = 0xffff_ffff;
const SESSION_REQUEST_TYPE = 'tsraft.kv.v1.SessionRequest';

/**
 * Opens the request multiplexer of `channel`: one `Session` stream at a time, opened on the first request and
 * again on the first request after it ended (lazily, no reconnect loop of its own: the channel reconnects,
 * and a request sent while the endpoint is down fails fast, as a unary call would). Each request gets the
 * next id; answers may arrive in any order and are matched by id.
 *
 * When the stream ends with a status, the requests still awaiting an answer fail with the error that status
 * maps to, exactly as a unary call ended by the same status: a status a tsraft server ended the stream with
 * (with `tsraft-error-code`) means it never read them (it answers every request it read first), so e.g. a
 * tagged UNAVAILABLE says "not applied"; a lost connection (untagged UNAVAILABLE) says it may have been,
 * unless no connection was ever made. A request given up on (deadline, abort) is forgotten here; its late
 * answer is dropped.
 */
export function openSessionStream(channel: KvChannel): SessionStream {
  const address = channel.address;
  const method = KV_SERVICE_DEFINITION.Session;
  let current: Live | undefined;
  let nextId = 1;
  let closed = false;

  /** Removes request `id` of `live` and stops its timer and abort listener; the entry, if it was there. */
  function take(live: Live, id: number): Pending | undefined {
    const entry = live.pending.get(id);
    if (entry === undefined) return undefined;
    live.pending.delete(id);
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    if (entry.onAbort !== undefined) entry.signal?.removeEventListener('abort', entry.onAbort);
    return entry;
  }

  /** Stops sending on `live`: the next request opens a new stream. */
  function markEnded(live: Live): void {
    live.ended = true;
    if (current === live) current = undefined;
  }

  /** Fails every request still pending on `live` with `error` (once). */
  function finish(live: Live, error: KvError): void {
    markEnded(live);
    if (live.finished) return;
    live.finished = true;
    for (const id of [...live.pending.keys()]) take(live, id)?.reject(error);
  }

  /** The error the requests left unanswered by `live`'s end fail with. */
  function endError(live: Live): KvError {
    if (closed) return new KvError('CLOSED', `the stub for ${address} is closed`);
    const end = live.end as Partial<StatusObject> | undefined;
    if (end === undefined || end.code === 0) {
      // A server ends with OK only after answering everything: this one did not. Fate unknown.
      return new KvError('UNAVAILABLE', `the Session stream to ${address} ended before answering`);
    }
    return KvError.from(end);
  }

  function open(): Live {
    const call = channel.stream(method);
    const live: Live = { call, pending: new Map(), ended: false, finished: false, end: undefined };
    call.on('data', (response: SessionResponse) => {
      if (live.finished) return;
      const malformed = kvMalformedReason(response);
      if (malformed !== undefined) {
        // No telling which request this answered: give up on the stream, as a unary call gives up on its answer.
        finish(live, new KvError('INTERNAL', `malformed answer from ${address}: ${malformed}`));
        call.cancel();
        return;
      }
      const entry = take(live, Number(response.id));
      if (entry === undefined) return; // given up on (deadline, abort): the answer is dropped
      const answer = response.response;
      if (answer.case === 'error') entry.reject(KvError.from(answer.value));
      else if (answer.case === entry.kind) entry.resolve(answer.value);
      else {
        entry.reject(
          new KvError(
            'INTERNAL',
            `${address} answered ${answer.case ?? 'nothing'} to a ${entry.kind} request`,
          ),
        );
      }
    });
    // The error (a ServiceError, with the trailer) comes before the status; both before the answers the
    // stream buffered are all delivered, so the pending requests fail at `end`, once every answer is in.
    call.on('error', (error) => {
      live.end ??= error;
      markEnded(live);
    });
    call.on('status', (status: StatusObject) => {
      live.end ??= status;
      markEnded(live);
      setImmediate(() => finish(live, endError(live)));
    });
    call.on('end', () => finish(live, endError(live)));
    return live;
  }

  function call<K extends SessionKind>(
    kind: K,
    request: SessionRequestOf<K>,
    opts: CallOptions,
  ): Promise<SessionResponseOf<K>> {
    if (closed) return Promise.reject(new KvError('CLOSED', `the stub for ${address} is closed`));
    const signal = opts.signal;
    if (signal?.aborted) {
      return Promise.reject(
        new KvError('CLOSED', 'the call was aborted before it started', { cause: signal.reason }),
      );
    }
    let live: Live;
    try {
      live = current === undefined || current.ended ? open() : current;
    } catch (error) {
      return Promise.reject(KvError.from(error));
    }
    current = live;
    const id = nextId++;
    const timeoutMs = Number.isFinite(opts.deadlineMs)
      ? Math.min(MAX_TIMEOUT_MS, Math.max(1, Math.ceil(opts.deadlineMs - Date.now())))
      : 0;
    return new Promise<SessionResponseOf<K>>((resolve, reject) => {
      const entry: Pending = {
        kind,
        resolve: resolve as (response: unknown) => void,
        reject,
        timer: undefined,
        signal,
        onAbort: undefined,
      };
      live.pending.set(id, entry);
      if (timeoutMs > 0) {
        entry.timer = setTimeout(() => {
          take(live, id)?.reject(
            new KvError('DEADLINE_EXCEEDED', `no answer from ${address} within ${timeoutMs} ms`),
          );
        }, timeoutMs);
        entry.timer.unref();
      }
      if (signal !== undefined) {
        entry.onAbort = () =>
          take(live, id)?.reject(new KvError('CLOSED', 'the call was cancelled', { cause: signal.reason }));
        signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      // A plain object (no `create`): the request message goes in as it is, encoded once by the serializer.
      live.call.write({
        $typeName: SESSION_REQUEST_TYPE,
        id: BigInt(id),
        timeoutMs,
        request: { case: kind, value: request },
      } as SessionRequest);
    });
  }

  return {
    call,
    close: () => {
      if (closed) return;
      closed = true;
      const live = current;
      current = undefined;
      if (live !== undefined) {
        finish(live, new KvError('CLOSED', `the stub for ${address} is closed`));
        live.call.cancel();
      }
    },
  };
}
