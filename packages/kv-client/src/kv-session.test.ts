import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createKvSession } from './kv-session.js';

test('sequences count from 1 and firstIncomplete is the lowest still awaiting an answer', () => {
  const session = createKvSession(9n);
  const a = session.begin();
  const b = session.begin();
  const c = session.begin();
  assert.deepEqual([a, b, c], [1n, 2n, 3n]);
  assert.equal(session.ref(c).firstIncomplete, 1n);
  session.end(b);
  assert.equal(session.ref(c).firstIncomplete, 1n);
  session.end(a);
  const ref = session.ref(c);
  assert.equal(ref.firstIncomplete, 3n);
  assert.equal(ref.sessionId, 9n);
  assert.equal(ref.sequence, 3n);
  session.end(c);
  session.end(c);
  const d = session.begin();
  assert.equal(session.ref(d).firstIncomplete, 4n);
});
