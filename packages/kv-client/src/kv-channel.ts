import {
  type ChannelOptions,
  Client,
  type ClientDuplexStream,
  type ClientUnaryCall,
  Metadata,
  type MethodDefinition,
} from '@grpc/grpc-js';
import { KvError } from './kv-error.js';
import type { CallOptions } from './kv-stub.js';
import { type KvTlsFiles, loadKvChannelCredentials } from './kv-tls.js';
import { kvMalformedReason } from './unary-method.js';

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

/** One grpc-js channel to `address` and the calls made on it. */
export interface KvChannel {
  /** The `host:port` the channel connects to. */
  readonly address: string;
  /** Makes one unary call; rejects with a {@link KvError}. */
  call<Req, Res>(method: MethodDefinition<Req, Res>, req: Req, opts: CallOptions): Promise<Res>;
  /**
   * Starts a bidirectional stream of `method`, without deadline; the caller listens for its `error`.
   * @throws KvError `CLOSED` once the channel is closed.
   */
  stream<Req, Res>(method: MethodDefinition<Req, Res>): ClientDuplexStream<Req, Res>;
  /** Closes the channel; later calls reject with `CLOSED`. Idempotent. */
  close(): void;
}

/**
 * Opens the channel of a stub to `address`: each unary call has the given deadline and rejects with
 * `KvError.from(serviceError)`; a response whose bytes do not decode rejects with `INTERNAL`.
 */
export function openKvChannel(address: string, tls: KvTlsFiles | undefined): KvChannel {
  const client = new Client(address, loadKvChannelCredentials(tls), KV_CHANNEL_OPTIONS);
  let closed = false;

  function call<Req, Res>(method: MethodDefinition<Req, Res>, req: Req, opts: CallOptions): Promise<Res> {
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

  function stream<Req, Res>(method: MethodDefinition<Req, Res>): ClientDuplexStream<Req, Res> {
    if (closed) throw new KvError('CLOSED', `the stub for ${address} is closed`);
    try {
      return client.makeBidiStreamRequest(method.path, method.requestSerialize, method.responseDeserialize);
    } catch (error) {
      // grpc-js throws synchronously on a channel closed under us.
      throw closed ? new KvError('CLOSED', `the stub for ${address} is closed`) : KvError.from(error);
    }
  }

  return {
    address,
    call,
    stream,
    close: () => {
      if (closed) return;
      closed = true;
      client.close();
    },
  };
}
