import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { BenchSuite } from './suite.js';

/** The measurements of one case. Times are in microseconds. */
export interface CaseResult {
  /** `<suite>/<case>`. */
  readonly name: string;
  readonly meanUs: number;
  readonly p50Us: number;
  readonly p99Us: number;
  /** Half-width of the 95% confidence interval of the mean, as a percentage of the mean. */
  readonly rmePercent: number;
  readonly opsPerSecond: number;
  readonly samples: number;
  /** `opsPerSecond` in the suite's throughput unit (`SuiteReport.throughputUnit`), when it declares one. */
  readonly throughput?: number;
  /** Further figures a measured case reports, by column heading with unit (for example `p99.9 µs`). */
  readonly extra?: Readonly<Record<string, number>>;
  /** Wall time spent on the case (warm-up included), summed over rounds: the progress display's estimate. */
  readonly seconds?: number;
}

/** One round of a suite: every selected case measured once, by name. */
export type RoundResult = ReadonlyMap<string, CaseResult>;

/**
 * Two cases compared, round by round. Means include the garbage-collection pauses the cases cause;
 * medians (p50) show the typical call without them. Each figure is the median over rounds; the ranges
 * show the lowest and highest round.
 */
export interface ComparisonResult {
  readonly name: string;
  /** `numerator mean / denominator mean`. */
  readonly meanRatio: number;
  readonly meanRatioRange: readonly [number, number];
  /** `numerator p50 / denominator p50`. */
  readonly p50Ratio: number;
  readonly p50RatioRange: readonly [number, number];
  /** `numerator mean - denominator mean`, in microseconds. */
  readonly meanDifferenceUs: number;
  /** `numerator p50 - denominator p50`, in microseconds. */
  readonly p50DifferenceUs: number;
}

/** What a run of one suite writes to `docs/benchmarks/`. */
export interface SuiteReport {
  readonly suite: string;
  readonly description: string;
  readonly date: string;
  readonly command: string;
  readonly quick: boolean;
  readonly rounds: number;
  readonly filter: readonly string[];
  readonly environment: {
    readonly node: string;
    readonly platform: string;
    readonly arch: string;
    readonly cpu: string;
    readonly cpuCount: number;
    /** 1-minute load average when the run ended: other work on the machine skews absolute times. */
    readonly loadAverage: number;
  };
  /** Per case, the median over rounds of each statistic (samples are summed). */
  readonly cases: readonly CaseResult[];
  readonly comparisons: readonly ComparisonResult[];
  /** Unit of `CaseResult.throughput`, when the suite declares one (for example `messages/s`). */
  readonly throughputUnit?: string;
  /** Why the suite measured nothing on this machine, and how to make it run. */
  readonly skipped?: string;
  /** Wall time of the whole suite, set-up and tear-down included. */
  readonly durationSeconds?: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function range(values: readonly number[]): [number, number] {
  return [Math.min(...values), Math.max(...values)];
}

/** Folds the rounds into one result per case: the median of each statistic, samples summed. */
export function summarize(names: readonly string[], rounds: readonly RoundResult[]): CaseResult[] {
  return names.map((name) => {
    const results = rounds.map((round) => round.get(name)!);
    const of = (pick: (r: CaseResult) => number) => median(results.map(pick));
    const optional = (pick: (r: CaseResult) => number | undefined): number | undefined => {
      const values = results.map(pick).filter((v): v is number => v !== undefined);
      return values.length === 0 ? undefined : median(values);
    };
    const extraKeys = [...new Set(results.flatMap((r) => Object.keys(r.extra ?? {})))];
    const extra = Object.fromEntries(
      extraKeys
        .map((key) => [key, optional((r) => r.extra?.[key])] as const)
        .filter(([, v]) => v !== undefined),
    ) as Record<string, number>;
    const throughput = optional((r) => r.throughput);
    const seconds = results.some((r) => r.seconds !== undefined)
      ? results.reduce((sum, r) => sum + (r.seconds ?? 0), 0)
      : undefined;
    return {
      name,
      meanUs: of((r) => r.meanUs),
      p50Us: of((r) => r.p50Us),
      p99Us: of((r) => r.p99Us),
      rmePercent: of((r) => r.rmePercent),
      opsPerSecond: of((r) => r.opsPerSecond),
      samples: results.reduce((sum, r) => sum + r.samples, 0),
      ...(throughput === undefined ? {} : { throughput }),
      ...(extraKeys.length === 0 ? {} : { extra }),
      ...(seconds === undefined ? {} : { seconds }),
    };
  });
}

/** Computes the suite's comparisons, for those whose two cases both ran. */
export function compare(suite: BenchSuite, rounds: readonly RoundResult[]): ComparisonResult[] {
  const out: ComparisonResult[] = [];
  for (const c of suite.comparisons) {
    const pairs = rounds.map((round) => [
      round.get(`${suite.name}/${c.numerator}`),
      round.get(`${suite.name}/${c.denominator}`),
    ]);
    if (pairs.some(([n, d]) => n === undefined || d === undefined)) continue;
    const both = pairs as [CaseResult, CaseResult][];
    const meanRatios = both.map(([n, d]) => n.meanUs / d.meanUs);
    const p50Ratios = both.map(([n, d]) => n.p50Us / d.p50Us);
    out.push({
      name: c.name,
      meanRatio: median(meanRatios),
      meanRatioRange: range(meanRatios),
      p50Ratio: median(p50Ratios),
      p50RatioRange: range(p50Ratios),
      meanDifferenceUs: median(both.map(([n, d]) => n.meanUs - d.meanUs)),
      p50DifferenceUs: median(both.map(([n, d]) => n.p50Us - d.p50Us)),
    });
  }
  return out;
}

/** Describes the machine the run happened on. */
export function environment(): SuiteReport['environment'] {
  const cpu = cpus();
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cpuCount: cpu.length,
    loadAverage: Math.round(loadavg()[0]! * 100) / 100,
  };
}

