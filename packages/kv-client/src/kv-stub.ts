import {
  type ChannelOptions,
  Client,
  type ClientUnaryCall,
  Metadata,
  type MethodDefinition,
} from '@grpc/grpc-js';
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
import { KvError } from './kv-error.js';
import { KV_SERVICE_DEFINITION, kvMalformedReason } from './kv-service.js';
import { type KvTlsFiles, loadKvChannelCredentials } from './kv-tls.js';

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

/** Options of {@link createKvStub}. */
export interface KvStubOptions {
  /** TLS material; absent means plaintext. */
  readonly tls?: KvTlsFiles;
}

/** Largest message a stub sends or accepts: 16 MiB, as between peers. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/**
 * Channel options of a KV stub: fast reconnects (a member that comes back is found within about 2 s), a
 * connection of its own (closing the stub closes it), and no transparent retries: the client retries on its
 * own, with session sequence numbers that make a retried write safe.
 */
const KV_CHANNEL_OPTIONS: ChannelOptions = {
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2_000,
  'grpc.use_local_subchannel_pool': 1,
  'grpc.enable_retries': 0,
};

/**
 * Creates the stub (one grpc-js channel, reused for every call) of the KV member at `address` (`host:port`).
 * Each method makes one unary call with the given deadline and rejects with `KvError.from(serviceError)`;
 * a response whose bytes do not decode rejects with `INTERNAL`.
 */
export function createKvStub(address: string, options: KvStubOptions = {}): KvStub {
  const client = new Client(address, loadKvChannelCredentials(options.tls), KV_CHANNEL_OPTIONS);
  let closed = false;

  function unary<Req, Res>(method: MethodDefinition<Req, Res>, req: Req, opts: CallOptions): Promise<Res> {
    if (closed) return Promise.reject(new KvError('CLOSED', `the stub for ${address} is closed`));
    const signal = opts.signal;
    if (signal?.aborted) {
      return Promise.reject(
        new KvError('CLOSED', 'the call was aborted before it started', { cause: signal.reason }),
      );
    }
    return new Promise<Res>((resolve, reject) => {
      const metadata = new Metadata();
      for (const [key, value] of Object.entries(opts.metadata ?? {})) metadata.set(key, value);
      let call: ClientUnaryCall | undefined;
      const onAbort = (): void => call?.cancel();
      try {
        call = client.makeUnaryRequest(
          method.path,
          method.requestSerialize,
          method.responseDeserialize,
          req,
          metadata,
          // A non-finite deadline means none (grpc-js takes Infinity).
          {
            deadline: Number.isFinite(opts.deadlineMs) ? new Date(opts.deadlineMs) : Number.POSITIVE_INFINITY,
          },
          (error, response) => {
            signal?.removeEventListener('abort', onAbort);
            if (error) {
              reject(KvError.from(error));
            } else if (response === undefined) {
              reject(new KvError('INTERNAL', `${address} answered ${method.path} without a message`));
            } else {
              const malformed = kvMalformedReason(response);
              if (malformed === undefined) resolve(response);
              else reject(new KvError('INTERNAL', `malformed answer from ${address}: ${malformed}`));
            }
          },
        );
      } catch (error) {
        // grpc-js throws synchronously on a channel closed under us.
        reject(closed ? new KvError('CLOSED', `the stub for ${address} is closed`) : KvError.from(error));
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  const d = KV_SERVICE_DEFINITION;
  return {
    address,
    put: (req, opts) => unary(d.Put, req, opts),
    get: (req, opts) => unary(d.Get, req, opts),
    delete: (req, opts) => unary(d.Delete, req, opts),
    compareAndSwap: (req, opts) => unary(d.CompareAndSwap, req, opts),
    openSession: (req, opts) => unary(d.OpenSession, req, opts),
    status: (req, opts) => unary(d.Status, req, opts),
    close: () => {
      if (closed) return;
      closed = true;
      client.close();
    },
  };
}
