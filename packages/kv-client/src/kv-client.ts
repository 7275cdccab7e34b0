import { create } from '@bufbuild/protobuf';
import {
  CompareAndSwapRequestSchema,
  DeleteRequestSchema,
  GetRequestSchema,
  OpenSessionRequestSchema,
  PutRequestSchema,
  ReadConsistency,
  type ResponseHeader,
  type SessionRef,
  StatusRequestSchema,
} from '@tsraft/proto';
import { linkAbort, sleep } from './abort.js';
import { isTaggedByServer, KvError, type KvErrorCode } from './kv-error.js';
import { createKvSession, type KvSession } from './kv-session.js';
import { type CallOptions, createKvStub, type KvCallMode, type KvStub } from './kv-stub.js';
import type { KvTlsFiles } from './kv-tls.js';

/** How a `get` is served: see `ReadConsistency` in kv.proto. */
export type ReadConsistencyMode = 'linearizable' | 'lease' | 'stale';

/** Options of {@link createKvClient}. */
export interface KvClientOptions {
  /** `host:port` of any members of the cluster; at least one. */
  readonly endpoints: readonly string[];
  /** Time budget of one operation, across its retries, in milliseconds. Default 5 000. */
  readonly timeoutMs?: number;
  /** TLS material; absent means plaintext. */
  readonly tls?: KvTlsFiles;
  /**
   * How requests travel to each endpoint: `unary` (the default), one gRPC call per attempt; `stream`, every
   * attempt pipelined over one long-lived `Session` stream per endpoint, which costs the server and the
   * client less per request. Everything else (sessions, retries, deadlines, aborts, endpoint choice, errors)
   * is the same. `status` is always a unary call.
   */
  readonly calls?: KvCallMode;
}

/** Per-operation options. */
export interface KvOperationOptions {
  /** Overrides {@link KvClientOptions.timeoutMs} for this operation. */
  readonly timeoutMs?: number;
  /** Aborts the operation; it then rejects with `CLOSED`. */
  readonly signal?: AbortSignal;
}

/** One member's own view of the cluster, as `status` reports it. */
export interface MemberStatus {
  readonly memberId: string;
  /** `leader`, `follower`, `candidate` or `pre-candidate`. */
  readonly role: string;
  readonly term: number;
  /** The leader this member knows of, if any. */
  readonly leaderId: string | undefined;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  /** Hex digest of the state at `appliedIndex`: equal at equal indexes means equal states. */
  readonly stateDigest: string;
  /** The voters of the configuration this member knows. */
  readonly voters: string[];
  /** The learners of the configuration this member knows. */
  readonly learners: string[];
  /** Identifies the configuration this member knows (as `ClusterMembership.configId`); empty from older servers. */
  readonly configId: string;
}

/**
 * A client of a tsraft KV cluster. Keys and values are bytes; strings are taken as UTF-8. Every operation
 * rejects with a {@link KvError}.
 */
export interface KvClient {
  /** Stores `value` under `key`. */
  put(key: Uint8Array | string, value: Uint8Array | string, options?: KvOperationOptions): Promise<void>;
  /** The value under `key`, or `undefined` when absent; linearizable unless `consistency` says otherwise. */
  get(
    key: Uint8Array | string,
    options?: KvOperationOptions & { readonly consistency?: ReadConsistencyMode },
  ): Promise<Uint8Array | undefined>;
  /** Removes `key`; whether it existed. */
  delete(key: Uint8Array | string, options?: KvOperationOptions): Promise<boolean>;
  /**
   * Stores `value` under `key` only if the key holds `expected` (is absent, when `expected` is `undefined`);
   * whether it did, and the key's value afterwards.
   */
  compareAndSwap(
    key: Uint8Array | string,
    expected: Uint8Array | string | undefined,
    value: Uint8Array | string,
    options?: KvOperationOptions,
  ): Promise<{ succeeded: boolean; value: Uint8Array | undefined }>;
  /** The status of the member at `endpoint` (any address, not only the configured ones); one call, no retries. */
  status(endpoint: string, options?: KvOperationOptions): Promise<MemberStatus>;
  /** Closes every channel; operations in flight and later ones reject with `CLOSED`. Idempotent. */
  close(): void;
}

/** Default of {@link KvClientOptions.timeoutMs}. */
const DEFAULT_TIMEOUT_MS = 5_000;
/** Backoff between attempts: equal jitter, doubling from this cap... */
const BACKOFF_BASE_MS = 20;
/** ...up to this one. */
const BACKOFF_MAX_MS = 500;

