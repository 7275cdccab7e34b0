/**
 * Load suites: suites whose cases are closed-loop measurements of a whole cluster over a fixed window. Their
 * cases are {@link BenchSuite.measured} cases (the runner calls each once per round with `quick`); the suite
 * also runs itself ({@link LoadSuite.runAll}: every case once, with exact tsraft-over-other ratios of
 * throughput, p50, p99 and p99.9), for the direct command `cluster/main.ts` and the tests.
 */
import type { CaseResult } from '../report.js';
import type { BenchSuite, ChartSpec, Comparison, MeasuredCase, Measurement } from '../suite.js';
import type { BenchCluster } from './bench-cluster.js';
import type { LoadBackend } from './load-protocol.js';
import { type LoadResult, type LoadWorkload, runLoad } from './run-load.js';

/** Options of the load suite factories. */
export interface LoadSuiteOptions {
  /**
   * The smoke matrix (a few cases). Each case's window follows the `quick` the runner passes to
   * `measured[name].run`; {@link LoadSuite.runAll} uses this one.
   */
  readonly quick?: boolean;
  /** Overrides the warm-up of every case (ms), quick or not. */
  readonly warmupMs?: number;
  /** Overrides the measured window of every case (ms), quick or not. */
  readonly durationMs?: number;
}

/** Warm-up and measured window of a case, in ms. */
export interface LoadWindow {
  readonly warmupMs: number;
  readonly durationMs: number;
}

/** Two cases whose results are compared: `numerator / denominator`. */
export interface LoadComparison {
  readonly name: string;
  readonly numerator: string;
  readonly denominator: string;
}

/** A comparison measured: throughput and latency ratios, numerator over denominator. */
export interface LoadRatio extends LoadComparison {
  /** > 1: the numerator does more ops/s. */
  readonly throughputRatio: number;
  /** < 1: the numerator answers faster. */
  readonly p50Ratio: number;
  readonly p99Ratio: number;
  readonly p999Ratio: number;
}

/** One case of a load suite. */
export interface LoadCaseSpec {
  readonly name: string;
  /** Cases with the same key share one cluster (started on first use, stopped when another is needed). */
  readonly clusterKey: string;
  readonly startCluster: () => Promise<BenchCluster>;
  readonly backend: LoadBackend;
  readonly workload: Omit<LoadWorkload, 'warmupMs' | 'durationMs'>;
}

/** Progress of {@link LoadSuite.runAll}. */
export interface LoadProgress {
  readonly case: string;
  /** 0-based position among the selected cases. */
  readonly index: number;
  readonly total: number;
  /** Estimated time left, this case included, in ms. */
  readonly remainingMs: number;
}

export interface LoadRunOptions {
  /** Which cases to run, by case name (default: all). */
  readonly select?: (caseName: string) => boolean;
  /** Called before each case. */
  readonly onProgress?: (progress: LoadProgress) => void;
}

/** What {@link LoadSuite.runAll} measured. */
export interface LoadSuiteReport {
  readonly suite: string;
  readonly description: string;
  readonly quick: boolean;
  /** Why nothing ran (the suite cannot run on this machine), if so. */
  readonly skipped?: string;
  readonly notes: readonly string[];
  readonly results: readonly LoadResult[];
  readonly ratios: readonly LoadRatio[];
}

export interface LoadSuite extends BenchSuite {
  /** No tinybench cases: every case measures itself. */
  readonly cases: Readonly<Record<string, never>>;
  readonly measured: Readonly<Record<string, MeasuredCase>>;
  readonly quick: boolean;
  /** Facts a reader of the results needs (cases left out and why, what the client libraries are). */
  readonly notes: readonly string[];
  /** Runs one case once with this suite's window (quick or full) and returns everything it measured. */
  readonly measure: (caseName: string) => Promise<LoadResult>;
  readonly loadComparisons: readonly LoadComparison[];
  /** Estimated wall time of each case with this suite's window (cluster start excluded), in ms. */
  readonly estimatedMs: Readonly<Record<string, number>>;
  /** Runs the selected cases once each, in order, then stops every cluster (prints the skip reason, if any). */
  runAll(options?: LoadRunOptions): Promise<LoadSuiteReport>;
  /** Stops the cluster still running, if any. */
  close(): Promise<void>;
}

/** Requests in flight of the unmeasured run that primes a fresh cluster. */
const PRIMING_IN_FLIGHT = 64;

/** Per-case overhead on top of warm-up + window: generator start, readiness, drain. */
const CASE_OVERHEAD_MS = 1_000;

/** Column headings of the extra figures a load case reports. */
export const EXTRA = {
  p999: 'p99.9 µs',
  max: 'max µs',
  serverCpu: 'server CPU µs/op',
  clientCpu: 'client CPU µs/op',
  errors: 'errors',
  errorRate: 'errors/s',
} as const;

