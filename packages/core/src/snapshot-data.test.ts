import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RaftError } from './errors.js';
import {
  collectSnapshotData,
  collectSnapshotDataSync,
  SnapshotData,
  snapshotChunksOf,
} from './snapshot-data.js';

const bytes = (...values: number[]) => new Uint8Array(values);

describe('SnapshotData', () => {
  it('keeps in-memory chunks as they are, in order, without joining them', () => {
    const parts = [bytes(1, 2), bytes(), bytes(3), bytes(4, 5, 6)];
    const data = SnapshotData.fromChunks(parts);
    assert.equal(data.byteLength, 6);
    assert.equal(data.inMemory, true);
    const chunks = [...data.chunks()];
    assert.equal(chunks.length, 3, 'the empty chunk is skipped');
    assert.equal(chunks[0], parts[0], 'chunks are shared, not copied');
    assert.deepEqual(data.toBytes(), bytes(1, 2, 3, 4, 5, 6));
  });

  it('reads a source again on every chunks(), and checks the length it declared', () => {
    let reads = 0;
    const data = SnapshotData.fromSource(3, function* () {
      reads++;
      yield bytes(7);
      yield bytes(8, 9);
    });
    assert.equal(data.inMemory, false);
    assert.deepEqual(data.toBytes(), bytes(7, 8, 9));
    assert.deepEqual(data.toBytes(), bytes(7, 8, 9));
    assert.equal(reads, 2);
    const short = SnapshotData.fromSource(5, function* () {
      yield bytes(1);
    });
    assert.throws(
      () => short.toBytes(),
      (e: unknown) => e instanceof RaftError && e.code === 'INVALID_ARGUMENT',
    );
    const long = SnapshotData.fromSource(1, function* () {
      yield bytes(1, 2);
    });
    assert.throws(
      () => [...long.chunks()],
      (e: unknown) => e instanceof RaftError,
    );
  });

  it('passes a source error through to the reader', () => {
    const data = SnapshotData.fromSource(4, function* () {
      yield bytes(1, 2);
      throw new Error('disk gone');
    });
    assert.throws(() => data.toBytes(), /disk gone/);
  });

  it('of() shares one buffer; EMPTY has no chunks', () => {
    const one = bytes(1, 2, 3);
    assert.equal(SnapshotData.of(one).toBytes(), one);
    assert.equal(SnapshotData.of(bytes()), SnapshotData.EMPTY);
    assert.deepEqual([...SnapshotData.EMPTY.chunks()], []);
    assert.throws(() => SnapshotData.of('x' as unknown as Uint8Array), RaftError);
  });

  it('collects a buffer, a sync iterable or an async iterable into chunks', async () => {
    async function* agen() {
      yield bytes(1);
      yield bytes(2, 3);
    }
    assert.deepEqual((await collectSnapshotData(agen())).toBytes(), bytes(1, 2, 3));
    assert.deepEqual((await collectSnapshotData([bytes(4), bytes(5)])).toBytes(), bytes(4, 5));
    assert.deepEqual((await collectSnapshotData(bytes(6))).toBytes(), bytes(6));
    assert.equal([...(await collectSnapshotData(agen())).chunks()].length, 2);
    assert.deepEqual(collectSnapshotDataSync([bytes(1), bytes(2)]).toBytes(), bytes(1, 2));
    assert.throws(() => collectSnapshotDataSync(agen()), RaftError);
    await assert.rejects(collectSnapshotData([1, 2] as unknown as Uint8Array[]), RaftError);
    const seen: Uint8Array[] = [];
    for await (const chunk of snapshotChunksOf(agen())) seen.push(chunk);
    assert.equal(seen.length, 2);
  });
});
