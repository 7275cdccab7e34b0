// A workload module for tests and for the docs' example: a replicated counter with a custom StateMachine,
// runnable with `pnpm sim --workload packages/testkit/dist/sim/counter-workload.test.fixture.js`.
import type { AppliedCommand, SnapshotData, SnapshotMeta, StateMachine } from '@tsraft/core';
import type { RunPlan } from './run-plan.js';
import { createCommandWorkload, type SimWorkload } from './workload.js';

/** Adds the command's single byte to a running total; returns the new total. */
export class CounterStateMachine implements StateMachine<number> {
  total = 0;
  apply(command: AppliedCommand): number {
    this.total += command.data[0] ?? 0;
    return this.total;
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(String(this.total));
  }
  restore(data: SnapshotData, _meta: SnapshotMeta): void {
    this.total = data.byteLength === 0 ? 0 : Number(new TextDecoder().decode(data.toBytes()));
  }
}

/** The workload module's entry point: one fresh workload per seed. */
export function createWorkload(_plan: RunPlan): SimWorkload<CounterStateMachine> {
  return createCommandWorkload({
    name: 'counter',
    createStateMachine: () => new CounterStateMachine(),
    nextCommand: (_client, random) => Uint8Array.of(random.int(1, 9)),
    read: (sm) => sm.total,
  });
}
