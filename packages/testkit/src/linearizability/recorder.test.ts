import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLinearizable } from './check.js';
import { HistoryRecorder } from './recorder.js';
import {
  registerInput as I,
  registerOutput as O,
  type RegisterInput,
  type RegisterOutput,
  registerModel,
} from './register-model.js';

describe('HistoryRecorder', () => {
  it('records completed, failed, abandoned and in-flight operations', () => {
    const rec = new HistoryRecorder<RegisterInput, RegisterOutput>();
    const w = rec.invoke('c1', I.write('x', 'a'), 0);
    const rejected = rec.invoke('c2', I.write('x', 'b'), 1);
    const abandoned = rec.invoke('c3', I.write('x', 'c'), 2);
    rec.invoke('c4', I.write('x', 'd'), 3);
    rec.complete(w, O.write(), 5);
    rec.fail(rejected);
    rec.abandon(abandoned);
    const r = rec.invoke('c1', I.read('x'), 6);
    rec.complete(r, O.read('d'), 7);
    const history = rec.history();
    assert.equal(history.length, 4);
    assert.deepEqual(
      history.map((op) => op.return),
      [5, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, 7],
    );
    assert.equal(checkLinearizable(history, registerModel).ok, true);
    assert.throws(() => rec.complete(w, O.write(), 9), RangeError);
    assert.throws(() => rec.fail(42), RangeError);
  });
});
