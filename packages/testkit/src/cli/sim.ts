#!/usr/bin/env node
import { type RunSeedsResult, runSeeds } from '../sim/run-seeds.js';
import { formatSeedReport } from '../sim/seed-report-format.js';
import { parseSimArgs, SIM_USAGE, type SimArgs } from './sim-args.js';

// `pnpm sim`: runs seeds of the deterministic simulator and reports the failing ones.

// Output piped into `head` and the like: stop quietly when the reader goes away.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

let args: SimArgs;
try {
  args = parseSimArgs(process.argv.slice(2));
} catch (error) {
  console.error(`sim: ${error instanceof Error ? error.message : String(error)}\n\n${SIM_USAGE}`);
  process.exit(2);
}
if (args.help) {
  console.log(SIM_USAGE);
  process.exit(0);
}

const replay = (seed: number): string =>
  `pnpm sim --seeds 1 --start ${seed} --steps ${args.steps}` +
  (args.membership ? '' : ' --no-membership') +
  (args.workload === undefined ? '' : ` --workload ${args.workload}`) +
  (args.unsafeCore === undefined ? '' : ` --unsafe-core ${args.unsafeCore}`);

const progress = process.stderr.isTTY === true && args.seeds > 1;
let done = 0;
let lastProgress = 0;
let result: RunSeedsResult;
try {
  result = await runSeeds({
    seeds: args.seeds,
    start: args.start,
    steps: args.steps,
    fullTrace: args.trace,
    membership: args.membership,
    ...(args.workers === undefined ? {} : { workers: args.workers }),
    ...(args.unsafeCore === undefined ? {} : { unsafeCore: args.unsafeCore }),
    ...(args.workload === undefined ? {} : { workloadModule: args.workload }),
    onReport(report) {
      done++;
      if (progress) process.stderr.write('\r\x1b[K');
      if (args.trace) {
        console.log(`seed ${report.seed} (${report.plan}), digest ${report.digest}:`);
        for (const line of report.trace) console.log(`  ${line}`);
      }
      if (!report.ok) {
        console.log(
          formatSeedReport(report, { replay: replay(report.seed), traceLines: args.trace ? 0 : 40 }),
        );
      } else if (args.seeds === 1) {
        console.log(formatSeedReport(report, { traceLines: 0 }));
      }
      const now = Date.now();
      if (progress && now - lastProgress > 500) {
        lastProgress = now;
        process.stderr.write(`\r\x1b[K${done}/${args.seeds} seeds`);
      }
    },
  });
} catch (error) {
  console.error(`sim: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(2);
}
if (progress) process.stderr.write('\r\x1b[K');
const minutes = result.elapsedMs / 60000;
const rate = minutes > 0 ? Math.round(result.ran / minutes) : result.ran;
const threads =
  result.workers > 0 ? `${result.workers} worker thread${result.workers === 1 ? '' : 's'}` : 'main thread';
console.log(
  `${result.ran} seeds from ${args.start}, ${args.steps} steps each, ${threads}: ${(result.elapsedMs / 1000).toFixed(1)} s (${rate} seeds/min)`,
);
console.log(`${result.passed} passed, ${result.failed} failed`);
process.exitCode = result.failed > 0 ? 1 : 0;
