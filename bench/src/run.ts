import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { outputName, readReport, writeOutputs } from './report/outputs.js';
import { createProgress, formatDuration, type ProgressStep } from './report/progress.js';
import {
  type CaseResult,
  compare,
  environment,
  formatReport,
  type RoundResult,
  type SuiteReport,
  summarize,
} from './report.js';
import type { BenchSuite, MeasuredCase } from './suite.js';
import { SUITES } from './suites.js';

const USAGE = `usage: pnpm bench [--quick] [--rounds N] [--list | --suites | --render] [filter ...]

Runs the benchmark suites. A case runs when its name "<suite>/<case>" contains any filter (all run when
none is given). Each suite runs in rounds that alternate the case order, so a change in machine load
hits every case alike; the report gives per-case medians over rounds and the median of each round's
ratios. Results print as a table; each suite writes to docs/benchmarks/ its raw results (<suite>.json),
a Markdown summary (<suite>.md) and charts (<suite>-<chart>.svg); --quick or filtered runs write
<suite>.local.json, <suite>.local.md and <suite>-<chart>.local.svg instead. Progress goes to stderr.

  --quick      one short round per suite (a smoke test; numbers are indicative only)
  --rounds N   rounds per suite (default 10, or the suite's own default; 1 with --quick)
  --list       print the case names and exit
  --suites     print the suite names and exit
  --render     measure nothing: rewrite the Markdown and charts of the selected suites from their JSON`;

interface Options {
  readonly quick: boolean;
  readonly list: boolean;
  readonly suites: boolean;
  readonly render: boolean;
  /** Rounds asked for on the command line, if any. */
  readonly rounds: number | undefined;
  readonly filters: readonly string[];
}

/**
 * Tinybench settings per case and round. Tinybench runs at least `iterations` calls and at least `time`
 * ms, after a warm-up of at least `warmupIterations` calls (default 16) and `warmupTime` ms; quick runs cut
 * the call counts, which matters for cases that take a tenth of a second per call (256 fdatasyncs).
 */
const TIMING = {
  quick: { time: 100, warmupTime: 20, warmupIterations: 4, iterations: 8 },
  full: { time: 300, warmupTime: 50, iterations: 64 },
} as const;

/** Seconds one round of a case is expected to take before anything is known about it. */
const DEFAULT_ESTIMATE_SECONDS = {
  tinybench: { quick: 0.3, full: 0.8 },
  measured: { quick: 5, full: 30 },
} as const;

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function parseArgs(args: readonly string[]): Options {
  let quick = false;
  let list = false;
  let suites = false;
  let render = false;
  let rounds: number | undefined;
  const filters: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--quick') quick = true;
    else if (arg === '--list') list = true;
    else if (arg === '--suites') suites = true;
    else if (arg === '--render') render = true;
    else if (arg === '--rounds') {
      rounds = Number(args[++i]);
      if (!Number.isInteger(rounds) || rounds < 1) fail('--rounds needs a positive integer');
    } else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (arg.startsWith('-')) fail(`unknown option ${arg}`);
    else filters.push(arg);
  }
  return { quick, list, suites, render, rounds, filters };
}

function selected(name: string, filters: readonly string[]): boolean {
  return filters.length === 0 || filters.some((f) => name.includes(f));
}

/** Whether a filter names the suite itself (`etcd`, `etcd/`): used for suites that have no case to match. */
function suiteSelected(suite: string, filters: readonly string[]): boolean {
  return filters.length === 0 || filters.some((f) => `${suite}/`.includes(f) || f.startsWith(`${suite}/`));
}

/** Measures one case once; `seconds` is its wall time, warm-up included. */
type CaseRunner = (quick: boolean) => Promise<CaseResult>;

function tinybenchRunner(suiteName: string, name: string, fn: () => unknown): CaseRunner {
  return async (quick) => {
    const started = performance.now();
    // One Bench per case (tinybench runs its tasks one after another anyway), so progress can follow cases.
    const bench = new Bench({ name: suiteName, ...(quick ? TIMING.quick : TIMING.full), throws: true });
    bench.add(name, fn);
    await bench.run();
    const task = bench.tasks[0]!;
    const result = task.result;
    if (result.state !== 'completed') throw new Error(`${task.name} did not complete: ${result.state}`);
    return {
      name,
      meanUs: result.latency.mean * 1000,
      p50Us: result.latency.p50 * 1000,
      p99Us: result.latency.p99 * 1000,
      rmePercent: result.latency.rme,
      opsPerSecond: 1000 / result.latency.mean,
      samples: result.latency.samplesCount,
      seconds: (performance.now() - started) / 1000,
    };
  };
}

