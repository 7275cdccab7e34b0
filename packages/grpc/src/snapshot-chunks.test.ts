import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { SnapshotData } from '@tsraft/core';
import { type RaftMessage, RaftMessageSchema } from '@tsraft/proto';
import { createSnapshotAssembler, splitSnapshot } from './snapshot-chunks.js';
import { TransportError } from './transport-error.js';

const head = create(RaftMessageSchema, {
  clusterId: 'c',
  from: 'a',
  to: 'b',
  term: 2n,
  body: {
    case: 'installSnapshot',
    value: { meta: { index: 5n, term: 2n, conf: { voters: ['a', 'b'] } }, offset: 0n, done: true },
  },
});

function bytes(length: number, seed = 0): Uint8Array {
  return new Uint8Array(length).map((_, i) => (i + seed) & 0xff);
}

function shape(pieces: readonly RaftMessage[]): [bigint, number, boolean][] {
  return pieces.map((p) => {
    assert.ok(p.body.case === 'installSnapshot');
    return [p.body.value.offset, p.body.value.data.byteLength, p.body.value.done];
  });
}

test('a snapshot split into pieces reassembles to the same bytes, as a list of the pieces', () => {
  const source = bytes(10_000);
  const pieces = [...splitSnapshot(head, SnapshotData.of(source), 4_096)];
  assert.deepEqual(shape(pieces), [
    [0n, 4096, false],
    [4096n, 4096, false],
    [8192n, 1808, true],
  ]);
  // The pieces are views of the source buffer, not copies.
  for (const p of pieces)
    assert.ok(p.body.case === 'installSnapshot' && p.body.value.data.buffer === source.buffer);
  const assembler = createSnapshotAssembler(1 << 20);
  for (const piece of pieces) assembler.push(piece);
  assert.equal(assembler.complete, true);
  assert.equal(assembler.receivedBytes, 10_000);
  const back = assembler.take();
  assert.equal(back.envelope.from, 'a');
  assert.ok(back.envelope.body.case === 'installSnapshot' && back.envelope.body.value.meta?.index === 5n);
  assert.equal([...back.data.chunks()].length, 3);
  assert.ok(Buffer.from(back.data.toBytes()).equals(Buffer.from(source)));
});

test('small source chunks go as they are; large ones are cut', () => {
  const data = SnapshotData.fromChunks([bytes(30), bytes(250, 1), bytes(5, 2)]);
  assert.deepEqual(shape([...splitSnapshot(head, data, 100)]), [
    [0n, 30, false],
    [30n, 100, false],
    [130n, 100, false],
    [230n, 50, false],
    [280n, 5, true],
  ]);
});

test('an empty snapshot is one piece', () => {
  assert.deepEqual(shape([...splitSnapshot(head, SnapshotData.EMPTY, 10)]), [[0n, 0, true]]);
});

test('pieces are read lazily; a read error comes out before the last piece', () => {
  let reads = 0;
  const data = SnapshotData.fromSource(1_000, function* () {
    reads++;
    yield bytes(100);
    yield bytes(100);
    throw new Error('disk');
  });
  const pieces = splitSnapshot(head, data, 100);
  assert.equal(reads, 0);
  const seen: RaftMessage[] = [];
  assert.throws(() => {
    for (const p of pieces) seen.push(p);
  }, /disk/);
  assert.ok(shape(seen).every(([, , done]) => !done));
});

test('pieces out of order, past the limit or incomplete are refused with typed errors', () => {
  const pieces = [...splitSnapshot(head, SnapshotData.of(bytes(300)), 100)];
  const gap = createSnapshotAssembler(1_000);
  gap.push(pieces[0]!);
  assert.throws(
    () => gap.push(pieces[2]!),
    (e: unknown) => e instanceof TransportError && e.code === 'MALFORMED',
  );
  const small = createSnapshotAssembler(150);
  small.push(pieces[0]!);
  assert.throws(
    () => small.push(pieces[1]!),
    (e: unknown) => e instanceof TransportError && e.code === 'MESSAGE_TOO_LARGE',
  );
  const partial = createSnapshotAssembler(1_000);
  partial.push(pieces[0]!);
  assert.throws(
    () => partial.take(),
    (e: unknown) => e instanceof TransportError && e.code === 'MALFORMED',
  );
});
