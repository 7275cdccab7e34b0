import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type History, isUnknownOutcome, type Operation } from './history.js';
import type { Model } from './model.js';
import {
  registerInput as I,
  registerOutput as O,
  type RegisterInput,
  type RegisterOutput,
  type RegisterState,
  registerModel,
} from './register-model.js';
import { type SearchLimits, searchLinearization } from './search.js';

const limits: SearchLimits = {
  maxSteps: Number.POSITIVE_INFINITY,
  deadline: Number.POSITIVE_INFINITY,
  maxCacheBytes: Number.POSITIVE_INFINITY,
  equalTimes: 'concurrent',
};
const INF = Number.POSITIVE_INFINITY;

/** Replays a witness: every step accepted, real-time order respected, every completed operation present. */
function assertWitness<S, In, Out>(
  history: History<In, Out>,
  model: Model<S, In, Out>,
  order: readonly number[],
) {
  let state = model.init();
  for (const [k, id] of order.entries()) {
    const op = history[id]!;
    const r = model.step(state, op.input, isUnknownOutcome(op) ? undefined : op.output);
    assert.ok(r.ok, `step ${k} (#${id}) rejected`);
    state = r.state;
    for (const later of order.slice(k + 1))
      assert.ok(!(history[later]!.return < op.call), `#${later} before #${id}`);
  }
  for (const [i, op] of history.entries())
    if (!isUnknownOutcome(op)) assert.ok(order.includes(i), `#${i} missing`);
}

describe('searchLinearization', () => {
  it('returns a valid witness, using an unknown-outcome write only where needed', () => {
    const history: History<RegisterInput, RegisterOutput> = [
      { clientId: 1, input: I.write('x', 'a'), output: O.write(), call: 0, return: 10 },
      { clientId: 2, input: I.write('x', 'b'), call: 1, return: INF },
      { clientId: 3, input: I.read('x'), output: O.read('a'), call: 2, return: 5 },
      { clientId: 3, input: I.read('x'), output: O.read('b'), call: 20, return: 30 },
      { clientId: 4, input: I.write('x', 'c'), call: 40, return: INF },
    ];
    const out = searchLinearization(history, registerModel, limits);
    assert.equal(out.kind, 'linearizable');
    if (out.kind !== 'linearizable') return;
    assertWitness(history, registerModel, out.order);
    assert.deepEqual(out.order, [0, 2, 1, 3]);
  });

  it('tries only one of several interchangeable unknown-outcome operations', () => {
    // Twelve identical unknown writes and a read nobody can explain: the search must exhaust its options.
    const history: Operation<RegisterInput, RegisterOutput>[] = [];
    for (let c = 0; c < 12; c++)
      history.push({ clientId: c, input: I.write('x', 'z'), call: c, return: INF });
    history.push({ clientId: 99, input: I.read('x'), output: O.read('never'), call: 0, return: 100 });
    const withKey = searchLinearization(history, registerModel, limits);
    const { inputKey: _, ...rest } = registerModel;
    const withoutKey = searchLinearization(
      history,
      rest as Model<RegisterState, RegisterInput, RegisterOutput>,
      limits,
    );
    assert.equal(withKey.kind, 'violation');
    assert.equal(withoutKey.kind, 'violation');
    assert.ok(withKey.steps * 4 < withoutKey.steps, `${withKey.steps} vs ${withoutKey.steps}`);
  });

  it('reports the deepest failure point', () => {
    const history: History<RegisterInput, RegisterOutput> = [
      { clientId: 1, input: I.write('x', 'a'), output: O.write(), call: 0, return: 10 },
      { clientId: 2, input: I.read('x'), output: O.read('a'), call: 11, return: 12 },
      { clientId: 2, input: I.read('x'), output: O.read(null), call: 13, return: 14 },
    ];
    const out = searchLinearization(history, registerModel, limits);
    assert.equal(out.kind, 'violation');
    if (out.kind !== 'violation') return;
    assert.deepEqual(out.failure.linearized, [0, 1]);
    assert.equal(out.failure.state, 'a');
    assert.equal(out.failure.blocking, 2);
    assert.deepEqual(out.failure.candidates, [2]);
  });

  it('stops at each limit', () => {
    const history: Operation<RegisterInput, RegisterOutput>[] = [];
    for (let c = 0; c < 10; c++) {
      history.push({ clientId: c, input: I.write('x', `v${c}`), output: O.write(), call: 0, return: 50 });
    }
    history.push({ clientId: 99, input: I.read('x'), output: O.read('never'), call: 0, return: 50 });
    assert.deepEqual(searchLinearization(history, registerModel, { ...limits, maxSteps: 7 }), {
      kind: 'exhausted',
      steps: 7,
      limit: 'steps',
    });
    const memory = searchLinearization(history, registerModel, { ...limits, maxCacheBytes: 240 });
    assert.equal(memory.kind === 'exhausted' && memory.limit, 'memory');
    const time = searchLinearization(history, registerModel, { ...limits, deadline: Date.now() - 1 });
    assert.equal(time.kind === 'exhausted' && time.limit, 'time');
  });
});
