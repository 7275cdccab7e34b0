import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toProtoMessage, toProtoSnapshotPieces } from '@tsraft/codec';
import { type Message, SnapshotData } from '@tsraft/core';
import type { QueuedMessage } from './peer-queue.js';
import { type Frame, toFrames } from './stream-frames.js';

function queued(message: Message, bytes = 64, chunkBytes = 100): QueuedMessage {
  if (message.type === 'snapshot') {
    return {
      type: 'snapshot',
      term: message.term,
      bytes,
      byteLength: message.snapshot.data.byteLength,
      pieces: toProtoSnapshotPieces(message, 'c', chunkBytes),
    };
  }
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

const snapshot = (data: SnapshotData): Message => ({
  type: 'snapshot',
  from: 'a',
  to: 'b',
  term: 1,
  snapshot: { meta: { index: 5, term: 1, conf: { voters: ['a', 'b'], learners: [] } }, data },
});

const sized = (bytes: number): Message => snapshot(SnapshotData.of(new Uint8Array(bytes)));

function noFailure(error: unknown): void {
  assert.fail(`unexpected snapshot failure: ${String(error)}`);
}

function pieces(frames: readonly Frame[]): [number, number, boolean][][] {
  return frames.map((f) =>
    f.request.messages.map((m) => {
      assert.ok(m.body.case === 'installSnapshot');
      return [Number(m.body.value.offset), m.body.value.data.byteLength, m.body.value.done];
    }),
  );
}

test('a batch without large snapshots is one frame', () => {
  const frames = [
    ...toFrames([queued(heartbeat(1)), queued(heartbeat(2)), queued(sized(10), 74)], 100, noFailure),
  ];
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.request.messages.length, 3);
  assert.equal(frames[0]!.bytes, 64 + 64 + 74);
});

test('a large snapshot is cut into frames of at most a chunk, keeping the order of the batch', () => {
  const frames = [
    ...toFrames([queued(heartbeat(1)), queued(sized(250), 314), queued(heartbeat(2))], 100, noFailure),
  ];
  const kinds = frames.map((f) => f.request.messages.map((m) => m.body.case).join(','));
  assert.deepEqual(kinds, [
    'heartbeat',
    'installSnapshot',
    'installSnapshot',
    'installSnapshot',
    'heartbeat',
  ]);
  assert.deepEqual(pieces(frames.slice(1, 4)), [[[0, 100, false]], [[100, 100, false]], [[200, 50, true]]]);
});

test('a batch that starts with a large snapshot has no empty frame', () => {
  const frames = [...toFrames([queued(sized(150), 214)], 100, noFailure)];
  assert.equal(frames.length, 2);
  assert.ok(frames.every((f) => f.request.messages.length > 0));
});

test('small source chunks are packed into a frame without joining', () => {
  const chunks = Array.from({ length: 7 }, () => new Uint8Array(40));
  const frames = [...toFrames([queued(snapshot(SnapshotData.fromChunks(chunks)), 344)], 100, noFailure)];
  assert.deepEqual(
    pieces(frames).map((f) => f.map(([, size]) => size)),
    [[40, 40], [40, 40], [40, 40], [40]],
  );
  const first = frames[0]!.request.messages[0]!.body;
  assert.ok(first.case === 'installSnapshot' && first.value.data === chunks[0]);
});

test('frames are produced lazily: the snapshot is read only as frames are taken', () => {
  let reads = 0;
  const data = SnapshotData.fromSource(300, function* () {
    reads++;
    yield new Uint8Array(150);
    yield new Uint8Array(150);
  });
  const frames = toFrames([queued(heartbeat(1)), queued(snapshot(data), 364)], 100, noFailure);
  assert.equal(frames.next().value?.request.messages[0]?.body.case, 'heartbeat');
  assert.equal(reads, 0);
  assert.equal(frames.next().done, false);
  assert.equal(reads, 1);
  assert.equal([...frames].length, 3);
});

test('a snapshot whose data fails to read is dropped and reported; the rest of the batch goes on', () => {
  const failures: unknown[] = [];
  const failing = (declared: number, parts: number) =>
    snapshot(
      SnapshotData.fromSource(declared, function* () {
        for (let i = 0; i < parts; i++) yield new Uint8Array(100);
        throw new Error('disk');
      }),
    );
  const frames = [
    ...toFrames(
      [
        queued(failing(1_000, 3), 1_064),
        queued(heartbeat(1)),
        queued(failing(90, 0), 154),
        queued(heartbeat(2)),
      ],
      100,
      (error) => failures.push(error),
    ),
  ];
  assert.equal(failures.length, 2);
  const kinds = frames.map((f) => f.request.messages.map((m) => m.body.case).join(','));
  // The large one sent part of what it read before the failure (never its last piece); the small one sent
  // nothing; the heartbeats go on.
  assert.equal(kinds.at(-1), 'heartbeat,heartbeat');
  assert.ok(kinds.length >= 2);
  assert.ok(kinds.slice(0, -1).every((k) => k === 'installSnapshot'));
  assert.ok(
    pieces(frames.slice(0, -1))
      .flat()
      .every(([, , done]) => !done),
  );
});
