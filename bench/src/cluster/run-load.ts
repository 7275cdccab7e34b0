import { fileURLToPath } from 'node:url';
import type { BenchCluster } from './bench-cluster.js';
import type { GeneratorMessage, LoadConfig, LoadMeasurement } from './load-protocol.js';
import { spawnTracked, totalCpuMs } from './processes.js';

/** The load generator's entry point (compiled). */
export const LOAD_GENERATOR = fileURLToPath(new URL('./load-generator.js', import.meta.url));

/** One measured case: what the generator saw, plus the servers' CPU time over the same window. */
export interface LoadResult extends LoadMeasurement {
  /** The case name within its suite. */
  readonly case: string;
  /** The system measured, e.g. `tsraft streaming, batching on` (`..., Session-stream client` for `tsraft-stream`). */
  readonly system: string;
  readonly backend: LoadConfig['backend'];
  readonly mix: LoadConfig['mix'];
  readonly inFlight: number;
  readonly warmupMs: number;
  /** Sum of the server processes' CPU time (user + system, from /proc) over the window. */
  readonly serverCpuMs: number;
  /** {@link serverCpuMs} per successful op, in microseconds. */
  readonly serverCpuUsPerOp: number;
}

export type LoadWorkload = Pick<LoadConfig, 'mix' | 'inFlight' | 'warmupMs' | 'durationMs'>;

/**
 * Runs the load generator in its own process against `cluster` and returns what it measured, with the
 * servers' CPU time sampled when the generator opens and closes its window.
 */
export async function runLoad(
  caseName: string,
  cluster: BenchCluster,
  backend: LoadConfig['backend'],
  workload: LoadWorkload,
): Promise<LoadResult> {
  const config: LoadConfig = {
    backend,
    endpoints: cluster.endpoints,
    ...workload,
    timeoutMs: 10_000,
    readyTimeoutMs: 30_000,
  };
  const child = spawnTracked(process.execPath, [LOAD_GENERATOR, JSON.stringify(config)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let cpuStart = Number.NaN;
  let cpuEnd = Number.NaN;
  let measurement: LoadMeasurement | undefined;
  let failure: string | undefined;
  child.process.on('message', (raw) => {
    const message = raw as GeneratorMessage;
    switch (message.type) {
      case 'window-start':
        cpuStart = totalCpuMs(cluster.pids);
        break;
      case 'window-end':
        cpuEnd = totalCpuMs(cluster.pids);
        break;
      case 'result':
        measurement = message.measurement;
        break;
      case 'error':
        failure = message.message;
        break;
      case 'ready':
        break;
    }
  });
  // Generous: readiness, warm-up, window and the drain of the requests in flight.
  const limitMs = config.readyTimeoutMs + config.warmupMs + config.durationMs + config.timeoutMs + 10_000;
  const timer = setTimeout(() => {
    failure ??= `the load generator did not finish within ${limitMs} ms`;
    void child.kill();
  }, limitMs);
  try {
    const { code, signal } = await child.exited;
    if (measurement === undefined) {
      throw new Error(
        `${caseName}: ${failure ?? `the load generator exited (code ${code}, signal ${signal}) without a result`}\n${cluster.logs()}`,
      );
    }
  } finally {
    clearTimeout(timer);
    await child.kill();
  }
  const serverCpuMs = cpuEnd - cpuStart;
  return {
    case: caseName,
    system: backend === 'tsraft-stream' ? `${cluster.label}, Session-stream client` : cluster.label,
    backend,
    mix: workload.mix,
    inFlight: workload.inFlight,
    warmupMs: workload.warmupMs,
    ...measurement,
    serverCpuMs,
    serverCpuUsPerOp: measurement.ops === 0 ? Number.NaN : (serverCpuMs * 1000) / measurement.ops,
  };
}