/** Renders a report as fixed-width text: one row per case, then the ratios. */
export function formatReport(report: SuiteReport): string {
  const env = report.environment;
  const heading = [
    `${report.suite}: ${report.description}`,
    `node ${env.node}, ${env.cpu} x${env.cpuCount}, load ${env.loadAverage}, ${report.rounds} round(s)` +
      (report.quick ? ' (--quick: indicative only)' : ''),
  ];
  if (report.skipped !== undefined) return [...heading, '', `skipped: ${report.skipped}`].join('\n');
  const unit = report.throughputUnit;
  const extraKeys = [...new Set(report.cases.flatMap((c) => Object.keys(c.extra ?? {})))];
  const header = [
    'case',
    ...(unit === undefined ? [] : [unit]),
    'mean µs',
    'p50 µs',
    'p99 µs',
    '±%',
    'ops/s',
    'samples',
    ...extraKeys,
  ];
  const rows = report.cases.map((c) => [
    c.name,
    ...(unit === undefined
      ? []
      : [c.throughput === undefined ? '' : Math.round(c.throughput).toLocaleString('en-US')]),
    c.meanUs.toFixed(2),
    c.p50Us.toFixed(2),
    c.p99Us.toFixed(2),
    c.rmePercent.toFixed(2),
    Math.round(c.opsPerSecond).toLocaleString('en-US'),
    String(c.samples),
    ...extraKeys.map((k) => {
      const v = c.extra?.[k];
      return v === undefined ? '' : v.toFixed(2);
    }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  const lines = [...heading, '', line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  if (report.comparisons.length > 0) {
    const width = Math.max(...report.comparisons.map((c) => c.name.length));
    const signed = (us: number) => `${us >= 0 ? '+' : ''}${us.toFixed(2)} µs`;
    const span = ([lo, hi]: readonly [number, number]) => `${lo.toFixed(2)}–${hi.toFixed(2)}`;
    lines.push('', 'ratios (median over rounds [lowest–highest round]):');
    for (const c of report.comparisons) {
      lines.push(
        `  ${c.name.padEnd(width)}  mean ${c.meanRatio.toFixed(2)}x [${span(c.meanRatioRange)}] ${signed(c.meanDifferenceUs)}` +
          `   p50 ${c.p50Ratio.toFixed(2)}x [${span(c.p50RatioRange)}] ${signed(c.p50DifferenceUs)}`,
      );
    }
  }
  return lines.join('\n');
}

/**
 * Writes a report as JSON into `dir`: `<suite>.json` for a complete full-length run, `<suite>.local.json`
 * for a `--quick` or filtered one, so that quick checks never overwrite the recorded results.
 *
 * @returns the path written.
 */
export function writeReport(dir: string, report: SuiteReport, complete: boolean): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, complete ? `${report.suite}.json` : `${report.suite}.local.json`);
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}
