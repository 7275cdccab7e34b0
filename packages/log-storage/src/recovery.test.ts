import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { type Entry, type RaftError, SnapshotData, type StorageUpdate } from '@tsraft/core';
import { type DiskLogStorageOptions, openLogStorage } from './disk-log-storage.js';
import { type FileSystem, nodeFileSystem } from './file-system.js';
import { LogStorageError } from './log-storage-error.js';
import { faultyFileSystem, tempDir } from './test-support/temp-dir.js';

const conf = { voters: ['a', 'b', 'c'], learners: [] };
const entry = (index: number, term = 1): Entry => ({
  index,
  term,
  type: 'normal',
  data: new TextEncoder().encode(`payload-${index}`),
});
const update = (partial: Partial<StorageUpdate>): StorageUpdate => ({
  hardState: null,
  entries: [],
  snapshot: null,
  sync: true,
  ...partial,
});
const range = (lo: number, hi: number): number[] => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
const segmentFiles = (dir: string): string[] =>
  readdirSync(dir)
    .filter((n) => n.startsWith('wal-'))
    .sort()
    .map((n) => path.join(dir, n));
const flipBit = (file: string, offset: number): void => {
  const bytes = readFileSync(file);
  bytes[offset]! ^= 0x10;
  writeFileSync(file, bytes);
};

/** Runs `body` in a fresh directory, removed afterwards. */
async function inDir(
  body: (
    dir: string,
    open: (extra?: Partial<DiskLogStorageOptions>) => ReturnType<typeof openLogStorage>,
  ) => Promise<void>,
): Promise<void> {
  const { dir, remove } = tempDir();
  try {
    await body(dir, (extra = {}) => openLogStorage({ dir, nodeId: 'a', clusterId: 'c1', conf, ...extra }));
  } finally {
    remove();
  }
}

