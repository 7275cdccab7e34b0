import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLinearizable } from './check.js';
import type { History, Operation } from './history.js';
import type { Model } from './model.js';
import {
  createRegisterModel,
  registerInput as I,
  registerOutput as O,
  type RegisterInput,
  type RegisterOutput,
  registerModel,
} from './register-model.js';

type Op = Operation<RegisterInput, RegisterOutput>;
const INF = Number.POSITIVE_INFINITY;

const read = (c: number, key: string, value: string | null, call: number, ret: number): Op => ({
  clientId: c,
  input: I.read(key),
  output: O.read(value),
  call,
  return: ret,
});
const write = (c: number, key: string, value: string, call: number, ret: number): Op => ({
  clientId: c,
  input: I.write(key, value),
  output: O.write(),
  call,
  return: ret,
});
const cas = (
  c: number,
  key: string,
  expected: string | null,
  value: string,
  ok: boolean,
  call: number,
  ret: number,
): Op => ({
  clientId: c,
  input: I.cas(key, expected, value),
  output: O.cas(ok),
  call,
  return: ret,
});
const lost = (c: number, input: RegisterInput, call: number): Op => ({
  clientId: c,
  input,
  call,
  return: INF,
});

function assertOk(history: History<RegisterInput, RegisterOutput>): void {
  const result = checkLinearizable(history, registerModel);
  assert.equal(result.ok, true, result.ok === false ? result.reason : JSON.stringify(result));
}

function assertViolation(history: History<RegisterInput, RegisterOutput>, key = 'x') {
  const result = checkLinearizable(history, registerModel);
  assert.equal(result.ok, false, `expected a violation, got ${JSON.stringify(result)}`);
  if (result.ok !== false) throw new Error('unreachable');
  assert.equal(result.key, key);
  return result;
}

describe('checkLinearizable: linearizable register histories', () => {
  it('accepts the empty history and a sequential one', () => {
    assertOk([]);
    assertOk([
      read(1, 'x', null, 0, 1),
      write(1, 'x', 'a', 2, 3),
      read(2, 'x', 'a', 4, 5),
      write(2, 'x', 'b', 6, 7),
      read(1, 'x', 'b', 8, 9),
    ]);
  });

  it('accepts reads seeing either order of two overlapping writes', () => {
    const writes = [write(1, 'x', 'a', 0, 10), write(2, 'x', 'b', 0, 10)];
    assertOk([...writes, read(3, 'x', 'a', 20, 30)]);
    assertOk([...writes, read(3, 'x', 'b', 20, 30)]);
    // A read overlapping both writes may also see the initial value or either one.
    assertOk([...writes, read(3, 'x', null, 5, 6), read(4, 'x', 'b', 5, 7), read(3, 'x', 'a', 11, 12)]);
  });

  it('accepts an unknown-outcome write that was observed, and one that never took effect', () => {
    assertOk([lost(1, I.write('x', 'a'), 0), read(2, 'x', 'a', 10, 20)]);
    assertOk([lost(1, I.write('x', 'a'), 0), read(2, 'x', null, 10, 20), read(2, 'x', null, 30, 40)]);
    // It may take effect long after its caller gave up.
    assertOk([lost(1, I.write('x', 'a'), 0), read(2, 'x', null, 10, 20), read(2, 'x', 'a', 30, 40)]);
    // unknown: true with a finite return is the same thing.
    assertOk([
      { clientId: 1, input: I.write('x', 'a'), call: 0, return: 5, unknown: true },
      read(2, 'x', null, 10, 20),
      read(2, 'x', 'a', 30, 40),
    ]);
  });

  it('accepts cas successes and failures consistent with the values', () => {
    assertOk([
      cas(1, 'x', null, 'a', true, 0, 1),
      cas(2, 'x', null, 'b', false, 2, 3),
      cas(1, 'x', 'a', 'b', true, 4, 5),
      cas(2, 'x', 'a', 'c', false, 6, 7),
      read(3, 'x', 'b', 8, 9),
    ]);
    // Two concurrent cas on the same expected value: exactly one wins.
    assertOk([
      write(1, 'x', 'a', 0, 1),
      cas(1, 'x', 'a', 'b', true, 2, 10),
      cas(2, 'x', 'a', 'c', false, 2, 10),
      read(3, 'x', 'b', 11, 12),
    ]);
  });

  it('accepts a failed cas explained by an unobserved unknown-outcome write', () => {
    const history = [
      write(1, 'x', 'a', 0, 1),
      lost(2, I.write('x', 'z'), 2),
      cas(3, 'x', 'a', 'b', false, 5, 6),
    ];
    assertOk(history);
    assert.equal(checkLinearizable(history, createRegisterModel({ simplify: false })).ok, true);
  });

  it('accepts an unknown-outcome cas observed through its value', () => {
    assertOk([write(1, 'x', 'a', 0, 1), lost(2, I.cas('x', 'a', 'b'), 2), read(3, 'x', 'b', 5, 6)]);
  });

  it('treats a return and a call at the same instant as concurrent unless told otherwise', () => {
    const history = [write(1, 'x', 'a', 0, 10), read(2, 'x', null, 10, 20)];
    assertOk(history);
    const strict = checkLinearizable(history, registerModel, { equalTimes: 'ordered' });
    assert.equal(strict.ok, false);
  });
});

