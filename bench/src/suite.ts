import type { CaseResult } from './report.js';

/** One measured function. It must do the same work on every call; return values are ignored. */
export type BenchCase = () => unknown;

/** A ratio the runner reports from two cases measured in the same run. */
export interface Comparison {
  /** Short label, for example `encode: plain+codec / generated`. */
  readonly name: string;
  /** The case whose mean latency is divided. */
  readonly numerator: string;
  /** The case it is divided by. */
  readonly denominator: string;
}

/** What a {@link MeasuredCase} reports for one round. Times are in microseconds. */
export interface Measurement {
  /** Operations completed per second over the measured time. */
  readonly opsPerSecond: number;
  readonly meanUs: number;
  readonly p50Us: number;
  readonly p99Us: number;
  /** Half-width of the 95% confidence interval of the mean, as a percentage of the mean (0 if unknown). */
  readonly rmePercent?: number;
  /** Operations measured. */
  readonly samples: number;
  /**
   * Further figures, by their column heading with its unit (for example `p99.9 µs`, `CPU µs/op`); the
   * report gives the median over rounds of each and shows them as extra table columns.
   */
  readonly extra?: Readonly<Record<string, number>>;
}

/**
 * A case that measures itself instead of being timed by tinybench: for work that has its own load
 * generator (a closed loop with N requests in flight for a fixed time) rather than one call per sample.
 */
export interface MeasuredCase {
  /** Runs one round of the case; `quick` asks for a smoke-test length (a second or two). */
  readonly run: (options: { readonly quick: boolean }) => Promise<Measurement>;
  /** Expected wall time of one round, for the progress estimate before the case has run once. */
  readonly estimatedSeconds?: { readonly quick: number; readonly full: number };
}

/** Turns a per-case figure into one bar value of a chart. */
export interface ChartMetric {
  /** Legend label, for example `p50` or `CPU µs/op`. */
  readonly label: string;
  /** The value of one case, or `undefined` for no bar. */
  readonly value: (result: CaseResult) => number | undefined;
}

/**
 * A bar chart drawn from a suite's results, written as `docs/benchmarks/<suite>-<name>.svg`. Bars are
 * horizontal, one row of bars per group; each group has one bar per series and metric.
 */
export interface ChartSpec {
  /** Kebab-case, unique within the suite: the file-name part after `<suite>-`. */
  readonly name: string;
  /** Heading of the chart. */
  readonly title: string;
  /**
   * What the bars show: `throughput` (the suite's {@link BenchSuite.throughput} unit, else ops/s),
   * `latency` (p50 and p99), or metrics of its own (then {@link unit} names their unit).
   */
  readonly metrics: 'throughput' | 'latency' | readonly ChartMetric[];
  /** Value-axis title for custom metrics. */
  readonly unit?: string;
  /**
   * Places a case (its name without the `<suite>/` prefix) in a group (one row of bars, labelled) and a
   * series (one colour in the legend). Default: every case is its own group.
   */
  readonly groupBy?: (caseName: string) => { readonly group: string; readonly series: string };
  /** Value scale; `auto` (the default) is logarithmic when the values span two orders of magnitude. */
  readonly scale?: 'linear' | 'log' | 'auto';
}

/** A named group of cases that answer one question, with the ratios that answer it. */
export interface BenchSuite {
  /** Kebab-case name; results go to `docs/benchmarks/<name>.json`. */
  readonly name: string;
  /** The question the suite answers, printed above its table. */
  readonly description: string;
  /** Case name (unique within the suite) to the function measured. */
  readonly cases: Readonly<Record<string, BenchCase>>;
  /** Ratios of case latencies, reported when both cases ran. */
  readonly comparisons: readonly Comparison[];
  /** Releases what the cases opened (servers, sockets); the runner calls it after the suite. */
  readonly close?: () => Promise<void>;
  /**
   * Cases that measure themselves (see {@link MeasuredCase}), reported beside {@link cases}; names must
   * not repeat those of `cases`.
   */
  readonly measured?: Readonly<Record<string, MeasuredCase>>;
  /**
   * What one operation of a case carries, when throughput is better told in another unit than ops/s
   * (messages/s when one op sends a burst, entries/s when it appends a batch). The report and the
   * throughput chart show `opsPerSecond × perOp(case)` in that unit.
   */
  readonly throughput?: {
    /** Unit of the throughput, for example `messages/s`. */
    readonly unit: string;
    /** Units per operation of the case (its name without the `<suite>/` prefix). */
    readonly perOp: (caseName: string) => number;
  };
  /** Charts to draw. Default: throughput per case and latency (p50, p99) per case. */
  readonly charts?: readonly ChartSpec[];
  /**
   * Set when the suite cannot run on this machine (a missing binary, say): what is missing and how to
   * install it. The runner then measures nothing and writes a report that says so.
   */
  readonly skipReason?: string;
  /** Rounds of a full run when `--rounds` is not given (default 10), for suites whose cases are long. */
  readonly defaultRounds?: number;
}
