import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { RaftMessageSchema } from '@tsraft/proto';
import { createSnapshotAssembler, splitSnapshot } from './snapshot-chunks.js';
import { TransportError } from './transport-error.js';

function snapshotMessage(bytes: number) {
  const data = new Uint8Array(bytes).map((_, i) => i & 0xff);
  return create(RaftMessageSchema, {
    clusterId: 'c',
    from: 'a',
    to: 'b',
    term: 2n,
    body: {
      case: 'installSnapshot',
      value: { meta: { index: 5n, term: 2n, conf: { voters: ['a', 'b'] } }, offset: 0n, data, done: true },
    },
  });
}

test('a snapshot split into pieces reassembles to the same bytes', () => {
  const whole = snapshotMessage(10_000);
  const pieces = splitSnapshot(whole, 4_096);
  assert.equal(pieces.length, 3);
  assert.deepEqual(
    pieces.map((p) => (p.body.case === 'installSnapshot' ? [p.body.value.offset, p.body.value.done] : null)),
    [
      [0n, false],
      [4096n, false],
      [8192n, true],
    ],
  );
  const assembler = createSnapshotAssembler(1 << 20);
  for (const piece of pieces) assembler.push(piece);
  assert.equal(assembler.complete, true);
  const back = assembler.take();
  assert.ok(back.body.case === 'installSnapshot' && whole.body.case === 'installSnapshot');
  assert.deepEqual(Buffer.from(back.body.value.data), Buffer.from(whole.body.value.data));
  assert.equal(back.body.value.done, true);
  assert.equal(back.body.value.offset, 0n);
});

test('an empty snapshot is one piece', () => {
  assert.equal(splitSnapshot(snapshotMessage(0), 10).length, 1);
});

test('pieces out of order, past the limit or incomplete are refused with typed errors', () => {
  const pieces = splitSnapshot(snapshotMessage(300), 100);
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