/** A load result in the runner's terms (µs; exact percentiles; extras for p99.9, CPU and errors). */
export function toMeasurement(result: LoadResult): Measurement {
  const errors = Object.values(result.errors).reduce((a, b) => a + b, 0);
  return {
    opsPerSecond: result.throughput,
    meanUs: result.latencyMs.mean * 1000,
    p50Us: result.latencyMs.p50 * 1000,
    p99Us: result.latencyMs.p99 * 1000,
    rmePercent: 0,
    samples: result.ops,
    extra: {
      [EXTRA.p999]: result.latencyMs.p999 * 1000,
      [EXTRA.max]: result.latencyMs.max * 1000,
      [EXTRA.serverCpu]: result.serverCpuUsPerOp,
      [EXTRA.clientCpu]: result.clientCpuUsPerOp,
      [EXTRA.errors]: errors,
      [EXTRA.errorRate]: errors / (result.durationMs / 1000),
    },
  };
}

/** A chart metric of an extra figure. */
export function extraMetric(label: string, key: string): ChartSpec['metrics'] {
  return [{ label, value: (c: CaseResult) => c.extra?.[key] }];
}

/** Builds a {@link LoadSuite} from its case specs (run in the given order). */
export function createLoadSuite(definition: {
  readonly name: string;
  readonly description: string;
  readonly quick: boolean;
  /** The suite's own window, and the one for a runner's quick rounds. */
  readonly window: LoadWindow;
  readonly quickWindow: LoadWindow;
  readonly skipReason?: string;
  readonly notes: readonly string[];
  readonly specs: readonly LoadCaseSpec[];
  readonly comparisons: readonly LoadComparison[];
  readonly charts?: readonly ChartSpec[];
  readonly defaultRounds: number;
}): LoadSuite {
  let current: { key: string; cluster: Promise<BenchCluster> } | undefined;

  const stopCluster = async (): Promise<void> => {
    const stopping = current;
    current = undefined;
    if (stopping !== undefined) await (await stopping.cluster.catch(() => undefined))?.close();
  };

  /**
   * The cluster of `spec`, started (and primed) if it is not the current one. Priming: a fresh cluster gets
   * one unmeasured run of Put at 64 in flight as long as a case's warm-up, so that the first case measured
   * on it does not pay for JIT compilation, connection set-up and first-touch allocation (tsraft runs on
   * V8, which needs longer than one warm-up for that; etcd is primed the same way, for symmetry).
   */
  const clusterFor = async (spec: LoadCaseSpec, window: LoadWindow): Promise<BenchCluster> => {
    if (current?.key !== spec.clusterKey) {
      // One cluster at a time: an idle one would take CPU from the one measured.
      await stopCluster();
      const starting = spec.startCluster().then(async (cluster) => {
        try {
          await runLoad(`${spec.clusterKey} priming`, cluster, spec.backend, {
            mix: 'put',
            inFlight: PRIMING_IN_FLIGHT,
            warmupMs: 0,
            durationMs: window.warmupMs,
          });
          return cluster;
        } catch (error) {
          await cluster.close();
          throw error;
        }
      });
      current = { key: spec.clusterKey, cluster: starting };
    }
    const entry = current;
    try {
      return await entry.cluster;
    } catch (error) {
      if (current === entry) current = undefined;
      throw error;
    }
  };

  const runCase = async (spec: LoadCaseSpec, window: LoadWindow): Promise<LoadResult> =>
    runLoad(spec.name, await clusterFor(spec, window), spec.backend, { ...spec.workload, ...window });

  const seconds = (window: LoadWindow): number =>
    Math.ceil((window.warmupMs + window.durationMs + CASE_OVERHEAD_MS) / 1000);
  const specsByName = new Map(definition.specs.map((spec) => [spec.name, spec]));
  const measured: Record<string, MeasuredCase> = {};
  const estimatedMs: Record<string, number> = {};
  for (const spec of definition.specs) {
    measured[spec.name] = {
      run: async ({ quick }) =>
        toMeasurement(await runCase(spec, quick ? definition.quickWindow : definition.window)),
      estimatedSeconds: { quick: seconds(definition.quickWindow), full: seconds(definition.window) },
    };
    estimatedMs[spec.name] = seconds(definition.window) * 1000;
  }
  const measure = async (caseName: string): Promise<LoadResult> => {
    const spec = specsByName.get(caseName);
    if (spec === undefined) throw new Error(`${definition.name} has no case ${caseName}`);
    return runCase(spec, definition.window);
  };

  return {
    name: definition.name,
    description: definition.description,
    quick: definition.quick,
    ...(definition.skipReason === undefined ? {} : { skipReason: definition.skipReason }),
    notes: definition.notes,
    cases: {},
    measured,
    measure,
    comparisons: runnerComparisons(definition.comparisons),
    loadComparisons: definition.comparisons,
    ...(definition.charts === undefined ? {} : { charts: definition.charts }),
    defaultRounds: definition.defaultRounds,
    estimatedMs,
    runAll: async (options = {}) => {
      if (definition.skipReason !== undefined) {
        console.log(`${definition.name}: skipped: ${definition.skipReason}`);
      }
      const chosen = definition.specs.filter((spec) => options.select?.(spec.name) ?? true);
      const results: LoadResult[] = [];
      try {
        for (const [index, spec] of chosen.entries()) {
          const remainingMs = chosen.slice(index).reduce((sum, s) => sum + estimatedMs[s.name]!, 0);
          options.onProgress?.({ case: spec.name, index, total: chosen.length, remainingMs });
          results.push(await measure(spec.name));
        }
      } finally {
        await stopCluster();
      }
      return {
        suite: definition.name,
        description: definition.description,
        quick: definition.quick,
        ...(definition.skipReason === undefined ? {} : { skipped: definition.skipReason }),
        notes: definition.notes,
        results,
        ratios: ratiosOf(definition.comparisons, results),
      };
    },
    close: stopCluster,
  };
}

