import type { LoadMix } from '../cluster/load-protocol.js';
import {
  createLoadSuite,
  EXTRA,
  extraMetric,
  type LoadCaseSpec,
  type LoadComparison,
  type LoadSuite,
  type LoadSuiteOptions,
} from '../cluster/load-suite.js';
import { which } from '../cluster/processes.js';
import {
  BETTER_TRANSPORT,
  describeWindows,
  IN_FLIGHT,
  QUICK_IN_FLIGHT,
  READ_MIX_IN_FLIGHT,
  tsraftCase,
  windowsOf,
} from '../cluster/suite.js';
import type { ChartSpec } from '../suite.js';
import { etcdVersion, startEtcdCluster } from './etcd-cluster.js';

/** How to get etcd where it is missing. */
export const INSTALL_HINT =
  'no `etcd` binary on PATH: install it (Debian/Ubuntu: `sudo apt-get install etcd-server`, etcd 3.4) ' +
  'and run the suite again';

export interface EtcdSuiteOptions extends LoadSuiteOptions {
  /** Where to look for `etcd` (a PATH-style list); default `process.env.PATH`. */
  readonly searchPath?: string;
}

/**
 * The systems of the etcd suite: etcd, tsraft with its client's unary calls (`tsraft`), and tsraft with its
 * client over Session streams (`tsraft-stream`).
 */
export type EtcdSuiteSystem = 'etcd' | 'tsraft' | 'tsraft-stream';

/**
 * The case name of one system's case, e.g. `put/c64/etcd`, `read90/c64/tsraft` or `put/c64/tsraft-stream`
 * (filter `put/c64` for all three).
 */
export function etcdSuiteCaseName(system: EtcdSuiteSystem, mix: LoadMix, inFlight: number): string {
  return `${mix}/c${inFlight}/${system}`;
}

/**
 * The `etcd` suite: the same load generator and workload as the `cluster` suite (Put of 16-byte keys and
 * 128-byte values at 1 / 16 / 64 / 256 in flight, and 90% linearizable Get / 10% Put at 64) against a 3-member
 * etcd on loopback (fsync on, default timing), then against 3 `tsraft serve` (streaming transport, leader
 * batching on) in the same run, with the tsraft client's unary calls (`tsraft`) and over its Session streams
 * (`tsraft-stream`); the ratios are each tsraft client over etcd, and stream over unary. Without `etcd` on
 * the path it has no cases and says how to install it (`skipReason`).
 *
 * The etcd cases run first, then the tsraft ones (unary and stream client in turn at each workload), each
 * system alone on the machine while measured. Create it with `quick` for the smoke matrix (Put at 16 and 64
 * in flight).
 */
export function createEtcdSuite(options: EtcdSuiteOptions = {}): LoadSuite {
  const quick = options.quick ?? false;
  const { window, quickWindow } = windowsOf(options);
  const description =
    'the cluster suite’s load generator and workload (16-byte keys, 128-byte values, ' +
    `${describeWindows(window, quickWindow)}) against a 3-member etcd (fsync on) and 3 \`tsraft serve\` ` +
    `(${BETTER_TRANSPORT}, batching on; its client over unary calls and over Session streams) in the same run; ` +
    'ratios are tsraft / etcd and stream / unary';
  const common = {
    name: 'etcd',
    description,
    quick,
    window,
    quickWindow,
    charts: ETCD_CHARTS,
    defaultRounds: 2,
  };
  const binary = which('etcd', options.searchPath ?? process.env.PATH ?? '');
  if (binary === undefined) {
    return createLoadSuite({ ...common, skipReason: INSTALL_HINT, notes: [], specs: [], comparisons: [] });
  }

  const inFlights = quick ? QUICK_IN_FLIGHT : IN_FLIGHT;
  const workloads: { mix: LoadMix; inFlight: number }[] = inFlights.map((inFlight) => ({
    mix: 'put',
    inFlight,
  }));
  if (!quick) workloads.push({ mix: 'read90', inFlight: READ_MIX_IN_FLIGHT });

  // All etcd cases, then all tsraft cases: one system at a time on the machine. The runner reverses the order
  // every other round, so a drift in the machine's load does not favour either (hence 2 rounds by default).
  const specs: LoadCaseSpec[] = [];
  for (const workload of workloads) {
    specs.push({
      name: etcdSuiteCaseName('etcd', workload.mix, workload.inFlight),
      clusterKey: 'etcd',
      startCluster: () => startEtcdCluster(binary),
      backend: 'etcd',
      workload,
    });
  }
  for (const workload of workloads) {
    for (const client of ['unary', 'stream'] as const) {
      const system = client === 'stream' ? 'tsraft-stream' : 'tsraft';
      specs.push(
        tsraftCase(
          etcdSuiteCaseName(system, workload.mix, workload.inFlight),
          BETTER_TRANSPORT,
          true,
          workload,
          client,
        ),
      );
    }
  }
  const comparisons: LoadComparison[] = workloads.flatMap(({ mix, inFlight }) => [
    {
      name: `${mix} c${inFlight}: tsraft / etcd`,
      numerator: etcdSuiteCaseName('tsraft', mix, inFlight),
      denominator: etcdSuiteCaseName('etcd', mix, inFlight),
    },
    {
      name: `${mix} c${inFlight}: tsraft-stream / etcd`,
      numerator: etcdSuiteCaseName('tsraft-stream', mix, inFlight),
      denominator: etcdSuiteCaseName('etcd', mix, inFlight),
    },
    {
      name: `${mix} c${inFlight}: tsraft-stream / tsraft`,
      numerator: etcdSuiteCaseName('tsraft-stream', mix, inFlight),
      denominator: etcdSuiteCaseName('tsraft', mix, inFlight),
    },
  ]);
  return createLoadSuite({
    ...common,
    notes: [
      `${etcdVersion(binary)} at ${binary}`,
      'clients differ, as they would for a user: @tsraft/kv-client (sessions, exactly-once writes) for tsraft, ' +
        'etcd3 1.1.2 for etcd (a random member per call; followers forward writes to the leader on both)',
      '`tsraft` is @tsraft/kv-client making one unary call per request (like etcd3); `tsraft-stream` the same ' +
        "client with `calls: 'stream'`, its requests pipelined over one KV.Session stream per endpoint",
    ],
    specs,
    comparisons,
  });
}

/** Group by mix and in flight (`put c64`), one series per system. */
function bySystem(caseName: string): { group: string; series: string } {
  const [mix, inFlight, system] = caseName.split('/');
  return { group: `${mix} ${inFlight}`, series: system ?? '' };
}

const ETCD_CHARTS: readonly ChartSpec[] = [
  {
    name: 'throughput',
    title: 'tsraft and etcd: ops/s by requests in flight',
    metrics: 'throughput',
    groupBy: bySystem,
  },
  { name: 'latency', title: 'tsraft and etcd: latency (p50, p99)', metrics: 'latency', groupBy: bySystem },
  {
    name: 'cpu',
    title: 'tsraft and etcd: server CPU time per op (3 processes)',
    metrics: extraMetric('server CPU', EXTRA.serverCpu),
    unit: 'µs per op',
    groupBy: bySystem,
  },
];
