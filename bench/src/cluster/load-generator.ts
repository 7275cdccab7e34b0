/**
 * The closed-loop load generator, one process per measurement, shared by the `cluster` and `etcd` suites so
 * that both systems get exactly the same workload: the same key and value sizes, the same key choice, the
 * same number of requests in flight, the same warm-up and window, timed the same way.
 *
 * Run as `node load-generator.js '<LoadConfig JSON>'` with an IPC channel (see `run-load.ts`); it reports
 * `ready`, `window-start`, `window-end` and then `result` (or `error`) over IPC and exits.
 *
 * The client library differs by backend: `@tsraft/kv-client` (sessions, exactly-once writes, its own retry
 * policy and endpoint choice) for tsraft, over unary calls (`tsraft`) or Session streams (`tsraft-stream`),
 * `etcd3` (the usual Node etcd client: random member per call, cockatiel retries) for etcd. That is
 * deliberate: it is part of what a user of either system pays.
 */
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { createKvClient } from '@tsraft/kv-client';
import { Etcd3 } from 'etcd3';
import {
  type GeneratorMessage,
  KEY_BYTES,
  KEY_SPACE,
  type LoadConfig,
  type LoadMeasurement,
  quantile,
  VALUE_BYTES,
} from './load-protocol.js';

/** One backend: the two operations of the workload, and how to let go of the client. */
interface Backend {
  put(key: Buffer, value: Buffer): Promise<unknown>;
  get(key: Buffer): Promise<unknown>;
  close(): void;
}

function tsraftBackend(config: LoadConfig): Backend {
  const kv = createKvClient({
    endpoints: config.endpoints,
    timeoutMs: config.timeoutMs,
    calls: config.backend === 'tsraft-stream' ? 'stream' : 'unary',
  });
  return {
    put: (key, value) => kv.put(key, value),
    get: (key) => kv.get(key), // linearizable (ReadIndex) by default
    close: () => kv.close(),
  };
}

function etcdBackend(config: LoadConfig): Backend {
  const client = new Etcd3({
    hosts: config.endpoints.map((endpoint) => `http://${endpoint}`),
    defaultCallOptions: () => ({ deadline: Date.now() + config.timeoutMs }),
  });
  return {
    put: (key, value) => client.put(key).value(value).exec(),
    get: (key) => client.get(key).buffer(), // linearizable by default (serializable: false)
    close: () => client.close(),
  };
}

/** The 16-byte key number `i`. */
function keyOf(i: number): Buffer {
  const key = Buffer.from(`bench-key-${String(i).padStart(KEY_BYTES - 10, '0')}`);
  if (key.length !== KEY_BYTES) throw new Error(`key ${key.toString()} is not ${KEY_BYTES} bytes`);
  return key;
}

function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    return error.constructor.name;
  }
  return 'unknown';
}

/** A growable array of latencies (ms). */
class Samples {
  private data = new Float64Array(1 << 16);
  length = 0;
  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }
  sorted(): Float64Array {
    return this.data.slice(0, this.length).sort();
  }
}

function send(message: GeneratorMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (process.send === undefined) {
      process.stdout.write(`${JSON.stringify(message)}\n`);
      resolve();
      return;
    }
    process.send(message, (error: Error | null) => (error === null ? resolve() : reject(error)));
  });
}

async function withDeadline<T>(what: string, ms: number, run: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      return await run();
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what} did not succeed within ${ms} ms: ${String(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function generate(config: LoadConfig): Promise<LoadMeasurement> {
  // Each operation in flight listens on the client's abort signal: not a leak, so no warning for it.
  setMaxListeners(config.inFlight + 16);
  const backend = config.backend === 'etcd' ? etcdBackend(config) : tsraftBackend(config);
  try {
    const keys = Array.from({ length: KEY_SPACE }, (_, i) => keyOf(i));
    // Readiness: the cluster takes writes (a leader is elected and known to the client).
    await withDeadline('the first put', config.readyTimeoutMs, () =>
      backend.put(keys[0]!, randomBytes(VALUE_BYTES)),
    );
    if (config.mix === 'read90') {
      // Every key the reads pick exists, so every get returns a 128-byte value.
      let next = 0;
      await withDeadline('loading the keys', config.readyTimeoutMs, async () => {
        await Promise.all(
          Array.from({ length: Math.min(64, config.inFlight) }, async () => {
            while (next < keys.length) {
              const key = keys[next]!;
              await backend.put(key, randomBytes(VALUE_BYTES));
              next++;
            }
          }),
        );
      });
    }
    await send({ type: 'ready' });

    const samples = new Samples();
    const errors: Record<string, number> = {};
    let puts = 0;
    let gets = 0;
    let measuring = false;
    let stopped = false;
    const start = performance.now();
    const windowStart = start + config.warmupMs;
    const windowEnd = windowStart + config.durationMs;
    let cpuAtStart = process.cpuUsage();

    const worker = async (): Promise<void> => {
      // One value per worker: the bytes do not matter, only the size does.
      const value = randomBytes(VALUE_BYTES);
      while (!stopped) {
        const key = keys[Math.floor(Math.random() * KEY_SPACE)]!;
        const isGet = config.mix === 'read90' && Math.random() < 0.9;
        const began = performance.now();
        let failure: string | undefined;
        try {
          if (isGet) await backend.get(key);
          else await backend.put(key, value);
        } catch (error) {
          failure = errorCode(error);
        }
        const ended = performance.now();
        if (measuring && ended <= windowEnd) {
          if (failure === undefined) {
            samples.push(ended - began);
            if (isGet) gets++;
            else puts++;
          } else {
            errors[failure] = (errors[failure] ?? 0) + 1;
          }
        }
        // A failing cluster must not turn the loop into a busy spin.
        if (failure !== undefined) await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    const workers = Array.from({ length: config.inFlight }, () => worker());

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, windowStart - performance.now())));
    measuring = true;
    cpuAtStart = process.cpuUsage();
    const measuredFrom = performance.now();
    void send({ type: 'window-start' });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, windowEnd - performance.now())));
    stopped = true;
    const cpu = process.cpuUsage(cpuAtStart);
    const durationMs = performance.now() - measuredFrom;
    void send({ type: 'window-end' });
    // Let the requests in flight finish (they are not counted: they end after the window).
    await Promise.race([
      Promise.all(workers),
      new Promise((resolve) => setTimeout(resolve, config.timeoutMs)),
    ]);

    const sorted = samples.sorted();
    let sum = 0;
    for (const latency of sorted) sum += latency;
    const ops = sorted.length;
    return {
      ops,
      puts,
      gets,
      errors,
      durationMs,
      throughput: ops / (durationMs / 1000),
      latencyMs: {
        mean: ops === 0 ? Number.NaN : sum / ops,
        p50: quantile(sorted, 0.5),
        p99: quantile(sorted, 0.99),
        p999: quantile(sorted, 0.999),
        max: ops === 0 ? Number.NaN : sorted[ops - 1]!,
      },
      clientCpuUsPerOp: ops === 0 ? Number.NaN : (cpu.user + cpu.system) / ops,
    };
  } finally {
    backend.close();
  }
}

async function main(): Promise<void> {
  // The parent went away: nothing to report to, stop at once.
  process.on('disconnect', () => process.exit(1));
  const config = JSON.parse(process.argv[2] ?? '') as LoadConfig;
  try {
    const measurement = await generate(config);
    await send({ type: 'result', measurement });
    process.exit(0);
  } catch (error) {
    await send({
      type: 'error',
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    process.exit(1);
  }
}

await main();
