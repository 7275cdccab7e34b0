import type { ChartSpec } from '../suite.js';
import type { LoadBackend } from './load-protocol.js';
import {
  createLoadSuite,
  EXTRA,
  extraMetric,
  type LoadCaseSpec,
  type LoadComparison,
  type LoadSuite,
  type LoadSuiteOptions,
  type LoadWindow,
} from './load-suite.js';
import { serveHasBatchingFlag, startTsraftCluster, type TsraftTransport } from './tsraft-cluster.js';

/** Requests in flight of the Put cases. */
export const IN_FLIGHT: readonly number[] = [1, 16, 64, 256];
export const QUICK_IN_FLIGHT: readonly number[] = [16, 64];
/** Warm-up and measured window of each case, full and quick. */
export const FULL_WINDOW: LoadWindow = { warmupMs: 3_000, durationMs: 10_000 };
export const QUICK_WINDOW: LoadWindow = { warmupMs: 1_000, durationMs: 2_000 };

/** The suite's windows after the overrides of `options`: its own (quick or full) and the runner's quick one. */
export function windowsOf(options: LoadSuiteOptions): { window: LoadWindow; quickWindow: LoadWindow } {
  const override = (base: LoadWindow): LoadWindow => ({
    warmupMs: options.warmupMs ?? base.warmupMs,
    durationMs: options.durationMs ?? base.durationMs,
  });
  return {
    window: override(options.quick === true ? QUICK_WINDOW : FULL_WINDOW),
    quickWindow: override(QUICK_WINDOW),
  };
}
/** In flight of the read-heavy case. */
export const READ_MIX_IN_FLIGHT = 64;
/**
 * The transport of the read-heavy case: streaming, the better of the two in the transport suite (3–8× unary at
 * low concurrency) and `tsraft serve`'s default.
 */
export const BETTER_TRANSPORT: TsraftTransport = 'streaming';

/** `10 s after a 3 s warm-up (--quick: 2 s after 1 s)`. */
export function describeWindows(window: LoadWindow, quickWindow: LoadWindow): string {
  const text = (w: LoadWindow): string => `${w.durationMs / 1000} s after a ${w.warmupMs / 1000} s warm-up`;
  const same = window.warmupMs === quickWindow.warmupMs && window.durationMs === quickWindow.durationMs;
  return same ? text(window) : `${text(window)} (--quick: ${text(quickWindow)})`;
}

const batchingName = (on: boolean): string => `batching-${on ? 'on' : 'off'}`;

/** How the tsraft client of a case sends its requests: one unary call each, or over Session streams. */
export type TsraftClient = 'unary' | 'stream';

/**
 * The case name of a tsraft case, e.g. `put/streaming/batching-on/c64`, or with the Session-stream client
 * `put/streaming/batching-on/stream-client/c64`.
 */
export function tsraftCaseName(
  mix: 'put' | 'read90',
  transport: TsraftTransport,
  batching: boolean,
  inFlight: number,
  client: TsraftClient = 'unary',
): string {
  const clientPart = client === 'stream' ? '/stream-client' : '';
  return `${mix}/${transport}/${batchingName(batching)}${clientPart}/c${inFlight}`;
}

/**
 * The case spec of one tsraft case (shared with the etcd suite, which runs tsraft beside etcd). Cases that
 * differ only by `client` share one cluster.
 */
export function tsraftCase(
  name: string,
  transport: TsraftTransport,
  batching: boolean,
  workload: LoadCaseSpec['workload'],
  client: TsraftClient = 'unary',
): LoadCaseSpec {
  const backend: LoadBackend = client === 'stream' ? 'tsraft-stream' : 'tsraft';
  // The load generator's workload has no window here: the suite gives it (quick or full) per run.
  return {
    name,
    clusterKey: `tsraft/${transport}/${batchingName(batching)}`,
    startCluster: () => startTsraftCluster({ transport, batching }),
    backend,
    workload,
  };
}

/** Group by mix and in flight (`put c64`), one series per transport, batching and client. */
function byInFlight(caseName: string): { group: string; series: string } {
  const parts = caseName.split('/');
  return { group: `${parts[0]} ${parts.at(-1)}`, series: parts.slice(1, -1).join(' ') };
}

