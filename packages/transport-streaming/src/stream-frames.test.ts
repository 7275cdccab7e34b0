import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toProtoMessage } from '@tsraft/codec';
import type { Message } from '@tsraft/core';
import type { QueuedMessage } from './peer-queue.js';
import { type Frame, toFrames } from './stream-frames.js';

function queued(message: Message, bytes = 64): QueuedMessage {
  return { proto: toProtoMessage(message, 'c'), bytes, type: message.type, term: message.term };
}

const heartbeat = (commit: number): Message => ({
  type: 'heartbeat',
  from: 'a',
  to: 'b',
  term: 1,
  commit,
  context: 0,
});

const snapshot = (bytes: number): Message => ({
  type: 'snapshot',
  from: 'a',
  to: 'b',
  term: 1,
  snapshot: {
    meta: { index: 5, term: 1, conf: { voters: ['a', 'b'], learners: [] } },
    data: new Uint8Array(bytes),
  },
});

test('a batch without large snapshots is one frame', () => {
  const later: Frame[] = [];
  const frame = toFrames([queued(heartbeat(1)), queued(heartbeat(2)), queued(snapshot(10), 74)], 100, later);
  assert.equal(frame.request.messages.length, 3);
  assert.equal(frame.bytes, 64 + 64 + 74);
  assert.deepEqual(later, []);
});

test('a large snapshot is cut into one frame per piece, keeping the order of the batch', () => {
  const later: Frame[] = [];
  const frame = toFrames(
    [queued(heartbeat(1)), queued(snapshot(250), 314), queued(heartbeat(2))],
    100,
    later,
  );
  assert.equal(frame.request.messages.length, 1);
  const kinds = later.map((f) => f.request.messages.map((m) => m.body.case).join(','));
  assert.deepEqual(kinds, ['installSnapshot', 'installSnapshot', 'installSnapshot', 'heartbeat']);
  const pieces = later.slice(0, 3).map((f) => {
    const body = f.request.messages[0]!.body;
    assert.ok(body.case === 'installSnapshot');
    return [Number(body.value.offset), body.value.data.byteLength, body.value.done];
  });
  assert.deepEqual(pieces, [
    [0, 100, false],
    [100, 100, false],
    [200, 50, true],
  ]);
});

test('a batch that starts with a large snapshot leaves an empty first frame, which is skipped', () => {
  const later: Frame[] = [];
  const frame = toFrames([queued(snapshot(150), 214)], 100, later);
  assert.equal(frame.request.messages.length, 0);
  assert.equal(later.length, 2);
});
