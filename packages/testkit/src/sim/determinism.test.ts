import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeRegisterCommand } from './register-state-machine.js';
import { runSeed } from './run-seed.js';
import { runSeeds } from './run-seeds.js';
import { Simulation } from './simulation.js';

describe('determinism', () => {
  it('replays a seed exactly: same trace digest, steps, virtual time and history', () => {
    for (const seed of [1, 7, 42, 1234, 99991]) {
      const a = runSeed(seed, { steps: 2000 });
      const b = runSeed(seed, { steps: 2000 });
      assert.equal(a.digest, b.digest, `seed ${seed}`);
      assert.equal(a.steps, b.steps);
      assert.equal(a.timeMs, b.timeMs);
      assert.deepEqual(a.stats, b.stats);
      assert.deepEqual(a.nodes, b.nodes);
    }
  });

  it('gives different seeds different runs', () => {
    const digests = new Set<string>();
    for (let seed = 1; seed <= 50; seed++) digests.add(runSeed(seed, { steps: 500 }).digest);
    assert.equal(digests.size, 50);
  });

  it('replays the whole event log line for line', () => {
    const a = runSeed(5, { steps: 1000, fullTrace: true });
    const b = runSeed(5, { steps: 1000, fullTrace: true });
    assert.ok(a.trace.length > 1000);
    assert.deepEqual(a.trace, b.trace);
  });

  it('replays a scripted run exactly', () => {
    const script = (): string => {
      const sim = new Simulation({
        seed: 11,
        nodes: 5,
        network: { lossRate: 0.1, reorderRate: 0.2, reorderDelayMs: 50 },
      });
      sim.runUntil(() => sim.leader() !== null, 2000);
      for (let i = 0; i < 20; i++) {
        const leader = sim.leader();
        if (leader !== null)
          sim.propose(leader, encodeRegisterCommand({ op: 'write', key: 'k', value: `${i}` }));
        sim.runFor(30);
        if (i === 10 && leader !== null) sim.crashFor(leader, 200);
      }
      sim.runFor(1000);
      return `${sim.trace.digest}/${sim.steps}/${sim.committedIndex}`;
    };
    assert.equal(script(), script());
  });

  it('runs a seed the same in a worker thread as in this thread', async () => {
    const digests = async (workers: number): Promise<Map<number, string>> => {
      const out = new Map<number, string>();
      const result = await runSeeds({
        seeds: 12,
        start: 300,
        steps: 1000,
        workers,
        onReport: (report) => out.set(report.seed, report.digest),
      });
      assert.equal(result.ran, 12);
      return out;
    };
    assert.deepEqual(await digests(2), await digests(0));
  });
});
