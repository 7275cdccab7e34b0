import type { MethodDefinition } from '@grpc/grpc-js';
import type {
  CompareAndSwapRequest,
  CompareAndSwapResponse,
  DeleteRequest,
  DeleteResponse,
  GetRequest,
  GetResponse,
  OpenSessionRequest,
  OpenSessionResponse,
  PutRequest,
  PutResponse,
  StatusRequest,
  StatusResponse,
} from '@tsraft/proto';
import { openKvChannel } from './kv-channel.js';
import { KV_SERVICE_DEFINITION } from './kv-service.js';
import type { KvTlsFiles } from './kv-tls.js';
import {
  openSessionStream,
  type SessionKind,
  type SessionRequestOf,
  type SessionResponseOf,
} from './session-stream.js';

/** Per-call options of a {@link KvStub} method. */
export interface CallOptions {
  /** Absolute deadline of the call, in `Date.now()` milliseconds. */
  readonly deadlineMs: number;
  /** Cancels the call; it then rejects with `CLOSED`. */
  readonly signal?: AbortSignal;
  /** Request metadata (headers) to send. */
  readonly metadata?: Record<string, string>;
}

/** Low-level stub of one endpoint, shared by createKvClient and by servers that forward to the leader. */
export interface KvStub {
  /** The `host:port` this stub calls. */
  readonly address: string;
  /** Calls `Put`; rejects with a {@link KvError}, as every method does. */
  put(req: PutRequest, opts: CallOptions): Promise<PutResponse>;
  /** Calls `Get`. */
  get(req: GetRequest, opts: CallOptions): Promise<GetResponse>;
  /** Calls `Delete`. */
  delete(req: DeleteRequest, opts: CallOptions): Promise<DeleteResponse>;
  /** Calls `CompareAndSwap`. */
  compareAndSwap(req: CompareAndSwapRequest, opts: CallOptions): Promise<CompareAndSwapResponse>;
  /** Calls `OpenSession`. */
  openSession(req: OpenSessionRequest, opts: CallOptions): Promise<OpenSessionResponse>;
  /** Calls `Status`. */
  status(req: StatusRequest, opts: CallOptions): Promise<StatusResponse>;
  /** Closes the channel; later calls reject with `CLOSED`. Idempotent. */
  close(): void;
}

/**
 * How a stub sends Put, Get, Delete, CompareAndSwap and OpenSession: `unary`, one gRPC call each; `stream`,
 * all pipelined over one long-lived `Session` stream per endpoint (see kv.proto). Status is always unary.
 */
export type KvCallMode = 'unary' | 'stream';

/** Options of {@link createKvStub}. */
export interface KvStubOptions {
  /** TLS material; absent means plaintext. */
  readonly tls?: KvTlsFiles;
  /** How requests travel. Default `unary`. */
  readonly calls?: KvCallMode;
}

/**
 * Creates the stub (one grpc-js channel, reused for every call) of the KV member at `address` (`host:port`).
 * Each method makes one unary call with the given deadline and rejects with `KvError.from(serviceError)`;
 * a response whose bytes do not decode rejects with `INTERNAL`.
 *
 * With `calls: 'stream'`, Put, Get, Delete, CompareAndSwap and OpenSession go instead over one `Session`
 * stream (opened on first use, and again after it ends), with the same deadlines, cancellation and errors
 * (see {@link KvCallMode}); a call given `metadata` (stream metadata is per stream, not per request) is
 * still made unary.
 */
export function createKvStub(address: string, options: KvStubOptions = {}): KvStub {
  const channel = openKvChannel(address, options.tls);
  const unary = channel.call;
  const d = KV_SERVICE_DEFINITION;
  if (options.calls === 'stream') {
    const session = openSessionStream(channel);
    const over =
      <K extends SessionKind>(kind: K, method: MethodDefinition<SessionRequestOf<K>, SessionResponseOf<K>>) =>
      (req: SessionRequestOf<K>, opts: CallOptions): Promise<SessionResponseOf<K>> =>
        opts.metadata === undefined ? session.call(kind, req, opts) : unary(method, req, opts);
    return {
      address,
      put: over('put', d.Put),
      get: over('get', d.Get),
      delete: over('delete', d.Delete),
      compareAndSwap: over('compareAndSwap', d.CompareAndSwap),
      openSession: over('openSession', d.OpenSession),
      status: (req, opts) => unary(d.Status, req, opts),
      close: () => {
        session.close();
        channel.close();
      },
    };
  }
  return {
    address,
    put: (req, opts) => unary(d.Put, req, opts),
    get: (req, opts) => unary(d.Get, req, opts),
    delete: (req, opts) => unary(d.Delete, req, opts),
    compareAndSwap: (req, opts) => unary(d.CompareAndSwap, req, opts),
    openSession: (req, opts) => unary(d.OpenSession, req, opts),
    status: (req, opts) => unary(d.Status, req, opts),
    close: channel.close,
  };
}
