import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLinearizable } from './check.js';
import type { Operation } from './history.js';
import {
  registerInput as I,
  registerOutput as O,
  type RegisterInput,
  type RegisterOutput,
  registerModel,
} from './register-model.js';
import { simplifyRegisterHistory, UNOBSERVED_VALUE } from './register-simplify.js';

type Op = Operation<RegisterInput, RegisterOutput>;
const INF = Number.POSITIVE_INFINITY;
const done = (input: RegisterInput, output: RegisterOutput, call: number, ret: number): Op => ({
  clientId: 1,
  input,
  output,
  call,
  return: ret,
});
const lost = (input: RegisterInput, call: number): Op => ({ clientId: 2, input, call, return: INF });
const simplify = (ops: Op[]) =>
  simplifyRegisterHistory(
    ops,
    ops.map((_, i) => i),
  );

describe('simplifyRegisterHistory', () => {
  it('leaves a history without unknown outcomes alone', () => {
    const ops = [done(I.write('x', 'a'), O.write(), 0, 1), done(I.read('x'), O.read('a'), 2, 3)];
    const out = simplify(ops);
    assert.deepEqual(out.operations, ops);
    assert.deepEqual(out.origins, [0, 1]);
  });

  it('resolves observed unknown writes and cas, through chains, and drops what cannot matter', () => {
    const ops = [
      done(I.write('x', 'a'), O.write(), 0, 1),
      lost(I.read('x'), 0), // dropped: a read with unknown outcome changes and constrains nothing
      lost(I.write('x', 'u'), 0), // dropped: nobody observed "u"
      lost(I.write('x', 's'), 0), // resolved: "s" was read by #4, which returned at 6 (next instant: 7)
      done(I.read('x'), O.read('s'), 5, 6),
      lost(I.write('x', 'c'), 0), // resolved through #6: "c" is what #6 expected (by 8; nothing happens after)
      lost(I.cas('x', 'c', 'd'), 0), // resolved: #7 expected "d"
      done(I.cas('x', 'd', 'e'), O.cas(true), 7, 8),
    ];
    const out = simplify(ops);
    assert.deepEqual(out.origins, [0, 3, 4, 5, 6, 7]);
    assert.deepEqual(out.operations[1], {
      clientId: 2,
      input: I.write('x', 's'),
      output: O.write(),
      call: 0,
      return: 7,
    });
    assert.deepEqual(out.operations[3], {
      clientId: 2,
      input: I.write('x', 'c'),
      output: O.write(),
      call: 0,
      return: 9,
    });
    assert.deepEqual(out.operations[4], {
      clientId: 2,
      input: I.cas('x', 'c', 'd'),
      output: O.cas(true),
      call: 0,
      return: 9,
    });
    assert.equal(out.operations[0], ops[0]);
    assert.equal(checkLinearizable(ops, registerModel).ok, true);
  });

  it('lets a resolved write still overlap calls made when its observer returned', () => {
    // #0 must precede #3, which ends at 3, but may come after #1 (called at 3) even under 'ordered'.
    const ops = [
      lost(I.write('x', 'c'), 0),
      done(I.write('x', 'a'), O.write(), 3, 4),
      done(I.read('x'), O.read('c'), 6, 6),
      done(I.read('x'), O.read('c'), 3, 3),
    ];
    assert.equal(simplify(ops).operations[0]!.return, 4);
    assert.equal(checkLinearizable(ops, registerModel, { equalTimes: 'ordered' }).ok, true);
  });

  it('does not resolve a value written twice', () => {
    const ops = [
      lost(I.write('x', 'a'), 0),
      lost(I.write('x', 'a'), 1),
      done(I.read('x'), O.read('a'), 5, 6),
    ];
    const out = simplify(ops);
    assert.equal(out.operations[0]!.return, INF);
    assert.equal(out.operations[1]!.return, INF);
  });

  it('leaves an observation that precedes the write to the search, which reports it', () => {
    const ops = [done(I.read('x'), O.read('a'), 0, 5), lost(I.write('x', 'a'), 10)];
    assert.equal(simplify(ops).operations[1]!.return, INF);
    const result = checkLinearizable(ops, registerModel);
    assert.equal(result.ok, false);
  });

  it('keeps unobserved unknown writes that may explain a later failed cas, renamed', () => {
    const ops = [
      done(I.write('x', 'a'), O.write(), 0, 1),
      lost(I.write('x', 'z'), 2),
      done(I.cas('x', 'a', 'b'), O.cas(false), 5, 6),
      lost(I.write('x', 'y'), 7), // called after the last failed cas returned: dropped
    ];
    const out = simplify(ops);
    assert.deepEqual(out.origins, [0, 1, 2]);
    assert.deepEqual(out.operations[1], {
      clientId: 2,
      input: I.write('x', UNOBSERVED_VALUE),
      call: 2,
      return: INF,
      unknown: true,
    });
    assert.equal(checkLinearizable(ops, registerModel).ok, true);
  });

  it('picks a placeholder that differs from every value in use', () => {
    const ops = [
      done(I.read('x'), O.read(UNOBSERVED_VALUE), 0, 1),
      lost(I.write('x', 'z'), 0),
      done(I.cas('x', 'a', 'b'), O.cas(false), 5, 6),
      lost(I.write('x', UNOBSERVED_VALUE), 0),
    ];
    const out = simplify(ops);
    const renamed = out.operations.find(
      (op) => op.input.kind === 'write' && op.input.value !== UNOBSERVED_VALUE,
    );
    assert.ok(renamed?.input.kind === 'write' && renamed.input.value.startsWith(UNOBSERVED_VALUE));
    assert.equal(checkLinearizable(ops, registerModel).ok, true);
  });

  it('reports violations in terms of the original operations', () => {
    const ops = [
      lost(I.write('x', 's'), 0),
      done(I.read('x'), O.read('s'), 5, 6),
      done(I.read('x'), O.read(null), 7, 8),
    ];
    const result = checkLinearizable(ops, registerModel);
    assert.equal(result.ok, false);
    if (result.ok !== false) return;
    assert.equal(result.linearized[0]?.index, 0);
    assert.equal(result.linearized[0]?.unknown, true);
    assert.equal(result.linearized[0]?.return, INF);
    assert.equal(result.blocking?.index, 2);
  });
});
