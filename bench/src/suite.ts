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
}