const CLUSTER_CHARTS: readonly ChartSpec[] = [
  {
    name: 'throughput',
    title: 'Committed ops/s by requests in flight',
    metrics: 'throughput',
    groupBy: byInFlight,
  },
  {
    name: 'latency',
    title: 'Latency (p50, p99) by requests in flight',
    metrics: 'latency',
    groupBy: byInFlight,
  },
  {
    name: 'cpu',
    title: 'Server CPU time per committed op (3 processes)',
    metrics: extraMetric('server CPU', EXTRA.serverCpu),
    unit: 'µs per op',
    groupBy: byInFlight,
  },
];

/**
 * The `cluster` suite: a 3-node cluster of real `tsraft serve` processes on loopback with durable storage,
 * driven by the closed-loop load generator in its own process (16-byte keys, 128-byte values). Put at
 * 1 / 16 / 64 / 256 in flight, for each transport with leader batching on and off, plus a 90% read / 10% Put
 * mix at 64 in flight on the better transport; and Put on the better transport with batching on through the
 * client's Session streams (`calls: 'stream'`) beside its unary calls. Quick: Put at 16 and 64 in flight,
 * streaming, batching on, unary and stream client, 1 s warm-up and 2 s windows.
 */
export function createClusterSuite(options: LoadSuiteOptions = {}): LoadSuite {
  const quick = options.quick ?? false;
  const { window, quickWindow } = windowsOf(options);
  const notes: string[] = [
    "`stream-client` cases: the same @tsraft/kv-client with `calls: 'stream'` (its requests pipelined over one " +
      'KV.Session stream per endpoint), on the same cluster as the unary-client cases beside them',
  ];
  const canTurnBatchingOff = serveHasBatchingFlag();
  const transports: readonly TsraftTransport[] = quick ? ['streaming'] : ['streaming', 'unary'];
  const batchings: readonly boolean[] = quick ? [true] : canTurnBatchingOff ? [true, false] : [true];
  if (!quick && !canTurnBatchingOff) {
    notes.push('batching-off cases left out: this build of `tsraft serve` has no --batching flag');
  }
  const inFlights = quick ? QUICK_IN_FLIGHT : IN_FLIGHT;

  const specs: LoadCaseSpec[] = [];
  const comparisons: LoadComparison[] = [];
  for (const transport of transports) {
    for (const batching of batchings) {
      for (const inFlight of inFlights) {
        specs.push(
          tsraftCase(tsraftCaseName('put', transport, batching, inFlight), transport, batching, {
            mix: 'put',
            inFlight,
          }),
        );
      }
      if (transport === BETTER_TRANSPORT && batching) {
        // The same cluster, the client over Session streams.
        for (const inFlight of inFlights) {
          const name = tsraftCaseName('put', transport, batching, inFlight, 'stream');
          specs.push(tsraftCase(name, transport, batching, { mix: 'put', inFlight }, 'stream'));
        }
        if (!quick) {
          const name = tsraftCaseName('read90', transport, batching, READ_MIX_IN_FLIGHT);
          specs.push(tsraftCase(name, transport, batching, { mix: 'read90', inFlight: READ_MIX_IN_FLIGHT }));
        }
      }
    }
  }
  for (const inFlight of inFlights) {
    comparisons.push({
      name: `put c${inFlight} ${BETTER_TRANSPORT} batching-on: stream client / unary client`,
      numerator: tsraftCaseName('put', BETTER_TRANSPORT, true, inFlight, 'stream'),
      denominator: tsraftCaseName('put', BETTER_TRANSPORT, true, inFlight),
    });
    for (const batching of batchings) {
      comparisons.push({
        name: `put c${inFlight} ${batchingName(batching)}: streaming / unary`,
        numerator: tsraftCaseName('put', 'streaming', batching, inFlight),
        denominator: tsraftCaseName('put', 'unary', batching, inFlight),
      });
    }
    for (const transport of transports) {
      comparisons.push({
        name: `put c${inFlight} ${transport}: batching on / off`,
        numerator: tsraftCaseName('put', transport, true, inFlight),
        denominator: tsraftCaseName('put', transport, false, inFlight),
      });
    }
  }
  return createLoadSuite({
    name: 'cluster',
    description:
      '3 `tsraft serve` processes on loopback, durable storage; a closed-loop load generator in its own process ' +
      'keeps <in flight> requests outstanding (16-byte keys, 128-byte values) for ' +
      `${describeWindows(window, quickWindow)}; server CPU from /proc`,
    quick,
    window,
    quickWindow,
    notes,
    specs,
    comparisons,
    charts: CLUSTER_CHARTS,
    // Each case is a 10 s window already; the matrix is ~4 minutes a round.
    defaultRounds: 1,
  });
}
