import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AppliedCommand, StateMachine } from '@tsraft/core';
import { CounterStateMachine, createWorkload } from './counter-workload.test.fixture.js';
import { runSeed } from './run-seed.js';
import { runSeeds } from './run-seeds.js';
import { createCommandWorkload } from './workload.js';

// These tests are about plugging in a state machine; membership changes are exercised by seeds.test.ts and
// membership-scenarios.test.ts (and a rare liveness gap with them is open: docs/membership.md).
describe('a custom state machine under the simulator', () => {
  it('runs with runSeed and a workload factory', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const report = runSeed(seed, { workload: createWorkload, membership: false });
      assert.ok(report.ok, `seed ${seed}: ${report.failure?.message}`);
    }
  });

  it('runs in worker threads from a workload module', async () => {
    const result = await runSeeds({
      seeds: 40,
      membership: false,
      workloadModule: new URL('./counter-workload.test.fixture.js', import.meta.url),
    });
    assert.equal(result.ran, 40);
    assert.equal(result.failed, 0, result.failures.map((r) => r.failure?.message).join('\n'));
  });

  it('catches a state machine whose results differ between nodes', () => {
    let instances = 0;
    /** Returns a result that depends on which node applies it: not deterministic. */
    class Skewed extends CounterStateMachine {
      private readonly id = instances++;
      override apply(command: AppliedCommand): number {
        return super.apply(command) + (this.id % 2);
      }
    }
    const report = runSeed(3, {
      workload: () =>
        createCommandWorkload({
          createStateMachine: () => new Skewed(),
          nextCommand: (_c, random) => Uint8Array.of(random.int(1, 9)),
        }),
    });
    assert.equal(report.failure?.invariant, 'state-machine-determinism', report.failure?.message);
  });

  it('runs a workload check over the history and reports its verdict', () => {
    const report = runSeed(2, {
      workload: () =>
        createCommandWorkload({
          name: 'strict',
          createStateMachine: () => new CounterStateMachine(),
          nextCommand: () => Uint8Array.of(1),
          check: (history) => ({ ok: history.length === 0, reason: `${history.length} operations` }),
        }),
    });
    assert.equal(report.failure?.invariant, 'workload');
  });

  it('rejects a state machine that returns Promises', () => {
    const report = runSeed(1, {
      workload: () =>
        createCommandWorkload({
          createStateMachine: (): StateMachine => ({
            apply: async () => 1,
            snapshot: () => new Uint8Array(0),
            restore: () => undefined,
          }),
          nextCommand: () => Uint8Array.of(1),
        }),
    });
    assert.equal(report.failure?.invariant, 'core-error');
    assert.match(report.failure!.message, /must be synchronous/);
  });
});
