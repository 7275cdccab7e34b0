import * as assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { ChunkQueue } from './chunk-queue.js';
import { ChunkWriter } from './chunk-writer.js';

test('the queue reassembles pieces taken across any chunk boundaries', () => {
  const data = Uint8Array.from({ length: 10_000 }, (_, i) => i & 0xff);
  const queue = new ChunkQueue();
  // Chunks of 1..13 bytes, taken in pieces of 1..17: most pieces straddle chunks.
  for (let offset = 0, size = 1; offset < data.length; offset += size, size = (size % 13) + 1) {
    queue.push(data.subarray(offset, offset + size));
  }
  queue.push(new Uint8Array(0));
  const out: number[] = [];
  for (let size = 1; queue.available > 0; size = (size % 17) + 1) {
    out.push(...queue.take(Math.min(size, queue.available)));
  }
  assert.deepEqual(Uint8Array.from(out), data);
  assert.throws(() => queue.take(1), RangeError);
});

test('the writer bounds its chunks, splits long fields, and hashes exactly what came before seal', () => {
  const w = new ChunkWriter(16);
  w.u8(1);
  w.u64(2 ** 40);
  w.latin1('\u00ff'.repeat(30));
  w.bytes(new Uint8Array(40).fill(7));
  w.u32(0xdeadbeef);
  const digest = w.seal();
  w.u16(0xffff);
  w.flush();
  const chunks = w.take();
  assert.ok(chunks.every((c) => c.byteLength <= 16));
  const all = Buffer.concat(chunks);
  assert.equal(all.byteLength, 1 + 8 + 30 + 40 + 4 + 2);
  assert.equal(all.readBigUInt64LE(1), 2n ** 40n);
  assert.equal(all.readUInt32LE(79), 0xdeadbeef);
  assert.deepEqual(digest, createHash('sha256').update(all.subarray(0, 83)).digest());
  assert.deepEqual(w.take(), []);
});
