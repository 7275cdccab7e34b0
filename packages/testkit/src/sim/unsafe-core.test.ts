import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RawNode, type Ready } from '@tsraft/core';
import { runSeed } from './run-seed.js';
import { runSeeds } from './run-seeds.js';
import type { InvariantCode } from './violation.js';

// The checkers catch real bugs: cores with a deliberate safety bug fail within a bounded number of seeds,
// while the real core passes those same seeds.

async function firstFailure(options: {
  seeds: number;
  unsafeCore?: 'disableFigure8Rule' | 'grantMultipleVotesPerTerm';
}) {
  const result = await runSeeds({ start: 1, steps: 2000, maxFailures: 1, ...options });
  assert.ok(result.failed > 0, `no failure in ${result.ran} seeds`);
  return result.failures[0]!;
}

describe('a core with a deliberate bug is caught', () => {
  it('commits entries of an earlier term by counting replicas (no Figure 8 rule): caught within 1500 seeds', async () => {
    const failure = await firstFailure({ seeds: 1500, unsafeCore: 'disableFigure8Rule' });
    const caughtBy: InvariantCode[] = ['leader-completeness', 'state-machine-safety', 'linearizability'];
    assert.ok(caughtBy.includes(failure.failure!.invariant), failure.failure!.message);
    assert.ok(runSeed(failure.seed).ok, `the real core passes seed ${failure.seed}`);
  });

  it('grants two votes in one term: caught within 200 seeds', async () => {
    const failure = await firstFailure({ seeds: 200, unsafeCore: 'grantMultipleVotesPerTerm' });
    const caughtBy: InvariantCode[] = ['durable-state-monotonic', 'ack-before-durable', 'election-safety'];
    assert.ok(caughtBy.includes(failure.failure!.invariant), failure.failure!.message);
    assert.ok(runSeed(failure.seed).ok, `the real core passes seed ${failure.seed}`);
  });
});

/** A driver bug: acknowledgements leave with `messages`, before the write they depend on is durable. */
class EarlyAcknowledgingNode extends RawNode {
  private readonly originals = new WeakMap<Ready, Ready>();
  override ready(): Ready {
    const ready = super.ready();
    const early: Ready = {
      ...ready,
      messages: [...ready.messages, ...ready.persistedMessages],
      persistedMessages: [],
    };
    this.originals.set(early, ready);
    return early;
  }
  override advance(ready: Ready): void {
    super.advance(this.originals.get(ready) ?? ready);
  }
}

/** A driver bug: the vote is never written to stable storage (term changes still are). */
class VoteForgettingNode extends RawNode {
  private readonly originals = new WeakMap<Ready, Ready>();
  override ready(): Ready {
    const ready = super.ready();
    const hs = ready.hardState;
    const forgetful: Ready = hs === null ? ready : { ...ready, hardState: { ...hs, vote: null } };
    this.originals.set(forgetful, ready);
    return forgetful;
  }
  override advance(ready: Ready): void {
    super.advance(this.originals.get(ready) ?? ready);
  }
}

describe('a driver that breaks the Ready contract is caught', () => {
  for (const [name, make] of [
    [
      'sends acknowledgements before the write is durable',
      (c: ConstructorParameters<typeof RawNode>[0]) => new EarlyAcknowledgingNode(c),
    ],
    ['never persists its vote', (c: ConstructorParameters<typeof RawNode>[0]) => new VoteForgettingNode(c)],
  ] as const) {
    it(`${name}: caught within 50 seeds by ack-before-durable`, () => {
      let caught: string | null = null;
      for (let seed = 1; seed <= 50 && caught === null; seed++) {
        const report = runSeed(seed, { createRawNode: make });
        if (!report.ok) {
          assert.equal(report.failure!.invariant, 'ack-before-durable', report.failure!.message);
          caught = report.failure!.message;
        }
      }
      assert.ok(caught !== null, 'not caught');
    });
  }
});
