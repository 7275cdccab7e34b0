import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestAdmission } from './request-admission.js';

test('admits up to the bound, refuses past it at once, and frees slots on leave', () => {
  const admission = new RequestAdmission(2);
  assert.equal(admission.tryEnter(), 'ok');
  assert.equal(admission.tryEnter(), 'ok');
  assert.equal(admission.tryEnter(), 'full');
  assert.equal(admission.size, 2);
  admission.leave();
  assert.equal(admission.tryEnter(), 'ok');
});

test('after stop every request is refused as stopping, and drain waits for those in progress', async () => {
  const admission = new RequestAdmission(4);
  assert.equal(admission.tryEnter(), 'ok');
  admission.stop();
  assert.equal(admission.tryEnter(), 'stopping');
  const drained = admission.drain(5_000);
  admission.leave();
  assert.equal(await drained, true);
});

test('drain gives up after its deadline and says so', async () => {
  const admission = new RequestAdmission(1);
  assert.equal(admission.tryEnter(), 'ok');
  admission.stop();
  assert.equal(await admission.drain(10), false);
  assert.equal(admission.size, 1);
});
