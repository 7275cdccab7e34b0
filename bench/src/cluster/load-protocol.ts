/**
 * What the parent (a load suite) and the load generator child (`load-generator.ts`) say to each other: the
 * generator's configuration (JSON in argv[2]) and the messages it sends back over IPC.
 */

/**
 * Which system the load generator drives, with which client: `tsraft` is `@tsraft/kv-client` making one unary
 * call per request, `tsraft-stream` the same client with `calls: 'stream'` (every request pipelined over one
 * `KV.Session` stream per endpoint), `etcd` the `etcd3` client.
 */
export type LoadBackend = 'tsraft' | 'tsraft-stream' | 'etcd';

/** `put`: every op is a Put. `read90`: 90% linearizable Get, 10% Put (keys written before the warm-up). */
export type LoadMix = 'put' | 'read90';

/** Bytes of every key and of every value, on both backends. */
export const KEY_BYTES = 16;
export const VALUE_BYTES = 128;
/** Distinct keys the ops pick from (uniformly). */
export const KEY_SPACE = 1024;

export interface LoadConfig {
  readonly backend: LoadBackend;
  /** `host:port` of every member; the client library decides how to use them. */
  readonly endpoints: readonly string[];
  readonly mix: LoadMix;
  /** Requests in flight at all times (closed loop: each completion starts the next request). */
  readonly inFlight: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Deadline of one operation, retries included. */
  readonly timeoutMs: number;
  /** Bound of the readiness phase (the first successful op, and the read mix's key load). */
  readonly readyTimeoutMs: number;
}

/** What the generator measured in its window. Latencies in milliseconds. */
export interface LoadMeasurement {
  /** Operations that succeeded and completed inside the window. */
  readonly ops: number;
  readonly puts: number;
  readonly gets: number;
  /** Failed operations completed inside the window, by error code (or error class for etcd3). */
  readonly errors: Readonly<Record<string, number>>;
  /** The measured window, as the generator timed it. */
  readonly durationMs: number;
  /** Successful ops per second over the window. */
  readonly throughput: number;
  /** Exact percentiles (nearest rank) over every successful op of the window. */
  readonly latencyMs: {
    readonly mean: number;
    readonly p50: number;
    readonly p99: number;
    readonly p999: number;
    readonly max: number;
  };
  /** CPU time of the generator process itself over the window (client library + driver), per op, µs. */
  readonly clientCpuUsPerOp: number;
}

/** Messages from the generator to its parent. */
export type GeneratorMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'window-start' }
  | { readonly type: 'window-end' }
  | { readonly type: 'result'; readonly measurement: LoadMeasurement }
  | { readonly type: 'error'; readonly message: string };

/** The nearest-rank `q`-quantile of ascending `sorted` (exact: one of the recorded values). */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}
