import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runSeeds } from './run-seeds.js';
import { formatSeedReport } from './seed-report-format.js';

// CI's share of `pnpm sim --seeds 20000 --steps 2000`: 500 seeds, spread over one worker per core.
it('passes 500 seeds of 2000 steps (safety after every step, liveness, linearizability)', async () => {
  const result = await runSeeds({ seeds: 500, start: 1, steps: 2000 });
  const reports = result.failures.map((r) =>
    formatSeedReport(r, { replay: `pnpm sim --seeds 1 --start ${r.seed} --steps 2000`, traceLines: 20 }),
  );
  assert.equal(result.ran, 500);
  assert.equal(result.failed, 0, `\n${reports.join('\n')}`);
});