/**
 * After a write sent straight to the leader's endpoint fails, writes go through the other endpoints (and
 * follower forwarding) for this long before they try that endpoint directly again, so that an unreachable
 * leader costs one failed attempt per this period, not one per write.
 */
const LEADER_ENDPOINT_COOLDOWN_MS = 2_000;
/** After a background Status to learn an endpoint's member id fails, none is sent to it for this long. */
const DISCOVERY_RETRY_MS = 5_000;
/** Time budget of one background Status. */
const DISCOVERY_TIMEOUT_MS = 2_000;

/** Write errors retried with the same sequence: not applied, or applied at most once thanks to the session. */
const WRITE_RETRY: ReadonlySet<KvErrorCode> = new Set<KvErrorCode>([
  'UNAVAILABLE',
  'NOT_LEADER',
  'RESOURCE_EXHAUSTED',
  'OUTCOME_UNKNOWN',
  'DEADLINE_EXCEEDED',
]);
/** Read (and OpenSession) errors retried: a read changes nothing, so any transient failure may be retried. */
const READ_RETRY: ReadonlySet<KvErrorCode> = WRITE_RETRY;

const utf8 = new TextEncoder();

function toBytes(value: Uint8Array | string): Uint8Array {
  return typeof value === 'string' ? utf8.encode(value) : value;
}

/** A copy, so that a result does not pin (or alias) the whole received frame. */
function copyBytes(value: Uint8Array): Uint8Array {
  return new Uint8Array(value);
}

/**
 * Whether the failed attempt may have reached a server and been applied. A tsraft server's tagged UNAVAILABLE,
 * NOT_LEADER and RESOURCE_EXHAUSTED say "not applied"; so does grpc-js's "No connection established" (the
 * call never left). A dropped connection, a deadline or an unknown failure may have been applied.
 */
function mayHaveApplied(error: KvError): boolean {
  switch (error.code) {
    case 'UNAVAILABLE':
      return !isTaggedByServer(error) && !error.reason.includes('No connection established');
    case 'NOT_LEADER':
    case 'RESOURCE_EXHAUSTED':
    case 'SESSION_EXPIRED':
    case 'STALE_REQUEST':
    case 'INVALID_ARGUMENT':
    case 'CONF_CHANGE_IN_PROGRESS':
    case 'CONFIG_MISMATCH':
    case 'NOT_CAUGHT_UP':
      return false;
    default:
      return true;
  }
}

/** One operation's budget and cancellation. */
interface Operation {
  readonly timeoutMs: number;
  readonly deadlineMs: number;
  /** Cap of one attempt, so that one unresponsive member cannot use up the whole budget. */
  readonly attemptCapMs: number;
  /** Aborted when the client closes, the caller aborts, or the deadline passes. */
  readonly signal: AbortSignal;
  /** The caller's own signal. */
  readonly callerSignal: AbortSignal | undefined;
  /** Whether this operation changes state, so that an attempt that reached a server may have been applied. */
  readonly write: boolean;
  /** Whether an attempt of this operation may have been applied (writes only). */
  mayHaveApplied: boolean;
  dispose(): void;
}

/** Where an operation's first attempt goes. */
type Target = 'leader' | 'preferred';

/** One configured endpoint, as far as the client knows it. */
interface Endpoint {
  readonly address: string;
  /** The member id this endpoint answers as, once learned from an answer it gave for itself. */
  memberId: string | undefined;
  /** Whether a background Status to this endpoint is in flight. */
  discovering: boolean;
  /** No background Status before this time (`Date.now()` ms): the last one failed. */
  discoverAfterMs: number;
  /** No write goes straight to this endpoint as the leader's before this time: the last such attempt failed. */
  leaderCooldownUntilMs: number;
}

/**
 * Creates a {@link KvClient} over `options.endpoints`, with one channel per endpoint, opened lazily and reused.
 *
 * Writes run under one session, opened on the first write (concurrent first writes share the one open). Each
 * write takes the next sequence number; a write that fails retryably is retried with the same number on the
 * next endpoint after a jittered backoff (20 ms doubling to 500 ms), until the operation's deadline, so the
 * cluster applies it at most once. Reads retry likewise, starting at the endpoint that answered last.
 *
 * Writes (and OpenSession) start at the leader's endpoint when the client knows it, sparing a follower's
 * forwarding hop: the header of a write's answer names the leader that applied it, and the client learns
 * which member each endpoint is from answers that endpoint gives for itself (a Get, a Status), or, in the
 * background, from one Status per endpoint after a write is answered by a member other than the one called.
 *
 * With `calls: 'stream'` each attempt travels over the endpoint's `Session` stream instead of a unary call;
 * all of the above is unchanged (see {@link KvClientOptions.calls}).
 */
