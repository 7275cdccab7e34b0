import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLinearizable } from './check.js';
import type { EqualTimes } from './event-list.js';
import { type History, isUnknownOutcome, type Operation } from './history.js';
import type { Model } from './model.js';
import {
  createRegisterModel,
  registerInput as I,
  registerOutput as O,
  type RegisterInput,
  type RegisterOutput,
  type RegisterState,
  registerModel,
} from './register-model.js';

type Op = Operation<RegisterInput, RegisterOutput>;

/**
 * The definition, by brute force: try every order of every subset of operations that contains all completed
 * ones, respecting real time (an operation may go next only if no remaining completed operation returned
 * before it was called). Exponential; for tiny histories only.
 */
function bruteForce<S, In, Out>(
  history: History<In, Out>,
  model: Model<S, In, Out>,
  equalTimes: EqualTimes = 'concurrent',
): boolean {
  const used = history.map(() => false);
  /** Whether the remaining completed operation `p` must precede `op`. */
  const precedes = (p: Operation<In, Out>, op: Operation<In, Out>): boolean =>
    p.return < op.call || (equalTimes === 'ordered' && p.return === op.call && p.call < p.return);
  const go = (state: S): boolean => {
    const left = history.filter((op, i) => !used[i] && !isUnknownOutcome(op));
    if (left.length === 0) return true;
    for (const [i, op] of history.entries()) {
      if (used[i] || left.some((p) => p !== op && precedes(p, op))) continue;
      const r = model.step(state, op.input, isUnknownOutcome(op) ? undefined : op.output);
      if (!r.ok) continue;
      used[i] = true;
      const found = go(r.state);
      used[i] = false;
      if (found) return true;
    }
    return false;
  };
  return go(model.init());
}

function prng(seed: number): (bound: number) => number {
  let s = seed >>> 0 || 1;
  return (bound) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % bound;
  };
}

/** A small random single-key history with arbitrary (often inconsistent) outputs. */
function randomHistory(seed: number): Op[] {
  const int = prng(seed);
  const values = ['a', 'b', 'c'];
  const value = (): string => values[int(values.length)]!;
  const maybe = (): string | null => (int(3) === 0 ? null : value());
  const ops: Op[] = [];
  const clients = 2 + int(3);
  for (let c = 0; c < clients; c++) {
    let t = int(4);
    const count = 1 + int(3);
    for (let k = 0; k < count; k++) {
      const call = t + int(3);
      const ret = call + int(8);
      const kind = int(3);
      const input =
        kind === 0 ? I.read('x') : kind === 1 ? I.write('x', value()) : I.cas('x', maybe(), value());
      const output =
        input.kind === 'read' ? O.read(maybe()) : input.kind === 'write' ? O.write() : O.cas(int(2) === 0);
      if (int(5) === 0) {
        ops.push({ clientId: c, input, call, return: Number.POSITIVE_INFINITY });
        t = call + 2;
      } else {
        ops.push({ clientId: c, input, output, call, return: ret });
        t = ret;
      }
    }
  }
  return ops;
}

describe('differential: the search agrees with brute force', () => {
  const plain = createRegisterModel({ simplify: false });
  const noClasses: Model<RegisterState, RegisterInput, RegisterOutput> = { ...registerModel };
  delete (noClasses as { inputKey?: unknown }).inputKey;

  it('on 3000 small random histories, with and without simplification, for both equal-time rules', () => {
    let linearizable = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const history = randomHistory(seed);
      for (const equalTimes of ['concurrent', 'ordered'] as const) {
        const expected = bruteForce(history, plain, equalTimes);
        if (expected && equalTimes === 'concurrent') linearizable++;
        for (const [name, model] of [
          ['simplified', registerModel],
          ['plain', plain],
          ['without inputKey', noClasses],
        ] as const) {
          const result = checkLinearizable(history, model, { equalTimes });
          assert.equal(
            result.ok,
            expected,
            `seed ${seed}, ${name}, ${equalTimes}: ${JSON.stringify(history)}`,
          );
        }
      }
    }
    // Both verdicts are well represented.
    assert.ok(linearizable > 300 && linearizable < 2700, `linearizable: ${linearizable}`);
  });
});
