import * as assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { SnapshotMeta } from '@tsraft/core';
import { SnapshotData } from '@tsraft/core';
import { encodeKvCommand } from './command-codec.js';
import type { KvCommand, KvSessionRef } from './kv-command.js';
import { KvSnapshotError } from './kv-snapshot-error.js';
import { createKvStateMachine, type KvStateMachine } from './kv-state-machine.js';
import { SNAPSHOT_CHUNK_BYTES } from './snapshot-format.js';
import { captureSnapshot, writeSnapshot } from './snapshot-writer.js';
import { snapshotBytes } from './test-support/snapshot-bytes.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const meta = (index: number): SnapshotMeta => ({ index, term: 3, conf: { voters: ['n1'], learners: [] } });

/** Feeds `data` back in chunks of `size` bytes. */
async function* rechunk(data: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < data.byteLength; offset += size) yield data.subarray(offset, offset + size);
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

/** A machine with many keys, values of `bigBytes` (larger than a chunk), sessions and cached results. */
function largeMachine(keys: number, bigBytes = 200_000): KvStateMachine {
  const kv = createKvStateMachine();
  let index = 0;
  const apply = (command: KvCommand, session?: KvSessionRef): void => {
    index++;
    const proposal =
      session === undefined ? { command, proposedAtMs: index } : { command, session, proposedAtMs: index };
    kv.apply({ index, term: 1, data: encodeKvCommand(proposal) });
  };
  const sessions: number[] = [];
  for (let i = 0; i < 20; i++) {
    apply({ type: 'openSession' });
    sessions.push(index);
  }
  for (let i = 0; i < keys; i++) {
    const value = new Uint8Array(i % 10 === 0 ? 300 : (i * 31) % 97).fill(i & 0xff);
    apply({ type: 'put', key: bytes(`key-${i.toString().padStart(6, '0')}`), value });
  }
  const big = new Uint8Array(bigBytes).map((_, i) => (i * 7) & 0xff);
  apply({ type: 'put', key: Uint8Array.of(0xff, 0), value: big });
  sessions.forEach((s, i) => {
    const value = i === 0 ? big : big.subarray(i, i + 1000);
    apply(
      { type: 'compareAndSwap', key: bytes(`cas-${i}`), expected: undefined, value },
      { sessionId: s, sequence: 1, firstIncomplete: 1 },
    );
    apply(
      { type: 'delete', key: bytes(`key-${String(i).padStart(6, '0')}`) },
      { sessionId: s, sequence: 2, firstIncomplete: 1 },
    );
  });
  return kv;
}

test('a large state streams in bounded chunks and restores from 7-byte pieces', async () => {
  const source = largeMachine(10_000);
  const chunks = await collect(source.snapshotChunks());
  assert.ok(chunks.length > 10, `${chunks.length} chunks`);
  for (const chunk of chunks) assert.ok(chunk.byteLength <= SNAPSHOT_CHUNK_BYTES);
  const whole = Buffer.concat(chunks);
  assert.ok(whole.equals(snapshotBytes(source)));
  // What the driver stores is the same stream of bounded chunks, never one buffer.
  const forDriver = [...source.snapshot()];
  assert.equal(forDriver.length, chunks.length);
  for (const chunk of forDriver) assert.ok(chunk.byteLength <= SNAPSHOT_CHUNK_BYTES);

  await assertRestores(source, whole, [7, 65_537]);
});

test('a snapshot restores from 1-byte pieces, records spanning chunks included', async () => {
  const source = largeMachine(300, 70_000);
  const whole = Buffer.concat(await collect(source.snapshotChunks()));
  assert.ok(whole.byteLength > 3 * SNAPSHOT_CHUNK_BYTES);
  await assertRestores(source, whole, [1]);
});

/** Restores `whole` fed in pieces of each size, checking the result equals `source`. */
async function assertRestores(source: KvStateMachine, whole: Uint8Array, sizes: number[]): Promise<void> {
  for (const size of sizes) {
    const target = createKvStateMachine();
    await target.restoreChunks(rechunk(whole, size), meta(source.appliedIndex));
    assert.equal(target.digest(), source.digest(), `chunks of ${size}`);
    assert.equal(target.size, source.size);
    assert.equal(target.appliedIndex, source.appliedIndex);
    assert.deepEqual(target.get(Uint8Array.of(0xff, 0)), source.get(Uint8Array.of(0xff, 0)));
    assert.ok(Buffer.from(snapshotBytes(target)).equals(snapshotBytes(source)));
  }
}