/**
 * The runner's form of `comparisons`: it divides mean (and p50) latencies. At equal requests in flight a
 * closed loop's throughput is in-flight / mean latency, so the mean latency of the denominator over that of
 * the numerator is the numerator's throughput over the denominator's: > 1 when the numerator does better.
 */
export function runnerComparisons(comparisons: readonly LoadComparison[]): Comparison[] {
  return comparisons.map((c) => ({
    name: `${c.name}: × throughput (mean latency ${c.denominator} ÷ ${c.numerator})`,
    numerator: c.denominator,
    denominator: c.numerator,
  }));
}

/** The comparisons whose two cases both ran. */
export function ratiosOf(
  comparisons: readonly LoadComparison[],
  results: readonly LoadResult[],
): LoadRatio[] {
  const byName = new Map(results.map((r) => [r.case, r]));
  const ratios: LoadRatio[] = [];
  for (const comparison of comparisons) {
    const n = byName.get(comparison.numerator);
    const d = byName.get(comparison.denominator);
    if (n === undefined || d === undefined) continue;
    ratios.push({
      ...comparison,
      throughputRatio: n.throughput / d.throughput,
      p50Ratio: n.latencyMs.p50 / d.latencyMs.p50,
      p99Ratio: n.latencyMs.p99 / d.latencyMs.p99,
      p999Ratio: n.latencyMs.p999 / d.latencyMs.p999,
    });
  }
  return ratios;
}

const fixed = (value: number, digits: number): string =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '–';

/** The report as Markdown tables (results, then ratios), for the console or a summary. */
export function formatLoadReport(report: LoadSuiteReport): string {
  const lines = [`## ${report.suite}${report.quick ? ' (quick)' : ''}`, '', report.description, ''];
  if (report.skipped !== undefined) {
    lines.push(`Skipped: ${report.skipped}`);
    return lines.join('\n');
  }
  for (const note of report.notes) lines.push(`- ${note}`);
  if (report.notes.length > 0) lines.push('');
  lines.push(
    '| case | system | mix | in flight | ops/s | p50 ms | p99 ms | p99.9 ms | server CPU µs/op | client CPU µs/op | errors |',
    '| ---- | ------ | --- | --------: | ----: | -----: | -----: | -------: | ---------------: | ---------------: | ------ |',
  );
  for (const r of report.results) {
    const errors = Object.entries(r.errors)
      .map(([code, count]) => `${code} ${count}`)
      .join(', ');
    lines.push(
      `| ${r.case} | ${r.system} | ${r.mix} | ${r.inFlight} | ${fixed(r.throughput, 0)} | ${fixed(r.latencyMs.p50, 2)} | ` +
        `${fixed(r.latencyMs.p99, 2)} | ${fixed(r.latencyMs.p999, 2)} | ${fixed(r.serverCpuUsPerOp, 0)} | ` +
        `${fixed(r.clientCpuUsPerOp, 0)} | ${errors === '' ? '0' : errors} |`,
    );
  }
  if (report.ratios.length > 0) {
    lines.push(
      '',
      '| comparison | throughput × | p50 × | p99 × | p99.9 × |',
      '| ---------- | -----------: | ----: | ----: | ------: |',
    );
    for (const r of report.ratios) {
      lines.push(
        `| ${r.name} | ${fixed(r.throughputRatio, 2)} | ${fixed(r.p50Ratio, 2)} | ${fixed(r.p99Ratio, 2)} | ${fixed(r.p999Ratio, 2)} |`,
      );
    }
  }
  return lines.join('\n');
}
