import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { linkAbort, sleep } from './abort.js';

test('linked signals share one listener per source, released when the last one is disposed', () => {
  const a = new AbortController();
  const b = new AbortController();
  const links = Array.from({ length: 50 }, () => linkAbort([a.signal, b.signal, undefined]));
  assert.equal(getEventListeners(a.signal, 'abort').length, 1);
  assert.equal(getEventListeners(b.signal, 'abort').length, 1);
  for (const link of links.slice(1)) link.dispose();
  assert.equal(getEventListeners(a.signal, 'abort').length, 1);
  links[0]!.dispose();
  links[0]!.dispose(); // idempotent
  assert.equal(getEventListeners(a.signal, 'abort').length, 0);
  assert.equal(getEventListeners(b.signal, 'abort').length, 0);
  assert.ok(links.every((link) => !link.signal.aborted));
});

test('a source aborts every signal following it, with its reason, and keeps no listener', () => {
  const a = new AbortController();
  const b = new AbortController();
  const links = Array.from({ length: 3 }, () => linkAbort([a.signal, b.signal]));
  const other = linkAbort([b.signal]);
  a.abort('closed');
  assert.ok(links.every((link) => link.signal.aborted && link.signal.reason === 'closed'));
  assert.equal(other.signal.aborted, false);
  // The aborted links stopped following b; only `other` does.
  assert.equal(getEventListeners(b.signal, 'abort').length, 1);
  other.dispose();
  assert.equal(getEventListeners(b.signal, 'abort').length, 0);
  // A source followed again after it fired and was re-created works as a new one.
  const c = new AbortController();
  const first = linkAbort([c.signal]);
  first.dispose();
  const second = linkAbort([c.signal]);
  c.abort();
  assert.equal(second.signal.aborted, true);
  assert.equal(first.signal.aborted, false);
});

test('a link aborted on its own or from an aborted source stops following at once', () => {
  const a = new AbortController();
  const link = linkAbort([a.signal]);
  link.abort('timeout');
  assert.equal(link.signal.reason, 'timeout');
  assert.equal(getEventListeners(a.signal, 'abort').length, 0);
  const b = new AbortController();
  b.abort('gone');
  const late = linkAbort([a.signal, b.signal]);
  assert.equal(late.signal.reason, 'gone');
  assert.equal(getEventListeners(a.signal, 'abort').length, 0);
});

test('sleep resolves early on abort', async () => {
  const a = new AbortController();
  const started = Date.now();
  const slept = sleep(5_000, a.signal);
  a.abort();
  await slept;
  assert.ok(Date.now() - started < 1_000);
  assert.equal(getEventListeners(a.signal, 'abort').length, 0);
});