test('restore sets the applied index from the snapshot meta, and the core restore works on one buffer', async () => {
  const source = largeMachine(10);
  const target = createKvStateMachine();
  await target.restore(SnapshotData.of(snapshotBytes(source)), meta(source.appliedIndex));
  assert.equal(target.appliedIndex, source.appliedIndex);
  assert.equal(target.digest(), source.digest());
  const empty = createKvStateMachine();
  const other = createKvStateMachine();
  await other.restore(SnapshotData.of(snapshotBytes(empty)), meta(0));
  assert.equal(other.digest(), empty.digest());
  assert.equal(other.size, 0);
});

test('snapshotChunks captures the state when called, even if applies happen while it is consumed', async () => {
  const kv = largeMachine(2_000);
  const expected = snapshotBytes(kv);
  const iterator = kv.snapshotChunks()[Symbol.asyncIterator]();
  const first = await iterator.next();
  for (let i = 0; i < 100; i++) {
    kv.apply({
      index: kv.appliedIndex + 1,
      term: 1,
      data: encodeKvCommand({
        command: { type: 'delete', key: bytes(`key-${String(i).padStart(6, '0')}`) },
        proposedAtMs: 1,
      }),
    });
  }
  const chunks = [first.value as Uint8Array];
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) chunks.push(next.value);
  assert.ok(Buffer.concat(chunks).equals(expected));
  assert.ok(!Buffer.from(snapshotBytes(kv)).equals(expected));
});

/** Restoring `data` into `target` must throw KvSnapshotError and leave `target` as it was. */
async function assertRefused(target: KvStateMachine, data: Uint8Array, pattern?: RegExp): Promise<void> {
  const digest = target.digest();
  const applied = target.appliedIndex;
  const value = target.get(bytes('key-000001'));
  await assert.rejects(target.restoreChunks(rechunk(data, 1000), meta(999)), (error: unknown) => {
    assert.ok(error instanceof KvSnapshotError, String(error));
    if (pattern !== undefined) assert.match(error.message, pattern);
    return true;
  });
  assert.equal(target.digest(), digest);
  assert.equal(target.appliedIndex, applied);
  assert.deepEqual(target.get(bytes('key-000001')), value);
}

test('a flipped byte anywhere, a truncation or trailing bytes are refused, and the state is untouched', async () => {
  const source = largeMachine(500);
  const good = snapshotBytes(source);
  const target = largeMachine(30);
  const positions = [
    0,
    8,
    9,
    12,
    50,
    Math.floor(good.byteLength / 2),
    good.byteLength - 41,
    good.byteLength - 1,
  ];
  for (const position of positions) {
    const bad = good.slice();
    bad[position]! ^= 0x01;
    await assertRefused(target, bad);
  }
  for (const length of [
    0,
    5,
    10,
    11,
    Math.floor(good.byteLength / 2),
    good.byteLength - 45,
    good.byteLength - 1,
  ]) {
    await assertRefused(target, good.subarray(0, length), /truncated/);
  }
  await assertRefused(target, Buffer.concat([good, Uint8Array.of(0)]), /after the end/);
  await assertRefused(target, bytes('not a snapshot at all'), /magic/);
});

/** Re-seals a modified snapshot with a valid checksum, so only the structural checks can catch it. */
function reseal(data: Uint8Array): Uint8Array {
  const out = data.slice();
  const body = out.byteLength - 45;
  out.set(createHash('sha256').update(out.subarray(0, body)).digest(), out.byteLength - 32);
  return out;
}

test('structural errors behind a valid checksum are refused too', async () => {
  const target = largeMachine(30);
  const good = snapshotBytes(target);
  const version = good.slice();
  version[8] = 2;
  await assertRefused(target, reseal(version), /version 2/);

  const source = largeMachine(20);
  const image = captureSnapshot({
    data: new Map([
      ['b', bytes('1')],
      ['a', bytes('2')],
    ]),
    sessions: new Map(),
    clockMs: 0,
    appliedIndex: 0,
  });
  const unsorted = Buffer.concat([
    ...writeSnapshot({ ...image, entries: [...image.entries].reverse() }, 1024),
  ]);
  await assertRefused(target, unsorted, /increasing order/);
  // A record count that does not match.
  const counted = snapshotBytes(source).slice();
  counted[counted.byteLength - 40]! += 1;
  await assertRefused(target, counted, /records/);
});

test('an error of the chunk source is wrapped, and the state is untouched', async () => {
  const target = largeMachine(30);
  const digest = target.digest();
  const data = snapshotBytes(target);
  async function* failing(): AsyncIterable<Uint8Array> {
    yield data.subarray(0, 100);
    throw new Error('connection reset');
  }
  await assert.rejects(target.restoreChunks(failing(), meta(1)), (error: unknown) => {
    assert.ok(error instanceof KvSnapshotError);
    assert.match(error.message, /connection reset/);
    assert.equal((error.cause as Error).message, 'connection reset');
    return true;
  });
  assert.equal(target.digest(), digest);
});
