import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import type { Message } from '@tsraft/core';
import { type RaftMessage, RaftMessageSchema } from '@tsraft/proto';
import { createPeerQueue, type QueuedMessage } from './peer-queue.js';

type Item = QueuedMessage & { readonly proto: RaftMessage };

function item(type: Message['type'], bytes: number, term = 1, tag = 0): Item {
  const proto = create(RaftMessageSchema, { term: BigInt(tag) });
  if (type === 'snapshot') {
    return { proto, bytes, type, term, byteLength: bytes, pieces: [proto][Symbol.iterator]() };
  }
  return { proto, bytes, type, term };
}

const protoOf = (m: QueuedMessage): RaftMessage => (m as Item).proto;

test('keeps order and hands out batches bounded by messages and bytes', () => {
  const queue = createPeerQueue({ maxMessages: 100, maxBytes: 10_000 });
  for (let i = 0; i < 10; i++) queue.push(item('append', 100, 1, i), true);
  const first = queue.take(4, 10_000);
  assert.deepEqual(
    first.map((m) => protoOf(m).term),
    [0n, 1n, 2n, 3n],
  );
  const second = queue.take(100, 250);
  assert.deepEqual(
    second.map((m) => protoOf(m).term),
    [4n, 5n],
  );
  assert.equal(queue.size, 4);
  assert.equal(queue.bytes, 400);
  // A message larger than maxBytes still goes out, alone.
  queue.clear();
  queue.push(item('append', 5_000), true);
  assert.equal(queue.take(10, 100).length, 1);
});

test('under pressure, a newer heartbeat replaces a queued one in place', () => {
  const queue = createPeerQueue({ maxMessages: 10, maxBytes: 10_000 });
  assert.equal(queue.push(item('append', 100, 1, 1), true), 'queued');
  assert.equal(queue.push(item('heartbeat', 64, 1, 2), true), 'queued');
  assert.equal(queue.push(item('append', 100, 1, 3), true), 'queued');
  assert.equal(queue.push(item('heartbeat', 64, 1, 4), true), 'coalesced');
  assert.deepEqual(
    queue.take(10, 10_000).map((m) => protoOf(m).term),
    [1n, 4n, 3n],
  );
});

test('when full, a queued heartbeat is evicted first, then new messages are dropped', () => {
  const queue = createPeerQueue({ maxMessages: 3, maxBytes: 10_000 });
  queue.push(item('heartbeat', 64, 1, 1), true);
  queue.push(item('append', 100, 1, 2), true);
  queue.push(item('append', 100, 1, 3), true);
  assert.equal(queue.push(item('append', 100, 1, 4), true), 'queued');
  assert.equal(queue.push(item('append', 100, 1, 5), true), 'dropped');
  assert.deepEqual(
    queue.take(10, 10_000).map((m) => protoOf(m).term),
    [2n, 3n, 4n],
  );
});

test('the byte bound holds, except for one snapshot', () => {
  const queue = createPeerQueue({ maxMessages: 100, maxBytes: 1_000 });
  for (let i = 0; i < 9; i++) assert.equal(queue.push(item('append', 100), true), 'queued');
  assert.equal(queue.push(item('append', 200), true), 'dropped');
  assert.ok(queue.bytes <= 1_000);
  assert.equal(queue.push(item('snapshot', 50_000), true), 'queued');
  assert.equal(queue.push(item('snapshot', 50_000), true), 'dropped');
  assert.equal(queue.push(item('append', 10), true), 'dropped');
  queue.take(100, Number.MAX_SAFE_INTEGER);
  assert.equal(queue.bytes, 0);
  assert.equal(queue.push(item('snapshot', 50_000), true), 'queued');
});

test('without pressure, every heartbeat is queued', () => {
  const queue = createPeerQueue({ maxMessages: 10, maxBytes: 10_000 });
  assert.equal(queue.push(item('heartbeat', 64, 1, 1), false), 'queued');
  assert.equal(queue.push(item('heartbeat', 64, 1, 2), false), 'queued');
  assert.equal(queue.size, 2);
});
