import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { type Message, RaftError, SnapshotData } from '@tsraft/core';
import { type InstallSnapshotChunk, type RaftMessage, RaftMessageSchema } from '@tsraft/proto';
import {
  fromProtoSnapshotMessage,
  fromProtoSnapshotPieces,
  type SnapshotMessage,
  toProtoMessage,
  toProtoSnapshotPieces,
} from './message.js';
import { decodeRaftMessage, encodeRaftMessage } from './raft-message-codec.js';

function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

function isInvalidArgument(pattern: RegExp): (error: unknown) => boolean {
  return (error) =>
    error instanceof RaftError && error.code === 'INVALID_ARGUMENT' && pattern.test(error.message);
}

const meta = { index: 40, term: 3, conf: { voters: ['n1', 'n2'], learners: ['n3'] } };

function snapshotMessage(data: SnapshotData): SnapshotMessage {
  return { type: 'snapshot', from: 'n1', to: 'n2', term: 3, snapshot: { meta, data } };
}

function chunkOf(piece: RaftMessage): InstallSnapshotChunk {
  assert.equal(piece.body.case, 'installSnapshot');
  return piece.body.value as InstallSnapshotChunk;
}

/** Joins byte arrays, for comparisons in tests only. */
function join(parts: readonly Uint8Array[]): Buffer {
  return Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
}

describe('toProtoSnapshotPieces', () => {
  it('cuts large source chunks with subarray, sends small ones as they are, and sets meta, offsets and done', () => {
    const sources = [bytes(250, 1), bytes(30, 2), bytes(100, 3), bytes(7, 4)];
    const data = SnapshotData.fromChunks(sources);
    const pieces = [...toProtoSnapshotPieces(snapshotMessage(data), 'c', 100)];
    const chunks = pieces.map(chunkOf);
    assert.deepEqual(
      chunks.map((c) => [Number(c.offset), c.data.byteLength, c.done]),
      [
        [0, 100, false],
        [100, 100, false],
        [200, 50, false],
        [250, 30, false],
        [280, 100, false],
        [380, 7, true],
      ],
    );
    // Nothing copied: every piece is a view of a source chunk.
    assert.equal(chunks[0]!.data.buffer, sources[0]!.buffer);
    assert.equal(chunks[3]!.data, sources[1]);
    for (const piece of pieces) {
      assert.equal(piece.clusterId, 'c');
      assert.equal(piece.from, 'n1');
      assert.equal(piece.term, 3n);
      assert.equal(chunkOf(piece).meta?.index, 40n);
    }
    assert.ok(join(chunks.map((c) => c.data)).equals(join(sources)));
  });

  it('an empty snapshot is one empty piece with done', () => {
    const pieces = [...toProtoSnapshotPieces(snapshotMessage(SnapshotData.EMPTY), 'c', 10)];
    assert.equal(pieces.length, 1);
    const chunk = chunkOf(pieces[0]!);
    assert.deepEqual([chunk.offset, chunk.data.byteLength, chunk.done], [0n, 0, true]);
    assert.ok(chunk.meta !== undefined);
  });

  it('reads the data lazily, and a read error comes out of next() before the last piece', () => {
    let reads = 0;
    const data = SnapshotData.fromSource(1_000, function* () {
      reads++;
      yield bytes(300, 1);
      yield bytes(300, 2);
      throw new Error('disk');
    });
    const pieces = toProtoSnapshotPieces(snapshotMessage(data), 'c', 200);
    assert.equal(reads, 0, 'nothing is read before the first piece is asked for');
    const seen: InstallSnapshotChunk[] = [];
    assert.throws(() => {
      for (const piece of pieces) seen.push(chunkOf(piece));
    }, /disk/);
    assert.equal(reads, 1);
    assert.ok(seen.length > 0);
    assert.ok(
      seen.every((c) => !c.done),
      'no piece was marked done',
    );
  });

  it('a source that yields fewer bytes than declared never produces a done piece', () => {
    const data = SnapshotData.fromSource(500, function* () {
      yield bytes(200, 1);
    });
    const seen: InstallSnapshotChunk[] = [];
    assert.throws(
      () => {
        for (const piece of toProtoSnapshotPieces(snapshotMessage(data), 'c', 100)) seen.push(chunkOf(piece));
      },
      isInvalidArgument(/200 bytes/),
    );
    assert.ok(seen.every((c) => !c.done));
  });

  it('checks the header, meta and chunk size at once', () => {
    const data = SnapshotData.of(bytes(10, 0));
    assert.throws(
      () => toProtoSnapshotPieces({ ...snapshotMessage(data), from: '' }, 'c', 100),
      isInvalidArgument(/from/),
    );
    assert.throws(
      () => toProtoSnapshotPieces({ ...snapshotMessage(data), term: -1 }, 'c', 100),
      isInvalidArgument(/term/),
    );
    assert.throws(
      () => toProtoSnapshotPieces(snapshotMessage(data), 'c', 0),
      isInvalidArgument(/chunkBytes/),
    );
  });
});