export function createKvClient(options: KvClientOptions): KvClient {
  const endpoints = [...options.endpoints];
  if (endpoints.length === 0) throw new TypeError('createKvClient: at least one endpoint is needed');
  const defaultTimeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  checkTimeout(defaultTimeoutMs);
  const stubOptions = {
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    ...(options.calls === undefined ? {} : { calls: options.calls }),
  };
  const stubs = new Map<string, KvStub>();
  const closing = new AbortController();
  let preferred = 0;
  const known: Endpoint[] = endpoints.map((address) => ({
    address,
    memberId: undefined,
    discovering: false,
    discoverAfterMs: 0,
    leaderCooldownUntilMs: 0,
  }));
  /** The member that applied the last write answered, as its header says; undefined when unknown. */
  let leaderId: string | undefined;
  let session: KvSession | undefined;
  let opening: Promise<KvSession> | undefined;

  function stubFor(address: string): KvStub {
    let stub = stubs.get(address);
    if (stub === undefined) {
      stub = createKvStub(address, stubOptions);
      stubs.set(address, stub);
    }
    return stub;
  }

  function startOperation(
    timeoutMs: number,
    callerSignal: AbortSignal | undefined,
    write: boolean,
  ): Operation {
    checkTimeout(timeoutMs);
    if (closing.signal.aborted) throw new KvError('CLOSED', 'the client is closed');
    // One listener per source signal however many operations run at once (see linkAbort).
    const linked = linkAbort([closing.signal, callerSignal]);
    // Ref'd: an operation in progress keeps the process alive; it is cleared when the operation ends.
    const timer = setTimeout(() => linked.abort(), timeoutMs);
    return {
      timeoutMs,
      deadlineMs: Date.now() + timeoutMs,
      attemptCapMs: Math.max(1, Math.ceil(timeoutMs / 2)),
      signal: linked.signal,
      callerSignal,
      write,
      mayHaveApplied: false,
      dispose: () => {
        clearTimeout(timer);
        linked.dispose();
      },
    };
  }

  /** The error an operation ends with when it was aborted or ran out of time. */
  function endedError(op: Operation, last: KvError | undefined): KvError {
    const outcome = { outcomeUnknown: op.mayHaveApplied };
    if (closing.signal.aborted) return new KvError('CLOSED', 'the client is closed', outcome);
    if (op.callerSignal?.aborted) {
      return new KvError('CLOSED', 'aborted by the caller', { ...outcome, cause: op.callerSignal.reason });
    }
    const detail = last === undefined ? '' : ` (last error: ${last.message})`;
    return new KvError('DEADLINE_EXCEEDED', `no answer within ${op.timeoutMs} ms${detail}`, {
      ...outcome,
      ...(last === undefined ? {} : { cause: last }),
    });
  }

  /** Records that the endpoint at `index` answers as `memberId` (from an answer it gave for itself). */
  function learnEndpoint(index: number, memberId: string): void {
    if (memberId !== '') known[index]!.memberId = memberId;
  }

  /** The index of the leader's endpoint, when the leader is known, has an endpoint, and is not cooling down. */
  function leaderEndpoint(): number | undefined {
    if (leaderId === undefined) return undefined;
    const now = Date.now();
    const index = known.findIndex((e) => e.memberId === leaderId && now >= e.leaderCooldownUntilMs);
    return index < 0 ? undefined : index;
  }

  /**
   * Learns the member id of every endpoint not known yet, by one Status each, in the background: nothing
   * waits on it. At most one per endpoint is in flight, and none for a while after one failed.
   */
  function discover(): void {
    const now = Date.now();
    for (const endpoint of known) {
      if (closing.signal.aborted) return;
      if (endpoint.memberId !== undefined || endpoint.discovering || now < endpoint.discoverAfterMs) continue;
      endpoint.discovering = true;
      const linked = linkAbort([closing.signal]);
      stubFor(endpoint.address)
        .status(create(StatusRequestSchema), {
          deadlineMs: now + DISCOVERY_TIMEOUT_MS,
          signal: linked.signal,
        })
        .then(
          (status) => {
            if (status.memberId !== '') endpoint.memberId = status.memberId;
          },
          () => {
            endpoint.discoverAfterMs = Date.now() + DISCOVERY_RETRY_MS;
          },
        )
        .finally(() => {
          endpoint.discovering = false;
          linked.dispose();
        });
    }
  }

  /** Learns from the header of a write's answer, given by the endpoint at `index`. */
  function observeWrite(index: number, header: ResponseHeader | undefined): void {
    const memberId = header?.memberId ?? '';
    if (memberId === '') return;
    leaderId = memberId;
    // Answered by another member (forwarded), or by a member we cannot place yet: learn who is where.
    if (known[index]!.memberId !== memberId) discover();
  }

  /**
   * Runs attempts of one call until one succeeds, `retry` refuses an error (thrown as is) or the operation
   * ends. The first attempt goes to the leader's endpoint when `target` is `leader` and that endpoint is
   * known, else to the preferred one (the endpoint that answered last); each retry moves to the next endpoint.
   */
  async function attempts<R extends { readonly header?: ResponseHeader | undefined }>(
    op: Operation,
    retry: ReadonlySet<KvErrorCode>,
    target: Target,
    call: (stub: KvStub, opts: CallOptions) => Promise<R>,
  ): Promise<R> {
    const leader = target === 'leader' ? leaderEndpoint() : undefined;
    let index = leader ?? preferred;
    let backoffCapMs = BACKOFF_BASE_MS;
    let last: KvError | undefined;
    for (;;) {
      const now = Date.now();
      if (op.signal.aborted || now >= op.deadlineMs) throw endedError(op, last);
      const endpoint = index % endpoints.length;
      try {
        const result = await call(stubFor(endpoints[endpoint]!), {
          deadlineMs: Math.min(op.deadlineMs, now + op.attemptCapMs),
          signal: op.signal,
        });
        preferred = endpoint;
        if (target === 'leader') observeWrite(endpoint, result.header);
        else learnEndpoint(endpoint, result.header?.memberId ?? '');
        return result;
      } catch (thrown) {
        const error = KvError.from(thrown);
        if (op.signal.aborted) {
          // We cancelled the call in flight: it may have been applied.
          op.mayHaveApplied = op.write;
          throw endedError(op, last);
        }
        if (op.write && mayHaveApplied(error)) op.mayHaveApplied = true;
        if (endpoint === leader && retry.has(error.code) && error.code !== 'RESOURCE_EXHAUSTED') {
          // The leader's endpoint failed (a busy leader is still the leader): go round the others, whose
          // forwarding may still reach it, for a while.
          known[endpoint]!.leaderCooldownUntilMs = Date.now() + LEADER_ENDPOINT_COOLDOWN_MS;
        }
        if (!retry.has(error.code)) throw error;
        // An attempt cut short by its deadline says less than the refusal before it: keep that as the cause.
        if (error.code !== 'DEADLINE_EXCEEDED' || last === undefined) last = error;
      }
      index = endpoint + 1;
      const delayMs = backoffCapMs / 2 + (Math.random() * backoffCapMs) / 2;
      backoffCapMs = Math.min(BACKOFF_MAX_MS, backoffCapMs * 2);
      await sleep(Math.min(delayMs, op.deadlineMs - Date.now()), op.signal);
    }
  }

  async function openSession(deadlineMs: number): Promise<KvSession> {
    // Not the caller's signal: other writes may be waiting on this open.
    const op = startOperation(Math.max(1, deadlineMs - Date.now()), undefined, false);
    try {
      // A write through the log, like any other: it goes to the leader's endpoint when known.
      const response = await attempts(op, READ_RETRY, 'leader', (stub, opts) =>
        stub.openSession(create(OpenSessionRequestSchema), opts),
      );
      return createKvSession(response.sessionId);
    } finally {
      op.dispose();
    }
  }

  /** The current session, opening it if there is none; concurrent callers share one open. */
  async function currentSession(op: Operation): Promise<KvSession> {
    for (;;) {
      if (session !== undefined) return session;
      if (opening === undefined) {
        const open = openSession(op.deadlineMs);
        opening = open;
        open.then(
          (opened) => {
            if (opening === open) {
              session = opened;
              opening = undefined;
            }
          },
          () => {
            if (opening === open) opening = undefined;
          },
        );
      }
      try {
        return await abortable(opening, op.signal);
      } catch (error) {
        if (op.signal.aborted) throw endedError(op, error instanceof KvError ? error : undefined);
        const kvError = KvError.from(error);
        // The open ran out of the first caller's time; this caller may still have some.
        if (kvError.code !== 'DEADLINE_EXCEEDED' || Date.now() >= op.deadlineMs) throw kvError;
      }
    }
  }

  async function write<R extends { readonly header?: ResponseHeader | undefined }>(
    options: KvOperationOptions | undefined,
    send: (stub: KvStub, ref: SessionRef, opts: CallOptions) => Promise<R>,
  ): Promise<R> {
    const op = startOperation(options?.timeoutMs ?? defaultTimeoutMs, options?.signal, true);
    try {
      let current = await currentSession(op);
      let sequence = current.begin();
      try {
        for (;;) {
          try {
            const s = current;
            const n = sequence;
            return await attempts(op, WRITE_RETRY, 'leader', (stub, opts) => send(stub, s.ref(n), opts));
          } catch (thrown) {
            const error = KvError.from(thrown);
            if (error.code !== 'SESSION_EXPIRED' || op.mayHaveApplied) throw withOutcome(error, op);
            // No attempt can have been applied: renumber the write in a fresh session.
            current.end(sequence);
            if (session === current) session = undefined;
            current = await currentSession(op);
            sequence = current.begin();
          }
        }
      } finally {
        current.end(sequence);
      }
    } finally {
      op.dispose();
    }
  }

  async function read<R extends { readonly header?: ResponseHeader | undefined }>(
    options: KvOperationOptions | undefined,
    call: (stub: KvStub, opts: CallOptions) => Promise<R>,
  ): Promise<R> {
    const op = startOperation(options?.timeoutMs ?? defaultTimeoutMs, options?.signal, false);
    try {
      return await attempts(op, READ_RETRY, 'preferred', call);
    } finally {
      op.dispose();
    }
  }

  return {
    put: async (key, value, options) => {
      const request = { key: toBytes(key), value: toBytes(value) };
      await write(options, (stub, ref, opts) =>
        stub.put(create(PutRequestSchema, { ...request, session: ref }), opts),
      );
    },

    get: async (key, options) => {
      const request = create(GetRequestSchema, {
        key: toBytes(key),
        consistency: consistencyOf(options?.consistency),
      });
      const response = await read(options, (stub, opts) => stub.get(request, opts));
      return response.found ? copyBytes(response.value) : undefined;
    },

    delete: async (key, options) => {
      const bytes = toBytes(key);
      const response = await write(options, (stub, ref, opts) =>
        stub.delete(create(DeleteRequestSchema, { key: bytes, session: ref }), opts),
      );
      return response.deleted;
    },

    compareAndSwap: async (key, expected, value, options) => {
      const request = {
        key: toBytes(key),
        value: toBytes(value),
        ...(expected === undefined ? {} : { expected: toBytes(expected) }),
      };
      const response = await write(options, (stub, ref, opts) =>
        stub.compareAndSwap(create(CompareAndSwapRequestSchema, { ...request, session: ref }), opts),
      );
      return { succeeded: response.succeeded, value: response.found ? copyBytes(response.value) : undefined };
    },

    status: async (endpoint, options) => {
      const op = startOperation(options?.timeoutMs ?? defaultTimeoutMs, options?.signal, false);
      try {
        const s = await stubFor(endpoint).status(create(StatusRequestSchema), {
          deadlineMs: op.deadlineMs,
          signal: op.signal,
        });
        // The member's own answer: learn which member a configured endpoint is.
        const index = endpoints.indexOf(endpoint);
        if (index >= 0) learnEndpoint(index, s.memberId);
        return {
          memberId: s.memberId,
          role: s.role,
          term: Number(s.term),
          leaderId: s.leaderId === '' ? undefined : s.leaderId,
          commitIndex: Number(s.commitIndex),
          appliedIndex: Number(s.appliedIndex),
          stateDigest: s.stateDigest,
          voters: [...s.voters],
          learners: [...s.learners],
          configId: s.configId,
        };
      } catch (thrown) {
        const error = KvError.from(thrown);
        throw op.signal.aborted ? endedError(op, error) : error;
      } finally {
        op.dispose();
      }
    },

    close: () => {
      if (closing.signal.aborted) return;
      closing.abort();
      for (const stub of stubs.values()) stub.close();
    },
  };
}

function checkTimeout(timeoutMs: number): void {
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
    throw new KvError('INVALID_ARGUMENT', `timeoutMs must be a positive number, not ${timeoutMs}`);
  }
}

function consistencyOf(mode: ReadConsistencyMode | undefined): ReadConsistency {
  switch (mode) {
    case undefined:
      return ReadConsistency.UNSPECIFIED;
    case 'linearizable':
      return ReadConsistency.LINEARIZABLE;
    case 'lease':
      return ReadConsistency.LEASE;
    case 'stale':
      return ReadConsistency.STALE;
  }
}

/** `error`, marked outcome-unknown when an earlier attempt of the operation may have been applied. */
function withOutcome(error: KvError, op: Operation): KvError {
  if (!op.mayHaveApplied || error.outcomeUnknown) return error;
  return new KvError(error.code, error.reason, { cause: error.cause ?? error, outcomeUnknown: true });
}

/** `promise`, or a rejection as soon as `signal` aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
