import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Operation } from './history.js';
import {
  createRegisterModel,
  describeRegisterOperation,
  registerInput as I,
  registerModel as model,
  registerOutput as O,
  type RegisterInput,
  type RegisterOutput,
} from './register-model.js';

type Op = Operation<RegisterInput, RegisterOutput>;
const INF = Number.POSITIVE_INFINITY;

describe('registerModel.step', () => {
  it('reads the current value', () => {
    assert.deepEqual(model.step(null, I.read('x'), O.read(null)), { ok: true, state: null });
    assert.equal(model.step('a', I.read('x'), O.read('b')).ok, false);
    assert.equal(model.step('a', I.read('x'), undefined).ok, true);
  });

  it('writes unconditionally', () => {
    assert.deepEqual(model.step(null, I.write('x', 'a'), O.write()), { ok: true, state: 'a' });
    assert.deepEqual(model.step('b', I.write('x', 'a'), undefined), { ok: true, state: 'a' });
  });

  it('compares and sets', () => {
    assert.deepEqual(model.step(null, I.cas('x', null, 'a'), O.cas(true)), { ok: true, state: 'a' });
    assert.equal(model.step('b', I.cas('x', null, 'a'), O.cas(true)).ok, false);
    assert.deepEqual(model.step('b', I.cas('x', null, 'a'), O.cas(false)), { ok: true, state: 'b' });
    assert.equal(model.step('a', I.cas('x', 'a', 'c'), O.cas(false)).ok, false);
    assert.deepEqual(model.step('a', I.cas('x', 'a', 'c'), undefined), { ok: true, state: 'c' });
    assert.deepEqual(model.step('b', I.cas('x', 'a', 'c'), undefined), { ok: true, state: 'b' });
  });

  it('rejects an output of another kind', () => {
    assert.equal(model.step(null, I.read('x'), O.write()).ok, false);
    assert.equal(model.step(null, I.write('x', 'a'), O.read(null)).ok, false);
    assert.equal(model.step(null, I.cas('x', null, 'a'), O.write()).ok, false);
  });

  it('keys states so that absent and the string "null" differ', () => {
    assert.notEqual(model.key(null), model.key('null'));
    assert.notEqual(model.key(''), model.key(null));
    assert.equal(model.key('a'), model.key('a'));
  });

  it('describes operations', () => {
    assert.equal(describeRegisterOperation(I.read('x'), O.read(null)), 'read("x") -> absent');
    assert.equal(describeRegisterOperation(I.write('x', '1'), undefined), 'write("x", "1") -> ?');
    assert.equal(
      describeRegisterOperation(I.cas('x', null, '1'), O.cas(true)),
      'cas("x", absent -> "1") -> ok',
    );
  });
});

describe('registerModel.partition', () => {
  const done = (input: RegisterInput, output: RegisterOutput, call: number, ret: number): Op => ({
    clientId: 1,
    input,
    output,
    call,
    return: ret,
  });
  const lost = (input: RegisterInput, call: number): Op => ({ clientId: 2, input, call, return: INF });

  it('splits by key, keeping the original objects in order', () => {
    const a = done(I.write('x', '1'), O.write(), 0, 1);
    const b = done(I.write('y', '1'), O.write(), 0, 1);
    const c = done(I.read('x'), O.read('1'), 2, 3);
    const parts = model.partition!([a, b, c]);
    assert.deepEqual(
      parts.map((p) => p.key),
      ['x', 'y'],
    );
    assert.equal(parts[0]!.operations[0], a);
    assert.equal(parts[0]!.operations[1], c);
    assert.equal(parts[1]!.operations[0], b);
  });

  it('simplifies each key unless told not to', () => {
    const w = done(I.write('x', 'a'), O.write(), 0, 1);
    const lostRead = lost(I.read('x'), 0);
    const parts = model.partition!([w, lostRead]);
    assert.deepEqual(parts[0]!.operations, [w]);
    assert.deepEqual(parts[0]!.origins, [0]);
    const plain = createRegisterModel({ simplify: false }).partition!([w, lostRead]);
    assert.deepEqual(plain[0]!.operations, [w, lostRead]);
    assert.deepEqual(plain[0]!.origins, [0, 1]);
  });

  it('gives unknown-outcome operations with equal inputs equal input keys', () => {
    assert.equal(model.inputKey!(I.write('x', 'a')), model.inputKey!(I.write('y', 'a')));
    assert.notEqual(model.inputKey!(I.write('x', 'a')), model.inputKey!(I.write('x', 'b')));
    assert.notEqual(model.inputKey!(I.cas('x', null, 'a')), model.inputKey!(I.cas('x', 'null', 'a')));
    assert.notEqual(model.inputKey!(I.cas('x', 'a', 'b')), model.inputKey!(I.write('x', 'b')));
  });

  it('rejects values that are not strings', () => {
    assert.throws(() => model.partition!([done(I.write('x', 1 as never), O.write(), 0, 1)]), TypeError);
    assert.throws(() => model.partition!([done(I.cas('x', 1 as never, 'a'), O.cas(true), 0, 1)]), TypeError);
    assert.throws(() => model.partition!([done(I.read('x'), O.read(1 as never), 0, 1)]), TypeError);
    assert.doesNotThrow(() => model.partition!([done(I.cas('x', null, 'a'), O.cas(true), 0, 1)]));
  });

  it('rejects malformed operations', () => {
    assert.throws(() => model.partition!([done(I.read('x'), O.write(), 0, 1)]), TypeError);
    assert.throws(
      () =>
        model.partition!([{ clientId: 1, input: { kind: 'del', key: 'x' } as never, call: 0, return: INF }]),
      TypeError,
    );
  });
});
