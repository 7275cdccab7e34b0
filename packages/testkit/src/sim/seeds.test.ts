import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runSeeds } from './run-seeds.js';
import { formatSeedReport } from './seed-report-format.js';

// CI's share of `pnpm sim --seeds 50000 --steps 2000`: 2000 seeds, spread over one worker per core. Membership
// changes are on, as in `pnpm sim`: about four runs in five add, remove and replace servers.
it('passes 2000 seeds of 2000 steps (safety after every step, liveness, linearizability)', async () => {
  let withChanges = 0;
  let configs = 0;
  const result = await runSeeds({
    seeds: 2000,
    start: 1,
    steps: 2000,
    onReport: (report) => {
      if (report.stats.configsCommitted > 0) withChanges++;
      configs += report.stats.configsCommitted;
    },
  });
  const reports = result.failures.map((r) =>
    formatSeedReport(r, { replay: `pnpm sim --seeds 1 --start ${r.seed} --steps 2000`, traceLines: 20 }),
  );
  assert.equal(result.ran, 2000);
  assert.equal(result.failed, 0, `\n${reports.join('\n')}`);
  // The membership workload really changes the membership (seeds 1-2000: 1145 runs, 3050 config entries).
  assert.ok(withChanges >= 900, `only ${withChanges} runs committed a membership change`);
  assert.ok(configs >= 2500, `only ${configs} config entries committed`);
});