function measuredRunner(name: string, measured: MeasuredCase): CaseRunner {
  return async (quick) => {
    const started = performance.now();
    const m = await measured.run({ quick });
    return {
      name,
      meanUs: m.meanUs,
      p50Us: m.p50Us,
      p99Us: m.p99Us,
      rmePercent: m.rmePercent ?? 0,
      opsPerSecond: m.opsPerSecond,
      samples: m.samples,
      ...(m.extra === undefined ? {} : { extra: m.extra }),
      seconds: (performance.now() - started) / 1000,
    };
  };
}

/** A registered suite, created, with the cases the filters chose. */
interface PlannedSuite {
  readonly key: string;
  readonly suite: BenchSuite;
  /** Every case of the suite, `<suite>/<case>`. */
  readonly all: readonly string[];
  /** The cases to run, with their runners and first estimates of one round. */
  readonly chosen: readonly { name: string; run: CaseRunner; estimateSeconds: number }[];
  readonly rounds: number;
  /** Why nothing is measured: the suite's skip reason, or that it has no case. */
  readonly skipped: string | undefined;
  /** A complete full-length run, written to the recorded files rather than `.local` ones. */
  readonly complete: boolean;
}

function plan(key: string, suite: BenchSuite, options: Options, outDir: string): PlannedSuite | null {
  const tinybench = Object.entries(suite.cases).map(([c, fn]) => ({
    name: `${key}/${c}`,
    run: tinybenchRunner(key, `${key}/${c}`, fn),
    declared: undefined as number | undefined,
  }));
  const measured = Object.entries(suite.measured ?? {}).map(([c, m]) => ({
    name: `${key}/${c}`,
    run: measuredRunner(`${key}/${c}`, m),
    declared:
      m.estimatedSeconds?.[options.quick ? 'quick' : 'full'] ??
      DEFAULT_ESTIMATE_SECONDS.measured[options.quick ? 'quick' : 'full'],
  }));
  const all = [...tinybench, ...measured];
  const skipped = suite.skipReason ?? (all.length === 0 ? 'the suite has no case' : undefined);
  if (skipped !== undefined) {
    if (!suiteSelected(key, options.filters)) return null;
    return { key, suite, all: [], chosen: [], rounds: 0, skipped, complete: false };
  }
  const rounds = options.rounds ?? (options.quick ? 1 : (suite.defaultRounds ?? 10));
  const chosenCases = all.filter((c) => selected(c.name, options.filters));
  if (chosenCases.length === 0) return null;
  const complete = !options.quick && chosenCases.length === all.length;
  // The last run of the same kind tells how long each case takes here.
  const previous = readReport(outDir, key, complete);
  const previousSeconds = new Map<string, number>();
  if (previous !== null && previous.quick === options.quick && previous.rounds > 0) {
    for (const c of previous.cases) {
      if (c.seconds !== undefined) previousSeconds.set(c.name, c.seconds / previous.rounds);
    }
  }
  const chosen = chosenCases.map((c) => ({
    name: c.name,
    run: c.run,
    estimateSeconds:
      previousSeconds.get(c.name) ??
      c.declared ??
      DEFAULT_ESTIMATE_SECONDS.tinybench[options.quick ? 'quick' : 'full'],
  }));
  return { key, suite, all: all.map((c) => c.name), chosen, rounds, skipped: undefined, complete };
}

/** The case order of round `r`: alternated, so that neither warm-up effects nor a drift in load favour one case. */
function roundOrder<T>(cases: readonly T[], r: number): readonly T[] {
  return r % 2 === 0 ? cases : [...cases].reverse();
}

function commandLine(): string {
  return ['pnpm bench', ...process.argv.slice(2)].join(' ');
}

