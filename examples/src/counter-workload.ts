// The counter state machine under the deterministic simulator (docs/simulator.md): a workload module.
//
//   pnpm sim --seeds 2000 --workload examples/dist/counter-workload.js
//
// Clients add 1..9 to one of two counters and read; the simulator checks every Raft property, that all
// replicas return equal results per index, and liveness; `check` below checks the history against what
// a counter must do.
import {
  type ClientOperation,
  createCommandWorkload,
  type RunPlan,
  type SimWorkload,
  type WorkloadVerdict,
} from '@tsraft/testkit';
import {
  type CounterResult,
  CounterStateMachine,
  decodeCounterCommand,
  encodeCounterCommand,
} from './counter-state-machine.js';

const NAMES = ['a', 'b'];

/** The module's entry point: one fresh workload per seed. */
export function createWorkload(_plan: RunPlan): SimWorkload<CounterStateMachine> {
  return createCommandWorkload({
    name: 'counter',
    createStateMachine: () => new CounterStateMachine(),
    // Draw every choice from `random`, so a seed replays exactly.
    nextCommand: (_client, random) =>
      encodeCounterCommand({ op: 'add', name: NAMES[random.int(0, 1)]!, delta: random.int(1, 9) }),
    read: (counters) => counters.describe(),
    check: checkCounterHistory,
  });
}

/**
 * Every acknowledged add, in log order per counter, must leave the counter strictly higher than the one
 * before, by at least its own delta (more when adds whose answer was lost landed in between).
 */
export function checkCounterHistory(history: readonly ClientOperation[]): WorkloadVerdict {
  const last = new Map<string, { index: number; value: number }>();
  const adds = history
    .filter((op) => op.status === 'ok' && op.request.kind === 'propose' && op.index !== null)
    .sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
  for (const op of adds) {
    if (op.request.kind !== 'propose') continue;
    const command = decodeCounterCommand(op.request.command);
    const result = op.result as CounterResult;
    if (command === null || command.op !== 'add') return { ok: false, reason: `op ${op.id}: not an add` };
    if (!result.ok) return { ok: false, reason: `op ${op.id}: refused (${result.reason})` };
    const before = last.get(command.name) ?? { index: 0, value: 0 };
    if (result.value - command.delta < before.value) {
      return {
        ok: false,
        reason: `op ${op.id}: ${command.name} became ${result.value} at ${result.index} after +${command.delta}, but it was already ${before.value} at ${before.index}`,
      };
    }
    last.set(command.name, { index: result.index, value: result.value });
  }
  return { ok: true, reason: `${adds.length} acknowledged adds in order` };
}
