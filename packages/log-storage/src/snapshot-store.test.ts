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
