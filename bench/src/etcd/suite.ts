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

/** The case name of one system's case, e.g. `put/c64/etcd` or `read90/c64/tsraft` (filter `put/c64` for both). */
export function etcdSuiteCaseName(system: 'etcd' | 'tsraft', mix: LoadMix, inFlight: number): string {
  return `${mix}/c${inFlight}/${system}`;
}

/**
 * The `etcd` suite: the same load generator and workload as the `cluster` suite (Put of 16-byte keys and
 * 128-byte values at 1 / 16 / 64 / 256 in flight, and 90% linearizable Get / 10% Put at 64) against a 3-member
 * etcd on loopback (fsync on, default timing), then against 3 `tsraft serve` (streaming transport, leader
 * batching on) in the same run; the ratios are tsraft over etcd. Without `etcd` on the path it has no cases
 * and says how to install it (`skipReason`).
 *
 * The etcd cases run first, then the tsraft ones, each system alone on the machine while measured. Create it
 * with `quick` for the smoke matrix (Put at 16 and 64 in flight).
 */
export function createEtcdSuite(options: EtcdSuiteOptions = {}): LoadSuite {
  const quick = options.quick ?? false;
  const { window, quickWindow } = windowsOf(options);
  const description =
    'the cluster suite’s load generator and workload (16-byte keys, 128-byte values, ' +
    `${describeWindows(window, quickWindow)}) against a 3-member etcd (fsync on) and 3 \`tsraft serve\` ` +
    `(${BETTER_TRANSPORT}, batching on) in the same run; ratios are tsraft / etcd`;
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
    specs.push(
      tsraftCase(
        etcdSuiteCaseName('tsraft', workload.mix, workload.inFlight),
        BETTER_TRANSPORT,
        true,
        workload,
      ),
    );
  }
  const comparisons: LoadComparison[] = workloads.map(({ mix, inFlight }) => ({
    name: `${mix} c${inFlight}: tsraft / etcd`,
    numerator: etcdSuiteCaseName('tsraft', mix, inFlight),
    denominator: etcdSuiteCaseName('etcd', mix, inFlight),
  }));
  return createLoadSuite({
    ...common,
    notes: [
      `${etcdVersion(binary)} at ${binary}`,
      'clients differ, as they would for a user: @tsraft/kv-client (sessions, exactly-once writes) for tsraft, ' +
        'etcd3 1.1.2 for etcd (a random member per call; followers forward writes to the leader on both)',
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
