import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import {
  type CaseResult,
  compare,
  environment,
  formatReport,
  type RoundResult,
  type SuiteReport,
  summarize,
  writeReport,
} from './report.js';
import { SUITES } from './suites.js';

const USAGE = `usage: pnpm bench [--quick] [--rounds N] [--list] [filter ...]

Runs the benchmark suites. A case runs when its name "<suite>/<case>" contains any filter (all run when
none is given). Each suite runs in rounds that alternate the case order, so a change in machine load
hits every case alike; the report gives per-case medians over rounds and the median of each round's
ratios. Results print as a table and are written to docs/benchmarks/<suite>.json (complete runs) or
docs/benchmarks/<suite>.local.json (--quick or filtered runs).

  --quick      one short round per suite (a smoke test; numbers are indicative only)
  --rounds N   rounds per suite (default 10; 1 with --quick)
  --list       print the case names and exit`;

interface Options {
  readonly quick: boolean;
  readonly list: boolean;
  readonly rounds: number;
  readonly filters: readonly string[];
}

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function parseArgs(args: readonly string[]): Options {
  let quick = false;
  let list = false;
  let rounds: number | undefined;
  const filters: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--quick') quick = true;
    else if (arg === '--list') list = true;
    else if (arg === '--rounds') {
      rounds = Number(args[++i]);
      if (!Number.isInteger(rounds) || rounds < 1) fail('--rounds needs a positive integer');
    } else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (arg.startsWith('-')) fail(`unknown option ${arg}`);
    else filters.push(arg);
  }
  return { quick, list, rounds: rounds ?? (quick ? 1 : 10), filters };
}

function selected(name: string, filters: readonly string[]): boolean {
  return filters.length === 0 || filters.some((f) => name.includes(f));
}

async function runRound(
  suiteName: string,
  cases: readonly [string, () => unknown][],
  quick: boolean,
): Promise<RoundResult> {
  const bench = new Bench({
    name: suiteName,
    time: quick ? 100 : 300,
    warmupTime: quick ? 20 : 50,
    iterations: quick ? 16 : 64,
    throws: true,
  });
  for (const [name, fn] of cases) bench.add(name, fn);
  await bench.run();
  const round = new Map<string, CaseResult>();
  for (const task of bench.tasks) {
    const result = task.result;
    if (result.state !== 'completed') throw new Error(`${task.name} did not complete: ${result.state}`);
    round.set(task.name, {
      name: task.name,
      meanUs: result.latency.mean * 1000,
      p50Us: result.latency.p50 * 1000,
      p99Us: result.latency.p99 * 1000,
      rmePercent: result.latency.rme,
      opsPerSecond: 1000 / result.latency.mean,
      samples: result.latency.samplesCount,
    });
  }
  return round;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const outDir = fileURLToPath(new URL('../../docs/benchmarks/', import.meta.url));
  let ran = 0;

  for (const [suiteName, createSuite] of Object.entries(SUITES)) {
    const suite = createSuite();
    const all = Object.entries(suite.cases).map(
      ([c, fn]) => [`${suiteName}/${c}`, fn] as [string, () => unknown],
    );
    if (options.list) {
      for (const [name] of all) console.log(name);
      continue;
    }
    const chosen = all.filter(([name]) => selected(name, options.filters));
    if (chosen.length === 0) continue;

    const rounds: RoundResult[] = [];
    try {
      for (let r = 0; r < options.rounds; r++) {
        // Alternate the order so that neither warm-up effects nor a drift in load favour one case.
        const order = r % 2 === 0 ? chosen : [...chosen].reverse();
        rounds.push(await runRound(suiteName, order, options.quick));
        process.stderr.write(`${suiteName}: round ${r + 1}/${options.rounds} done\n`);
      }
    } finally {
      await suite.close?.();
    }
    const names = chosen.map(([name]) => name);
    const report: SuiteReport = {
      suite: suiteName,
      description: suite.description,
      date: new Date().toISOString(),
      command: ['pnpm bench', ...process.argv.slice(2)].join(' '),
      quick: options.quick,
      rounds: options.rounds,
      filter: options.filters,
      environment: environment(),
      cases: summarize(names, rounds),
      comparisons: compare(suite, rounds),
    };
    console.log(`${formatReport(report)}\n`);
    const complete = !options.quick && chosen.length === all.length;
    console.log(`wrote ${writeReport(outDir, report, complete)}\n`);
    ran += chosen.length;
  }

  if (!options.list && ran === 0) {
    console.error(`no case matches ${options.filters.join(', ')}; try --list`);
    process.exitCode = 1;
  }
}

await main();