/** Rewrites the Markdown and charts of the selected suites from their JSON files. */
function render(options: Options, outDir: string): void {
  let rendered = 0;
  for (const [key, create] of Object.entries(SUITES)) {
    if (!suiteSelected(key, options.filters)) continue;
    const suite = create({ quick: options.quick });
    for (const complete of [true, false]) {
      const report = readReport(outDir, key, complete);
      if (report === null) continue;
      const written = writeOutputs(outDir, report, suite.charts, complete).slice(1);
      console.log(`rendered ${outputName(key, complete, 'json')}: ${written.join(', ')}`);
      rendered++;
    }
    void suite.close?.();
  }
  if (rendered === 0) {
    console.error('no results to render; run the suites first');
    process.exitCode = 1;
  }
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const outDir = fileURLToPath(new URL('../../docs/benchmarks/', import.meta.url));
  if (options.suites) {
    for (const key of Object.keys(SUITES)) console.log(key);
    return;
  }
  if (options.render) {
    render(options, outDir);
    return;
  }

  const created: BenchSuite[] = [];
  const closed = new Set<BenchSuite>();
  const close = async (suite: BenchSuite) => {
    if (closed.has(suite)) return;
    closed.add(suite);
    await suite.close?.();
  };
  try {
    const plans: PlannedSuite[] = [];
    for (const [key, create] of Object.entries(SUITES)) {
      const suite = create({ quick: options.quick });
      created.push(suite);
      const p = plan(key, suite, options, outDir);
      if (options.list) {
        for (const name of [...Object.keys(suite.cases), ...Object.keys(suite.measured ?? {})]) {
          console.log(`${key}/${name}`);
        }
      } else if (p !== null) plans.push(p);
    }
    if (options.list) return;
    if (plans.length === 0) {
      console.error(`no case matches ${options.filters.join(', ')}; try --list`);
      process.exitCode = 1;
      return;
    }

    const steps: ProgressStep[] = [];
    for (const p of plans) {
      for (let r = 0; r < p.rounds; r++) {
        for (const c of roundOrder(p.chosen, r)) {
          steps.push({
            suite: p.key,
            name: c.name,
            round: r + 1,
            rounds: p.rounds,
            estimateSeconds: c.estimateSeconds,
          });
        }
      }
    }
    const progress = createProgress(steps, {
      write: (text) => process.stderr.write(text),
      tty: process.stderr.isTTY === true,
      ...(process.stderr.columns === undefined ? {} : { columns: process.stderr.columns }),
    });
    const print = (text: string) => {
      progress.clear();
      console.log(text);
    };
    const began = performance.now();
    let step = 0;
    try {
      for (const p of plans) {
        const suiteBegan = performance.now();
        const rounds: RoundResult[] = [];
        try {
          for (let r = 0; r < p.rounds; r++) {
            const round = new Map<string, CaseResult>();
            for (const c of roundOrder(p.chosen, r)) {
              progress.start(step);
              const result = await c.run(options.quick);
              progress.finish();
              step++;
              round.set(c.name, result);
            }
            rounds.push(round);
          }
        } finally {
          await close(p.suite);
        }
        const throughput = p.suite.throughput;
        const names = p.chosen.map((c) => c.name);
        const cases = summarize(names, rounds).map((c) =>
          throughput === undefined
            ? c
            : { ...c, throughput: c.opsPerSecond * throughput.perOp(c.name.slice(p.key.length + 1)) },
        );
        const report: SuiteReport = {
          suite: p.key,
          description: p.suite.description,
          date: new Date().toISOString(),
          command: commandLine(),
          quick: options.quick,
          rounds: p.rounds,
          filter: options.filters,
          environment: environment(),
          cases,
          comparisons: p.skipped === undefined ? compare(p.suite, rounds) : [],
          ...(throughput === undefined ? {} : { throughputUnit: throughput.unit }),
          ...(p.skipped === undefined ? {} : { skipped: p.skipped }),
          durationSeconds: (performance.now() - suiteBegan) / 1000,
        };
        print(`${formatReport(report)}\n`);
        const written = writeOutputs(outDir, report, p.suite.charts, p.complete);
        print(`wrote ${written.join(', ')}\n`);
      }
    } finally {
      progress.stop();
    }
    console.error(
      `bench: ${steps.length} case rounds in ${formatDuration((performance.now() - began) / 1000)}`,
    );
  } finally {
    for (const suite of created) await close(suite);
  }
}

await main();