describe('checkLinearizable: violations', () => {
  it('reports a stale read after a completed write, naming the operations', () => {
    const result = assertViolation([write(1, 'x', 'a', 0, 10), read(2, 'x', null, 20, 30)]);
    assert.equal(result.blocking?.index, 1);
    assert.deepEqual(
      result.linearized.map((op) => op.index),
      [0],
    );
    assert.equal(result.state, '"a"');
    assert.match(result.reason, /key "x" is not linearizable/);
    assert.match(result.reason, /#1 client 2: read\("x"\) -> absent \[20, 30\]/);
    assert.match(result.reason, /not allowed in state "a"/);
  });

  it('reports a read of a value never written', () => {
    const result = assertViolation([write(1, 'x', 'a', 0, 10), read(2, 'x', 'b', 5, 30)]);
    assert.equal(result.blocking?.index, 1);
  });

  it('reports two readers seeing two writes in opposite orders', () => {
    assertViolation([
      write(1, 'x', 'a', 0, 100),
      write(2, 'x', 'b', 0, 100),
      read(3, 'x', 'a', 10, 20),
      read(3, 'x', 'b', 30, 40),
      read(4, 'x', 'b', 10, 20),
      read(4, 'x', 'a', 30, 40),
    ]);
  });

  it('reports a cas succeeding twice on the same expected value', () => {
    assertViolation([
      write(1, 'x', 'a', 0, 1),
      cas(1, 'x', 'a', 'b', true, 2, 10),
      cas(2, 'x', 'a', 'c', true, 2, 10),
    ]);
  });

  it('reports a cas(null) succeeding on an existing key, and one failing on an absent key', () => {
    assertViolation([write(1, 'x', 'a', 0, 1), cas(2, 'x', null, 'b', true, 2, 3)]);
    assertViolation([cas(2, 'x', null, 'b', false, 2, 3)]);
  });

  it('reports an unknown-outcome write that was seen and then un-seen', () => {
    assertViolation([lost(1, I.write('x', 'a'), 0), read(2, 'x', 'a', 10, 20), read(2, 'x', null, 30, 40)]);
  });

  it('reports a read of an unknown-outcome write issued after the read returned', () => {
    assertViolation([read(2, 'x', 'a', 0, 5), lost(1, I.write('x', 'a'), 10)]);
  });

  it('reports the violated key of a partitioned history', () => {
    const result = assertViolation(
      [
        write(1, 'x', 'a', 0, 10),
        write(1, 'y', 'a', 0, 10),
        read(2, 'x', 'a', 20, 30),
        read(2, 'y', null, 20, 30),
        write(3, 'z', 'q', 0, 5),
      ],
      'y',
    );
    assert.equal(result.partitionSize, 2);
    assert.deepEqual(
      result.candidates.map((op) => op.index),
      [3],
    );
  });
});

describe('checkLinearizable: budget', () => {
  /** Many concurrent writes and a read of a value none of them wrote: refuted only by exhausting orders. */
  function hard(writers: number): Op[] {
    const history: Op[] = [];
    for (let c = 0; c < writers; c++) history.push(write(c, 'x', `v${c}`, 0, 100));
    for (let c = 0; c < writers; c++) history.push(read(c + writers, 'x', `v${c}`, 1, 100));
    history.push(read(99, 'x', 'never', 1, 100));
    return history;
  }

  it('returns unknown when the step budget runs out, and the verdict when it does not', () => {
    const cut = checkLinearizable(hard(6), registerModel, { maxSteps: 50 });
    assert.equal(cut.ok, 'unknown');
    if (cut.ok !== 'unknown') throw new Error('unreachable');
    assert.equal(cut.key, 'x');
    assert.deepEqual(cut.keys, ['x']);
    assert.equal(cut.steps, 50);
    assert.match(cut.reason, /budget exhausted \(maxSteps\) on key "x"/);
    assert.equal(checkLinearizable(hard(6), registerModel).ok, false);
  });

  it('returns unknown when the memo would outgrow its memory budget', () => {
    const result = checkLinearizable(hard(6), registerModel, { maxCacheBytes: 1000 });
    assert.equal(result.ok, 'unknown');
    if (result.ok !== 'unknown') throw new Error('unreachable');
    assert.match(result.reason, /maxCacheBytes/);
  });

  it('still reports a violation on another key when one key runs out of budget', () => {
    const history = [...hard(6), write(1, 'y', 'a', 0, 1), read(2, 'y', 'b', 2, 3)];
    const result = checkLinearizable(history, registerModel, { maxSteps: 50 });
    assert.equal(result.ok, false);
    if (result.ok !== false) throw new Error('unreachable');
    assert.equal(result.key, 'y');
  });

  it('honours a wall-clock timeout', () => {
    const started = Date.now();
    const result = checkLinearizable(hard(14), registerModel, {
      timeoutMs: 20,
      maxSteps: Number.POSITIVE_INFINITY,
    });
    assert.ok(Date.now() - started < 2000);
    assert.notEqual(result.ok, true);
  });
});

describe('checkLinearizable: other models and inputs', () => {
  /** A counter: `inc` returns the value after incrementing, `get` returns the value. */
  const counter: Model<number, 'inc' | 'get', number> = {
    init: () => 0,
    step: (state, input, output) => {
      const next = input === 'inc' ? state + 1 : state;
      return { ok: output === undefined || output === next, state: next };
    },
    key: (state) => String(state),
  };
  const op = (input: 'inc' | 'get', output: number | undefined, call: number, ret: number) => ({
    clientId: 0,
    input,
    output,
    call,
    return: ret,
  });

  it('checks an unpartitioned history against a custom model', () => {
    assert.equal(
      checkLinearizable([op('inc', 2, 0, 10), op('inc', 1, 0, 10), op('get', 2, 11, 12)], counter).ok,
      true,
    );
    const bad = checkLinearizable([op('inc', 1, 0, 1), op('inc', 1, 2, 3)], counter);
    assert.equal(bad.ok, false);
    if (bad.ok !== false) throw new Error('unreachable');
    assert.equal(bad.key, null);
    assert.match(bad.reason, /the history is not linearizable/);
    // An unknown-outcome increment may explain a jump.
    assert.equal(
      checkLinearizable([op('inc', undefined, 0, Number.POSITIVE_INFINITY), op('inc', 2, 5, 6)], counter).ok,
      true,
    );
  });

  it('rejects malformed histories', () => {
    assert.throws(() => checkLinearizable([op('get', 0, 5, 4)], counter), RangeError);
    assert.throws(() => checkLinearizable([op('get', 0, Number.NaN, 4)], counter), RangeError);
    assert.throws(() => checkLinearizable([op('get', undefined, 0, 4)], counter), TypeError);
    assert.throws(
      () =>
        checkLinearizable(
          [{ clientId: 1, input: I.read('x'), output: O.write(), call: 0, return: 1 }],
          registerModel,
        ),
      TypeError,
    );
  });
});
