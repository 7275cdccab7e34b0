import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodeId } from '../entry.js';
import type { RaftError } from '../errors.js';
import type { Heartbeat, Message } from '../message.js';
import type { TransportHandler } from '../node/transport.js';
import { createMemoryNetwork } from './memory-transport.js';

const heartbeat = (from: NodeId, to: NodeId, commit: number): Heartbeat => ({
  type: 'heartbeat',
  from,
  to,
  term: 1,
  commit,
  context: 0,
});

/** A handler that records what it gets, and resolves `next()` on each event. */
function recorder(): TransportHandler & {
  messages: Message[];
  unreachable: NodeId[];
  settle(): Promise<void>;
} {
  const r = {
    messages: [] as Message[],
    unreachable: [] as NodeId[],
    onMessage: (m: Message) => {
      r.messages.push(m);
    },
    onUnreachable: (peer: NodeId) => {
      r.unreachable.push(peer);
    },
    // Deliveries happen on setImmediate turns; two turns cover a send and a follow-up report.
    settle: () =>
      new Promise<void>((resolve) => setImmediate(() => setImmediate(() => setImmediate(resolve)))),
  };
  return r;
}

test('delivers asynchronously, never inside send, and in order on a link', async () => {
  const network = createMemoryNetwork();
  const a = network.transport('a');
  const b = network.transport('b');
  const ra = recorder();
  const rb = recorder();
  await a.start(ra);
  await b.start(rb);
  for (let i = 1; i <= 50; i++) a.send(heartbeat('a', 'b', i));
  assert.equal(rb.messages.length, 0, 'nothing is delivered inside send');
  await rb.settle();
  assert.deepEqual(
    rb.messages.map((m) => (m as Heartbeat).commit),
    Array.from({ length: 50 }, (_, i) => i + 1),
  );
  assert.deepEqual(ra.unreachable, []);
  assert.equal(network.stats().delivered, 50);
});

test('messages are copies: the receiver never shares the sender objects', async () => {
  const network = createMemoryNetwork();
  const a = network.transport('a');
  const b = network.transport('b');
  const rb = recorder();
  await a.start(recorder());
  await b.start(rb);
  const data = new Uint8Array([1, 2, 3]);
  const sent: Message = {
    type: 'append',
    from: 'a',
    to: 'b',
    term: 1,
    prevLogIndex: 0,
    prevLogTerm: 0,
    commit: 0,
    entries: [{ index: 1, term: 1, type: 'normal', data }],
  };
  a.send(sent);
  await rb.settle();
  const got = rb.messages[0];
  assert.ok(got?.type === 'append');
  assert.notEqual(got, sent);
  assert.notEqual(got.entries[0]!.data, data);
  assert.deepEqual(got.entries[0]!.data, data);
});

test('isolate, cut and heal: dropped sends are reported unreachable to the sender', async () => {
  const network = createMemoryNetwork();
  const [a, b, c] = ['a', 'b', 'c'].map((id) => network.transport(id));
  const [ra, rb, rc] = [recorder(), recorder(), recorder()];
  await a!.start(ra);
  await b!.start(rb);
  await c!.start(rc);

  network.isolate('a');
  a!.send(heartbeat('a', 'b', 1));
  b!.send(heartbeat('b', 'a', 1));
  assert.deepEqual(ra.unreachable, [], 'reports are asynchronous too');
  await ra.settle();
  assert.deepEqual(ra.unreachable, ['b']);
  assert.deepEqual(rb.unreachable, ['a']);
  assert.equal(ra.messages.length + rb.messages.length, 0);

  network.heal();
  network.cut('b', 'c');
  b!.send(heartbeat('b', 'c', 2));
  c!.send(heartbeat('c', 'b', 2));
  a!.send(heartbeat('a', 'c', 2));
  await ra.settle();
  assert.deepEqual(rb.unreachable, ['a', 'c']);
  assert.deepEqual(rc.unreachable, ['b']);
  assert.equal(rc.messages.length, 1, 'a still reaches c');

  network.heal();
  b!.send(heartbeat('b', 'c', 3));
  await ra.settle();
  assert.equal(rc.messages.length, 2);
});

test('a link cut while a message is in flight drops it', async () => {
  const network = createMemoryNetwork();
  const a = network.transport('a');
  const b = network.transport('b');
  const ra = recorder();
  const rb = recorder();
  await a.start(ra);
  await b.start(rb);
  a.send(heartbeat('a', 'b', 1));
  network.cut('a', 'b');
  await ra.settle();
  assert.equal(rb.messages.length, 0);
  assert.deepEqual(ra.unreachable, ['b']);
});

test('unknown, unstarted and closed nodes are unreachable; a closed id can be reopened', async () => {
  const network = createMemoryNetwork();
  const a = network.transport('a');
  const ra = recorder();
  await a.start(ra);
  a.send(heartbeat('a', 'ghost', 1));
  const b = network.transport('b');
  a.send(heartbeat('a', 'b', 1)); // b exists but has not started
  await ra.settle();
  assert.deepEqual(ra.unreachable, ['ghost', 'b']);

  assert.throws(
    () => network.transport('a'),
    (e: unknown) => (e as RaftError).code === 'INVALID_ARGUMENT',
  );
  await b.close();
  await b.close(); // idempotent
  const b2 = network.transport('b');
  const rb2 = recorder();
  await b2.start(rb2);
  a.send(heartbeat('a', 'b', 2));
  await ra.settle();
  assert.equal(rb2.messages.length, 1);

  await a.close();
  a.send(heartbeat('a', 'b', 3)); // a closed transport sends nothing
  await ra.settle();
  assert.equal(rb2.messages.length, 1);
});
