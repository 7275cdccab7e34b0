import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { nodeFileSystem } from './file-system.js';
import { LogStorageError } from './log-storage-error.js';
import { SnapshotStore, snapshotFileName } from './snapshot-store.js';
import { tempDir } from './test-support/temp-dir.js';

const conf = { voters: ['a'], learners: [] };

async function* generate(chunks: number, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < chunks; i++) yield new Uint8Array(size).fill(i);
}

test('a snapshot streams in and out in chunks, and a flipped bit fails the stream', async () => {
  const { dir, remove } = tempDir();
  try {
    const store = new SnapshotStore({ fs: nodeFileSystem, dir, chunkBytes: 1000 });
    await store.write({ index: 42, term: 3, conf }, generate(10, 700));
    assert.deepEqual(await store.list(), [42]);
    const { meta, chunks } = await store.open(42);
    assert.deepEqual(meta, { index: 42, term: 3, conf });
    const sizes: number[] = [];
    for await (const chunk of chunks) sizes.push(chunk.byteLength);
    assert.deepEqual(sizes, [1000, 1000, 1000, 1000, 1000, 1000, 1000]);
    const file = path.join(dir, snapshotFileName(42));
    const bytes = readFileSync(file);
    bytes[2000]! ^= 1;
    writeFileSync(file, bytes);
    const reopened = await store.open(42);
    await assert.rejects(
      (async () => {
        for await (const _ of reopened.chunks);
      })(),
      (e: unknown) => e instanceof LogStorageError && e.code === 'CORRUPT' && e.file === file,
    );
  } finally {
    remove();
  }
});

test('openSync reads a stored snapshot synchronously, and notices a damaged, replaced or removed file', async () => {
  const { dir, remove } = tempDir();
  try {
    const store = new SnapshotStore({ fs: nodeFileSystem, dir, chunkBytes: 1000 });
    const written = await store.write({ index: 7, term: 2, conf }, generate(10, 700));
    const reader = store.openSync(7);
    assert.deepEqual(reader.meta, { index: 7, term: 2, conf });
    assert.equal(reader.byteLength, 7000);
    assert.equal(reader.checksum, written.checksum);
    const chunks = [...reader.read()];
    assert.deepEqual(
      chunks.map((c) => c.byteLength),
      [1000, 1000, 1000, 1000, 1000, 1000, 1000],
    );
    const data = store.data(reader);
    assert.equal(data.inMemory, false);
    const bytes = data.toBytes();
    for (let i = 0; i < 10; i++) assert.ok(bytes.subarray(i * 700, (i + 1) * 700).every((b) => b === i));
    assert.deepEqual((await store.read(7)).data.toBytes(), bytes);

    const file = path.join(dir, snapshotFileName(7));
    const original = readFileSync(file);
    const flipped = Buffer.from(original);
    flipped[3000]! ^= 1;
    writeFileSync(file, flipped);
    assert.throws(
      () => [...reader.read()],
      (e: unknown) =>
        e instanceof LogStorageError && e.code === 'CORRUPT' && /checksum mismatch/.test(e.message),
    );
    // Another snapshot at the same index is not read as this one.
    await store.write({ index: 7, term: 2, conf }, generate(10, 701));
    assert.throws(
      () => [...reader.read()],
      (e: unknown) => e instanceof LogStorageError && e.code === 'CORRUPT' && /changed/.test(e.message),
    );
    writeFileSync(file, original);
    assert.deepEqual(data.toBytes(), bytes);
    await store.remove(7);
    assert.throws(
      () => [...reader.read()],
      (e: unknown) => e instanceof LogStorageError && e.code === 'SNAPSHOT_GONE' && e.file === file,
    );
    assert.throws(
      () => store.openSync(7),
      (e: unknown) => (e as LogStorageError).code === 'SNAPSHOT_GONE',
    );
  } finally {
    remove();
  }
});