/** Asserts that `promise` rejects with a LogStorageError of `code` and returns it. */
async function rejectsWith(promise: Promise<unknown>, code: string): Promise<LogStorageError> {
  const error = await promise.then(
    () => assert.fail(`expected ${code}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof LogStorageError, `expected a LogStorageError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  return error;
}

describe('recovery', () => {
  test('a torn last record of every length is cut off; everything before it is kept', () =>
    inDir(async (dir, open) => {
      const storage = await open();
      await storage.save(
        update({ entries: range(1, 4).map((i) => entry(i)), hardState: { term: 1, vote: 'a', commit: 2 } }),
      );
      const [file] = segmentFiles(dir);
      const before = statSync(file!).size;
      await storage.save(update({ entries: [entry(5)] }));
      await storage.close();
      const full = readFileSync(file!);
      const recordBytes = full.byteLength - before;
      assert.ok(recordBytes > 20);
      for (let kept = 0; kept < recordBytes; kept++) {
        writeFileSync(file!, full.subarray(0, before + kept));
        const again = await open();
        assert.equal(again.lastIndex(), 4, `with ${kept} bytes of the last record`);
        assert.deepEqual(
          again.entries(1, 5),
          range(1, 4).map((i) => entry(i)),
        );
        assert.deepEqual(again.initialState().hardState, { term: 1, vote: 'a', commit: 2 });
        await again.close();
        assert.equal(statSync(file!).size, before, 'the torn bytes are cut off the file');
        // Appending after recovery continues the log.
      }
      writeFileSync(file!, full);
      flipBit(file!, full.byteLength - 2);
      const again = await open();
      assert.equal(again.lastIndex(), 4, 'a damaged last record is a torn write');
      await again.save(update({ entries: [entry(5, 2)] }));
      await again.close();
      const third = await open();
      assert.deepEqual(third.entries(5, 6), [entry(5, 2)]);
      await third.close();
    }));

  test('a flipped bit in a middle record is corruption naming the file and offset', () =>
    inDir(async (dir, open) => {
      const storage = await open();
      for (const i of range(1, 5)) await storage.save(update({ entries: [entry(i)] }));
      await storage.close();
      const [file] = segmentFiles(dir);
      const size = statSync(file!).size;
      flipBit(file!, Math.floor(size / 2));
      const error = await rejectsWith(open(), 'CORRUPT');
      assert.equal(error.file, file);
      assert.ok(error.offset !== null && error.offset > 0 && error.offset < size);
      assert.match(error.message, /checksum mismatch/);
      assert.match(error.message, /wal-0000000000000001\.log at offset \d+/);
      // The lock was released: a repaired directory can be opened.
    }));

  test('a flipped bit in the hard state record is corruption, never "term 0, no vote"', () =>
    inDir(async (dir, open) => {
      const storage = await open();
      await storage.save(update({ hardState: { term: 7, vote: 'b', commit: 0 } }));
      await storage.save(update({ entries: [entry(1, 7)] }));
      await storage.close();
      const [file] = segmentFiles(dir);
      // Records: the segment's initial hard state, the saved hard state (second), the entry.
      const first = readFileSync(file!).readUInt32LE(0) + 8;
      flipBit(file!, first + 12);
      const error = await rejectsWith(open(), 'CORRUPT');
      assert.equal(error.offset, first);
    }));

  test('a corrupt or incomplete snapshot is detected and never used', () =>
    inDir(async (dir, open) => {
      const storage = await open();
      await storage.save(update({ entries: range(1, 10).map((i) => entry(i)) }));
      await storage.saveSnapshot({ index: 6, term: 1, conf }, new Uint8Array(200_000).fill(3));
      await storage.close();
      const snapFile = path.join(dir, 'snapshot-00000000000000000006.snap');
      // A leftover temporary file (a crash mid-write) is ignored and removed.
      writeFileSync(`${snapFile}.tmp`, 'partial');
      const ok = await open();
      assert.equal(ok.snapshot().data.byteLength, 200_000);
      await ok.close();
      assert.ok(!readdirSync(dir).some((n) => n.endsWith('.tmp')));
      flipBit(snapFile, 100_000);
      const error = await rejectsWith(open(), 'CORRUPT');
      assert.equal(error.file, snapFile);
      const bytes = readFileSync(snapFile);
      writeFileSync(snapFile, bytes.subarray(0, bytes.byteLength - 5));
      await rejectsWith(open(), 'CORRUPT');
    }));

  test('a missing segment is corruption', () =>
    inDir(async (dir, open) => {
      const storage = await open({ segmentBytes: 100 });
      for (const i of range(1, 20))
        await storage.save(update({ entries: [entry(i)], hardState: { term: 1, vote: 'a', commit: i } }));
      await storage.close();
      const files = segmentFiles(dir);
      assert.ok(files.length >= 4, `${files.length} segments`);
      const middle = files[2]!;
      const bytes = readFileSync(middle);
      unlinkSync(middle);
      const error = await rejectsWith(open({ segmentBytes: 100 }), 'CORRUPT');
      assert.match(error.message, /is missing/);
      writeFileSync(middle, bytes);
      unlinkSync(files[0]!);
      await rejectsWith(open({ segmentBytes: 100 }), 'CORRUPT');
    }));

  test('compaction deletes whole segments covered by the snapshot, and the hard state survives it', () =>
    inDir(async (dir, open) => {
      const storage = await open({ segmentBytes: 100 });
      for (const i of range(1, 20))
        await storage.save(
          update({ entries: [entry(i, 2)], hardState: i === 1 ? { term: 2, vote: 'c', commit: 0 } : null }),
        );
      const before = segmentFiles(dir).length;
      await storage.saveSnapshot({ index: 18, term: 2, conf }, new Uint8Array([1]));
      await storage.compact(18);
      const after = segmentFiles(dir).length;
      assert.ok(after < before && after <= 3, `${before} -> ${after} segments`);
      await storage.close();
      const again = await open({ segmentBytes: 100 });
      assert.equal(again.firstIndex(), 19);
      assert.deepEqual(again.entries(19, 21), [entry(19, 2), entry(20, 2)]);
      assert.deepEqual(again.initialState().hardState, { term: 2, vote: 'c', commit: 0 });
      await again.close();
    }));

  test("a second open of a directory in use fails with LOCKED; another node's data with WRONG_NODE", () =>
    inDir(async (_dir, open) => {
      const storage = await open();
      await rejectsWith(open(), 'LOCKED');
      await storage.close();
      await rejectsWith(open({ nodeId: 'b' }), 'WRONG_NODE');
      await rejectsWith(open({ clusterId: 'other' }), 'WRONG_NODE');
      const again = await open();
      await again.close();
    }));

  test('a setup interrupted before the identity file is written is finished by the next open', () =>
    inDir(async (dir, open) => {
      const storage = await open();
      await storage.close();
      unlinkSync(path.join(dir, 'identity.json'));
      const again = await open();
      assert.equal(again.lastIndex(), 0);
      assert.deepEqual(again.initialState().confState, conf);
      await again.save(update({ entries: [entry(1)] }));
      await again.close();
      await rejectsWith(open({ nodeId: 'b' }), 'WRONG_NODE');
    }));
});

describe('failure policy', () => {
  const failedWith = (code: string) => (e: unknown) =>
    (e as RaftError).code === 'STORAGE_FAILED' && ((e as RaftError).cause as LogStorageError).code === code;

  test('a failed fsync refuses the write and every later one; nothing acknowledged is lost', () =>
    inDir(async (_dir, open) => {
      const { fs, faults } = faultyFileSystem();
      const storage = await open({ fs });
      await storage.save(
        update({ entries: range(1, 3).map((i) => entry(i)), hardState: { term: 1, vote: 'a', commit: 1 } }),
      );
      faults.failSync = true;
      await assert.rejects(storage.save(update({ entries: [entry(4)] })), failedWith('IO_FAILED'));
      faults.failSync = false;
      await assert.rejects(storage.save(update({ entries: [entry(4)] })), failedWith('IO_FAILED'));
      assert.equal(storage.lastIndex(), 3, 'the failed write is not visible');
      assert.equal(storage.failure()?.code, 'IO_FAILED');
      await storage.close();
      const again = await open();
      assert.deepEqual(
        again.entries(1, 4),
        range(1, 3).map((i) => entry(i)),
      );
      assert.equal(again.lastIndex(), 3);
      await again.close();
    }));

  test('a full disk gives NO_SPACE and leaves what was written intact', () =>
    inDir(async (_dir, open) => {
      const { fs, faults } = faultyFileSystem();
      const storage = await open({ fs });
      await storage.save(update({ entries: range(1, 3).map((i) => entry(i)) }));
      faults.noSpace = true;
      faults.partialBytes = 11;
      const error = await storage.save(update({ entries: [entry(4), entry(5)] })).then(
        () => assert.fail('expected a rejection'),
        (e: RaftError) => e,
      );
      assert.equal(error.code, 'STORAGE_FAILED');
      assert.match(error.message, /disk is full/);
      faults.noSpace = false;
      await assert.rejects(storage.save(update({ entries: [entry(4)] })), failedWith('NO_SPACE'));
      await storage.close();
      const again = await open();
      assert.equal(again.lastIndex(), 3);
      assert.deepEqual(
        again.entries(1, 4),
        range(1, 3).map((i) => entry(i)),
      );
      await again.close();
    }));
});

describe('group commit', () => {
  test('saves issued while a sync is in flight share the next one', () =>
    inDir(async (_dir, open) => {
      const storage = await open();
      const base = storage.syncCount;
      await Promise.all(range(1, 200).map((i) => storage.save(update({ entries: [entry(i)] }))));
      assert.ok(storage.syncCount - base <= 2, `${storage.syncCount - base} syncs for 200 saves`);
      assert.equal(storage.lastIndex(), 200);
      await storage.close();
    }));
});

describe('snapshots on disk', () => {
  const CHUNKS = 40;
  const CHUNK_BYTES = 64 * 1024;
  const chunkOf = (i: number): Uint8Array => new Uint8Array(CHUNK_BYTES).fill(i + 1);
  async function* source(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < CHUNKS; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      yield chunkOf(i);
    }
  }
  /** Checks `data` against {@link source}, chunk by chunk; returns the largest chunk it yielded. */
  const checkData = (data: SnapshotData): number => {
    assert.equal(data.byteLength, CHUNKS * CHUNK_BYTES);
    let at = 0;
    let largest = 0;
    for (const chunk of data.chunks()) {
      largest = Math.max(largest, chunk.byteLength);
      for (let k = 0; k < chunk.byteLength; k += 4099) {
        assert.equal(chunk[k], Math.floor((at + k) / CHUNK_BYTES) + 1, `byte ${at + k}`);
      }
      at += chunk.byteLength;
    }
    assert.equal(at, CHUNKS * CHUNK_BYTES);
    return largest;
  };
  /** The real file system, recording the largest single write and read. */
  const spyingFileSystem = (): { fs: FileSystem; largest: { write: number; read: number } } => {
    const largest = { write: 0, read: 0 };
    const fs: FileSystem = {
      ...nodeFileSystem,
      writev(fd, buffers, position) {
        largest.write = Math.max(largest.write, ...buffers.map((b) => b.byteLength));
        return nodeFileSystem.writev(fd, buffers, position);
      },
      read(fd, buffer, offset, length, position) {
        largest.read = Math.max(largest.read, length);
        return nodeFileSystem.read(fd, buffer, offset, length, position);
      },
      readSync(fd, buffer, offset, length, position) {
        largest.read = Math.max(largest.read, length);
        return nodeFileSystem.readSync(fd, buffer, offset, length, position);
      },
    };
    return { fs, largest };
  };
  const snapFile = (dir: string, index: number): string =>
    path.join(dir, `snapshot-${String(index).padStart(20, '0')}.snap`);

  test('a snapshot from an async generator of many chunks is stored and read back without being joined', () =>
    inDir(async (_dir, open) => {
      const { fs, largest } = spyingFileSystem();
      const storage = await open({ fs });
      await storage.save(update({ entries: range(1, 10).map((i) => entry(i)) }));
      await storage.saveSnapshot({ index: 6, term: 1, conf }, source());
      assert.ok(largest.write <= CHUNK_BYTES, `largest write: ${largest.write} bytes`);
      const { data } = storage.snapshot();
      assert.equal(data.inMemory, false, 'the stored snapshot is read from its file');
      assert.ok(checkData(data) <= CHUNK_BYTES);
      assert.ok(largest.read <= CHUNK_BYTES, `largest read: ${largest.read} bytes`);
      assert.equal(checkData(storage.snapshot().data), CHUNK_BYTES, 'it can be read again');
      await storage.close();

      largest.read = 0;
      const again = await open({ fs });
      assert.deepEqual(again.snapshot().meta, { index: 6, term: 1, conf });
      assert.equal(again.snapshot().data.inMemory, false, 'recovery leaves the snapshot on disk');
      assert.ok(largest.read <= CHUNK_BYTES, `recovery read at most one chunk at a time (${largest.read})`);
      checkData(again.snapshot().data);
      await again.close();
    }));

  test("a leader's snapshot is written from its chunks and then read from the file", () =>
    inDir(async (_dir, open) => {
      const storage = await open();
      const data = SnapshotData.fromChunks(Array.from({ length: CHUNKS }, (_, i) => chunkOf(i)));
      await storage.save(update({ snapshot: { meta: { index: 9, term: 3, conf }, data } }));
      assert.equal(storage.snapshot().data.inMemory, false);
      checkData(storage.snapshot().data);
      assert.equal(storage.firstIndex(), 10);
      await storage.close();
      const again = await open();
      checkData(again.snapshot().data);
      await again.close();
    }));

  test('a bit flipped in the snapshot file after open fails the read with CORRUPT before its last chunk', () =>
    inDir(async (dir, open) => {
      const storage = await open();
      await storage.save(update({ entries: range(1, 10).map((i) => entry(i)) }));
      await storage.saveSnapshot({ index: 6, term: 1, conf }, source());
      flipBit(snapFile(dir, 6), 1_000_000);
      const chunks: Uint8Array[] = [];
      assert.throws(
        () => {
          for (const chunk of storage.snapshot().data.chunks()) chunks.push(chunk);
        },
        (e: unknown) => e instanceof LogStorageError && e.code === 'CORRUPT' && e.file === snapFile(dir, 6),
      );
      assert.equal(chunks.length, CHUNKS - 1, 'the last chunk is never yielded');
      // A file replaced by other bytes of another length is refused too, never read as this snapshot.
      writeFileSync(snapFile(dir, 6), readFileSync(snapFile(dir, 6)).subarray(0, 5000));
      assert.throws(
        () => storage.snapshot().data.toBytes(),
        (e: unknown) => e instanceof LogStorageError && e.code === 'CORRUPT',
      );
      await storage.close();
    }));

  test('a pruned snapshot fails with SNAPSHOT_GONE when read; a read under way finishes', () =>
    inDir(async (dir, open) => {
      const storage = await open();
      await storage.save(update({ entries: range(1, 10).map((i) => entry(i)) }));
      await storage.saveSnapshot({ index: 4, term: 1, conf }, source());
      const old = storage.snapshot();
      const underway = old.data.chunks();
      const first = underway.next();
      assert.equal(first.done, false);
      await storage.saveSnapshot({ index: 6, term: 1, conf }, new Uint8Array([6]));
      assert.ok(readdirSync(dir).includes(path.basename(snapFile(dir, 4))), 'two snapshots are kept');
      await storage.saveSnapshot({ index: 8, term: 1, conf }, new Uint8Array([8]));
      assert.ok(!readdirSync(dir).includes(path.basename(snapFile(dir, 4))), 'the oldest is pruned');
      assert.throws(
        () => old.data.toBytes(),
        (e: unknown) => e instanceof LogStorageError && e.code === 'SNAPSHOT_GONE',
      );
      // The read that had the file open goes on with the right bytes.
      let count = 1;
      for (let step = underway.next(); !step.done; step = underway.next()) {
        assert.equal(step.value[0], count + 1);
        count++;
      }
      assert.equal(count, CHUNKS);
      assert.deepEqual(storage.snapshot().data.toBytes(), new Uint8Array([8]));
      await storage.close();
    }));

  test('a failing snapshot source leaves no file behind and the storage writable', () =>
    inDir(async (dir, open) => {
      const storage = await open();
      await storage.save(update({ entries: range(1, 10).map((i) => entry(i)) }));
      const broken = new Error('broken state machine');
      await assert.rejects(
        storage.saveSnapshot(
          { index: 6, term: 1, conf },
          (async function* () {
            yield* source();
            throw broken;
          })(),
        ),
        (e: unknown) => e === broken,
      );
      assert.ok(
        !readdirSync(dir).some((n) => n.includes('00006.snap')),
        'no snapshot file, final or temporary',
      );
      assert.equal(storage.failure(), null);
      assert.equal(storage.snapshot().meta.index, 0);
      await storage.save(update({ entries: [entry(11)] }));
      await storage.saveSnapshot({ index: 6, term: 1, conf }, new Uint8Array([1]));
      assert.equal(storage.firstIndex(), 7);
      await storage.close();
    }));
});
