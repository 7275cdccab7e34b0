import {
  type CheckOptions,
  checkLinearizable,
  type Operation,
  type RegisterInput,
  type RegisterOutput,
  registerInput,
  registerModel,
} from '../linearizability/index.js';
import { encodeRegisterCommand, RegisterStateMachine } from './register-state-machine.js';
import type { SimRandom } from './sim-random.js';
import type { ClientOperation, SimRequest, SimWorkload, WorkloadVerdict } from './workload.js';

/** Options of {@link createRegisterWorkload}. */
export interface RegisterWorkloadOptions {
  /** Number of keys (`k0`, `k1`, ...). Default 2. */
  readonly keys?: number;
  /**
   * Operations on one key before its clients move on to a fresh one (`k0`, then `k0.1`, `k0.2`, ...). Keys are
   * checked independently, so this bounds the size of each history the checker must search, however long the
   * run. Default 100.
   */
  readonly opsPerKey?: number;
  /** Relative weights of the three operations. Default read 4, write 3, cas 3. */
  readonly mix?: { readonly read: number; readonly write: number; readonly cas: number };
  /** Options of the linearizability check (search budget). */
  readonly check?: CheckOptions;
}

/**
 * The simulator's default workload: clients read, write and compare-and-set a few string registers on a
 * {@link RegisterStateMachine}. Every written value is unique, so the history check is strong. The history is
 * checked for linearizability, per key, by the WGL checker with the register model; operations whose outcome
 * the client never learned are recorded as unknown.
 *
 * A workload holds state (the next value, values seen for cas): make one per simulation.
 */
export function createRegisterWorkload(
  options: RegisterWorkloadOptions = {},
): SimWorkload<RegisterStateMachine> {
  const keyCount = options.keys ?? 2;
  if (!Number.isSafeInteger(keyCount) || keyCount < 1)
    throw new RangeError(`keys must be >= 1, got ${keyCount}`);
  const opsPerKey = options.opsPerKey ?? 100;
  if (!Number.isSafeInteger(opsPerKey) || opsPerKey < 1)
    throw new RangeError(`opsPerKey must be >= 1, got ${opsPerKey}`);
  const generation = new Array<number>(keyCount).fill(0);
  const used = new Array<number>(keyCount).fill(0);
  /** The key of slot `slot` now, moving the slot to a fresh key once it has had `opsPerKey` operations. */
  const keyFor = (slot: number): string => {
    if (used[slot]! >= opsPerKey) {
      used[slot] = 0;
      generation[slot]!++;
    }
    used[slot]!++;
    return generation[slot] === 0 ? `k${slot}` : `k${slot}.${generation[slot]}`;
  };
  const mix = options.mix ?? { read: 4, write: 3, cas: 3 };
  let lastValue = 0;
  const seen = new Map<string, string | null>();

  const write = (key: string): SimRequest => {
    const value = String(++lastValue);
    return {
      kind: 'propose',
      command: encodeRegisterCommand({ op: 'write', key, value }),
      input: registerInput.write(key, value),
    };
  };

  return {
    name: 'register',
    createStateMachine: () => new RegisterStateMachine(),
    nextRequest(_client: number, random: SimRandom): SimRequest {
      const key = keyFor(random.int(0, keyCount - 1));
      switch (random.weighted(mix)) {
        case 'read':
          return { kind: 'read', query: key, input: registerInput.read(key) };
        case 'write':
          return write(key);
        case 'cas': {
          let expected: string | null = seen.get(key) ?? null;
          if (random.chance(0.25))
            expected = lastValue > 0 && random.chance(0.7) ? String(random.int(1, lastValue)) : null;
          const value = String(++lastValue);
          return {
            kind: 'propose',
            command: encodeRegisterCommand({ op: 'cas', key, expected, value }),
            input: registerInput.cas(key, expected, value),
          };
        }
      }
    },
    probeRequest: (random) => write(keyFor(random.int(0, keyCount - 1))),
    read: (stateMachine, query) => stateMachine.get(query as string),
    observe(op: ClientOperation): void {
      if (op.status !== 'ok') return;
      const input = op.request.input as RegisterInput;
      if (input.kind === 'read') seen.set(input.key, op.result as string | null);
      else if (input.kind === 'write' || op.result === true) seen.set(input.key, input.value);
    },
    check: (history) => checkRegisterHistory(history, options.check),
  };
}

/**
 * Checks a register history for linearizability (per key, unknown outcomes allowed), in steps: call and return
 * times in the report are step numbers, as in the trace. A search that runs out of budget is reported as a
 * failure too: it proves nothing.
 */
export function checkRegisterHistory(
  history: readonly ClientOperation[],
  options?: CheckOptions,
): WorkloadVerdict {
  const ops: Operation<RegisterInput, RegisterOutput>[] = [];
  for (const op of history) {
    if (op.status === 'failed') continue;
    const input = op.request.input as RegisterInput;
    if (op.status !== 'ok') {
      ops.push({ clientId: op.client, input, call: op.callStep, return: Number.POSITIVE_INFINITY });
      continue;
    }
    const output: RegisterOutput =
      input.kind === 'read'
        ? { kind: 'read', value: op.result as string | null }
        : input.kind === 'write'
          ? { kind: 'write' }
          : { kind: 'cas', ok: op.result === true };
    ops.push({ clientId: op.client, input, output, call: op.callStep, return: op.returnStep });
  }
  const verdict = checkLinearizable(ops, registerModel, options);
  if (verdict.ok === true) {
    return { ok: true, reason: `${ops.length} operations linearizable (${verdict.steps} search steps)` };
  }
  return { ok: false, reason: verdict.reason };
}