describe('fromProtoSnapshotPieces', () => {
  it('round-trips through the wire, keeping the pieces as a list', () => {
    const sources = Array.from({ length: 9 }, (_, i) => bytes(1_000 + i * 37, i));
    const message = snapshotMessage(SnapshotData.fromChunks(sources));
    const wire = [...toProtoSnapshotPieces(message, 'cluster-x', 700)].map((p) =>
      fromBinary(RaftMessageSchema, toBinary(RaftMessageSchema, p)),
    );
    const decoded = fromProtoSnapshotPieces(wire);
    assert.equal(decoded.clusterId, 'cluster-x');
    const back = decoded.message;
    assert.ok(back.type === 'snapshot');
    assert.deepEqual(back.snapshot.meta, meta);
    assert.deepEqual([back.from, back.to, back.term], ['n1', 'n2', 3]);
    assert.equal(back.snapshot.data.byteLength, message.snapshot.data.byteLength);
    assert.equal([...back.snapshot.data.chunks()].length, wire.length);
    assert.ok(Buffer.from(back.snapshot.data.toBytes()).equals(join(sources)));
  });

  it('an empty snapshot comes back empty', () => {
    const decoded = fromProtoSnapshotPieces(
      toProtoSnapshotPieces(snapshotMessage(SnapshotData.EMPTY), 'c', 8),
    );
    assert.ok(decoded.message.type === 'snapshot');
    assert.equal(decoded.message.snapshot.data.byteLength, 0);
  });

  it('refuses pieces that do not fit together', () => {
    const pieces = [...toProtoSnapshotPieces(snapshotMessage(SnapshotData.of(bytes(300, 1))), 'c', 100)];
    assert.throws(() => fromProtoSnapshotPieces([]), isInvalidArgument(/at least one/));
    assert.throws(() => fromProtoSnapshotPieces(pieces.slice(0, 2)), isInvalidArgument(/last piece/));
    assert.throws(
      () => fromProtoSnapshotPieces([pieces[0]!, pieces[2]!]),
      isInvalidArgument(/offset 200, expected 100/),
    );
    assert.throws(
      () => fromProtoSnapshotPieces([...pieces, pieces[2]!]),
      isInvalidArgument(/after the last/),
    );
    const other = [
      ...toProtoSnapshotPieces({ ...snapshotMessage(SnapshotData.of(bytes(300, 1))), term: 4 }, 'c', 100),
    ];
    assert.throws(
      () => fromProtoSnapshotPieces([pieces[0]!, other[1]!, pieces[2]!]),
      isInvalidArgument(/disagree/),
    );
    const heartbeat = toProtoMessage(
      { type: 'heartbeat', from: 'n1', to: 'n2', term: 3, commit: 0, context: 0 },
      'c',
    );
    assert.throws(() => fromProtoSnapshotPieces([heartbeat]), isInvalidArgument(/expected a snapshot piece/));
    assert.throws(
      () => fromProtoSnapshotMessage(heartbeat, SnapshotData.EMPTY),
      isInvalidArgument(/expected a snapshot piece/),
    );
  });
});

describe('toProtoMessage and fromProtoMessage of a snapshot', () => {
  it('a snapshot held in one buffer is one whole chunk, and decodes to the same bytes', () => {
    const message = snapshotMessage(SnapshotData.of(bytes(4_000, 5)));
    const decoded = decodeRaftMessage(encodeRaftMessage(message, 'c')).message;
    assert.ok(decoded.type === 'snapshot');
    assert.ok(Buffer.from(decoded.snapshot.data.toBytes()).equals(Buffer.from(bytes(4_000, 5))));
  });

  it('data in several chunks or read from a source is refused: it must go in pieces', () => {
    const chunked: Message = snapshotMessage(SnapshotData.fromChunks([bytes(10, 1), bytes(10, 2)]));
    assert.throws(() => toProtoMessage(chunked, 'c'), isInvalidArgument(/toProtoSnapshotPieces/));
    let reads = 0;
    const sourced: Message = snapshotMessage(
      SnapshotData.fromSource(10, function* () {
        reads++;
        yield bytes(10, 1);
      }),
    );
    assert.throws(() => toProtoMessage(sourced, 'c'), isInvalidArgument(/toProtoSnapshotPieces/));
    assert.equal(reads, 0, 'the source was not read');
  });
});
