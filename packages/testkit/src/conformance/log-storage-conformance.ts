import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type ConfState,
  type Entry,
  type LogStorage,
  type RaftError,
  type Snapshot,
  SnapshotData,
  type SnapshotMeta,
  type StorageUpdate,
} from '@tsraft/core';

/** A storage made for one conformance test, and how to reopen it from what it made durable. */
export interface LogStorageUnderTest {
  readonly storage: LogStorage;
  /**
   * Closes nothing; opens the same data again (as a restarted process would). Omit for storages that
   * keep nothing across restarts: the durability tests are then skipped.
   */
  readonly reopen?: () => Promise<LogStorage>;
  /** Releases everything the test made (files, directories). Storages are closed first. */
  dispose(): Promise<void>;
}

/** Makes a new, empty storage for a cluster with membership `conf`. */
export type LogStorageFactory = (conf: ConfState) => Promise<LogStorageUnderTest>;

const conf: ConfState = { voters: ['a', 'b', 'c'], learners: [] };
const entry = (index: number, term: number, fill = index): Entry => ({
  index,
  term,
  type: 'normal',
  data: new Uint8Array([fill & 0xff, 7, 7]),
});
const update = (partial: Partial<StorageUpdate>): StorageUpdate => ({
  hardState: null,
  entries: [],
  snapshot: null,
  sync: true,
  ...partial,
});
const code = (expected: string) => (e: unknown) => (e as RaftError).code === expected;
const range = (lo: number, hi: number): number[] => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
const meta = (index: number, term: number): SnapshotMeta => ({ index, term, conf });
const snap = (index: number, term: number, bytes: number[] = [9]): Snapshot => ({
  meta: meta(index, term),
  data: SnapshotData.of(new Uint8Array(bytes)),
});
/** Asserts that `actual` is `expected`: the same meta and the same bytes (however they are held). */
const sameSnapshot = (actual: Snapshot, expected: Snapshot): void => {
  assert.deepEqual(actual.meta, expected.meta);
  assert.equal(actual.data.byteLength, expected.data.byteLength);
  assert.deepEqual(actual.data.toBytes(), expected.data.toBytes());
};
/** Chunk `i` of a many-chunk snapshot: distinct bytes in every chunk. */
const bigChunk = (i: number, size: number): Uint8Array => {
  const chunk = new Uint8Array(size);
  for (let k = 0; k < size; k++) chunk[k] = (i * 31 + k * 7) & 0xff;
  return chunk;
};
const BIG_CHUNKS = 40;
const BIG_CHUNK_BYTES = 64 * 1024;
async function* bigSource(): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < BIG_CHUNKS; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    yield bigChunk(i, BIG_CHUNK_BYTES);
  }
}
/** Checks, chunk by chunk (never joining them), that `data` holds the bytes {@link bigSource} yields. */
const assertBigData = (data: SnapshotData): void => {
  assert.equal(data.byteLength, BIG_CHUNKS * BIG_CHUNK_BYTES);
  let at = 0;
  for (const chunk of data.chunks()) {
    for (let k = 0; k < chunk.byteLength; k += 997) {
      const i = Math.floor((at + k) / BIG_CHUNK_BYTES);
      const expected = (i * 31 + ((at + k) % BIG_CHUNK_BYTES) * 7) & 0xff;
      if (chunk[k] !== expected) assert.fail(`byte ${at + k} is ${chunk[k]}, expected ${expected}`);
    }
    at += chunk.byteLength;
  }
  assert.equal(at, BIG_CHUNKS * BIG_CHUNK_BYTES);
};

/**
 * Registers the `LogStorage` contract's tests (node:test) for one implementation: reads, appends that
 * replace a conflicting suffix, snapshots and compaction, concurrent saves, closing, and (when the
 * factory can reopen) that everything a resolved `save` wrote survives a restart.
 *
 * @example
 * ```ts
 * describeLogStorageConformance('MemoryStorage', async (conf) => {
 *   const storage = new MemoryStorage({ conf });
 *   return { storage, dispose: async () => {} };
 * });
 * ```
 */
export function describeLogStorageConformance(name: string, factory: LogStorageFactory): void {
  /** Runs `body` on a fresh storage and always disposes of it. */
  const withStorage = async (body: (under: LogStorageUnderTest) => Promise<void>): Promise<void> => {
    const under = await factory(conf);
    try {
      await body(under);
    } finally {
      await under.storage.close().catch(() => {});
      await under.dispose();
    }
  };
  /** Like withStorage, skipping storages that cannot reopen. */
  const durable = (
    title: string,
    body: (under: LogStorageUnderTest, reopen: () => Promise<LogStorage>) => Promise<void>,
  ) =>
    test(title, async (t) => {
      await withStorage(async (under) => {
        if (under.reopen === undefined) {
          t.skip('the storage keeps nothing across restarts');
          return;
        }
        await body(under, under.reopen);
      });
    });

  describe(`LogStorage conformance: ${name}`, () => {
    test('a new storage is empty and holds the configured membership', () =>
      withStorage(async ({ storage }) => {
        assert.equal(storage.firstIndex(), 1);
        assert.equal(storage.lastIndex(), 0);
        assert.equal(storage.term(0), 0);
        assert.deepEqual(storage.initialState(), {
          hardState: { term: 0, vote: null, commit: 0 },
          confState: conf,
        });
        assert.equal(storage.snapshot().meta.index, 0);
      }));

    test('save appends entries and the hard state, visible once it resolves', () =>
      withStorage(async ({ storage }) => {
        await storage.save(
          update({
            entries: range(1, 3).map((i) => entry(i, 1)),
            hardState: { term: 1, vote: 'a', commit: 2 },
          }),
        );
        assert.equal(storage.lastIndex(), 3);
        assert.deepEqual(
          storage.entries(1, 4),
          range(1, 3).map((i) => entry(i, 1)),
        );
        assert.equal(storage.term(3), 1);
        assert.deepEqual(storage.initialState().hardState, { term: 1, vote: 'a', commit: 2 });
      }));

    test('entries() honours maxBytes but always returns at least one entry', () =>
      withStorage(async ({ storage }) => {
        await storage.save(update({ entries: range(1, 3).map((i) => entry(i, 1)) }));
        assert.equal(storage.entries(1, 4, 0).length, 1);
        assert.equal(storage.entries(1, 4, 6).length, 2);
      }));

    test('an append replaces a conflicting suffix', () =>
      withStorage(async ({ storage }) => {
        await storage.save(update({ entries: range(1, 4).map((i) => entry(i, 1)) }));
        await storage.save(update({ entries: [entry(3, 2, 33)] }));
        assert.equal(storage.lastIndex(), 3);
        assert.equal(storage.term(3), 2);
        assert.equal(storage.term(2), 1);
        assert.deepEqual(storage.entries(3, 4), [entry(3, 2, 33)]);
        assert.throws(() => storage.term(4), code('UNAVAILABLE'));
        assert.throws(() => storage.entries(1, 5), code('INVALID_ARGUMENT'));
      }));

    test('an append that leaves a gap is refused and changes nothing', () =>
      withStorage(async ({ storage }) => {
        await assert.rejects(storage.save(update({ entries: [entry(3, 1)] })), code('INVALID_ARGUMENT'));
        assert.equal(storage.lastIndex(), 0);
        await storage.save(update({ entries: [entry(1, 1)] }));
        assert.equal(storage.lastIndex(), 1);
      }));

    test('installing a snapshot replaces the log it covers; a matching suffix is kept', () =>
      withStorage(async ({ storage }) => {
        await storage.save(update({ entries: range(1, 5).map((i) => entry(i, 1)) }));
        const first = snap(3, 1);
        await storage.save(update({ snapshot: first }));
        assert.equal(storage.firstIndex(), 4);
        assert.equal(storage.lastIndex(), 5, 'entries after a matching snapshot are kept');
        sameSnapshot(storage.snapshot(), first);
        assert.equal(storage.term(3), 1);
        const other = snap(8, 3, [7]);
        await storage.save(update({ snapshot: other }));
        assert.equal(storage.firstIndex(), 9);
        assert.equal(storage.lastIndex(), 8, 'a snapshot past the log discards it');
        assert.equal(storage.term(8), 3);
        await storage.save(update({ entries: [entry(9, 3)] }));
        assert.deepEqual(storage.entries(9, 10), [entry(9, 3)]);
      }));

    test('saveSnapshot compacts the log; compacted reads fail with COMPACTED', () =>
      withStorage(async ({ storage }) => {
        await storage.save(update({ entries: range(1, 5).map((i) => entry(i, 1)) }));
        await storage.saveSnapshot(meta(3, 1), new Uint8Array(0));
        assert.equal(storage.firstIndex(), 4);
        assert.equal(storage.lastIndex(), 5);
        assert.throws(() => storage.entries(2, 4), code('COMPACTED'));
        assert.throws(() => storage.term(2), code('COMPACTED'));
        assert.equal(storage.term(3), 1);
        assert.deepEqual(storage.entries(4, 6), [entry(4, 1), entry(5, 1)]);
        await storage.compact(3);
        await assert.rejects(storage.compact(4), code('INVALID_ARGUMENT'));
        await assert.rejects(storage.saveSnapshot(meta(9, 1), new Uint8Array(0)), code('INVALID_ARGUMENT'));
        await storage.saveSnapshot(meta(2, 1), new Uint8Array(0));
        assert.equal(storage.firstIndex(), 4, 'an older snapshot is ignored');
      }));

    test('saveSnapshot stores a buffer, an array of chunks, a generator and an async generator alike', () =>
      withStorage(async ({ storage }) => {
        await storage.save(update({ entries: range(1, 8).map((i) => entry(i, 1)) }));
        await storage.saveSnapshot(meta(2, 1), new Uint8Array([1, 2, 3]));
        sameSnapshot(storage.snapshot(), snap(2, 1, [1, 2, 3]));
        await storage.saveSnapshot(meta(3, 1), [
          new Uint8Array([4]),
          new Uint8Array(0),
          new Uint8Array([5, 6]),
        ]);
        sameSnapshot(storage.snapshot(), snap(3, 1, [4, 5, 6]));
        await storage.saveSnapshot(
          meta(4, 1),
          (function* () {
            yield new Uint8Array([7, 8]);
            yield new Uint8Array([9]);
          })(),
        );
        sameSnapshot(storage.snapshot(), snap(4, 1, [7, 8, 9]));
        await storage.saveSnapshot(
          meta(5, 1),
          (async function* () {
            yield new Uint8Array([10]);
            yield new Uint8Array([11, 12]);
          })(),
        );
        sameSnapshot(storage.snapshot(), snap(5, 1, [10, 11, 12]));
        assert.equal(storage.firstIndex(), 6);
        // The data can be read again and again.
        sameSnapshot(storage.snapshot(), snap(5, 1, [10, 11, 12]));
      }));

    test('a snapshot streamed from an async generator of many chunks reads back the same bytes', () =>
      withStorage(async ({ storage }) => {
        await storage.save(update({ entries: range(1, 5).map((i) => entry(i, 1)) }));
        await storage.saveSnapshot(meta(4, 1), bigSource());
        assert.deepEqual(storage.snapshot().meta, meta(4, 1));
        assertBigData(storage.snapshot().data);
        assertBigData(storage.snapshot().data);
        assert.deepEqual(storage.entries(5, 6), [entry(5, 1)]);
      }));

    test("a leader's snapshot held in many chunks is installed with the same bytes", () =>
      withStorage(async ({ storage }) => {
        const chunks = Array.from({ length: BIG_CHUNKS }, (_, i) => bigChunk(i, BIG_CHUNK_BYTES));
        await storage.save(update({ snapshot: { meta: meta(7, 2), data: SnapshotData.fromChunks(chunks) } }));
        assert.deepEqual(storage.snapshot().meta, meta(7, 2));
        assertBigData(storage.snapshot().data);
        assert.equal(storage.firstIndex(), 8);
      }));

    test('a snapshot source that fails rejects saveSnapshot and stores nothing', () =>
      withStorage(async ({ storage }) => {
        await storage.save(update({ entries: range(1, 5).map((i) => entry(i, 1)) }));
        await storage.saveSnapshot(meta(2, 1), new Uint8Array([1]));
        const broken = new Error('the state machine broke');
        await assert.rejects(
          storage.saveSnapshot(
            meta(4, 1),
            (async function* () {
              yield new Uint8Array([1, 2]);
              throw broken;
            })(),
          ),
          (e: unknown) => e === broken,
        );
        sameSnapshot(storage.snapshot(), snap(2, 1, [1]));
        assert.equal(storage.firstIndex(), 3);
        assert.equal(storage.lastIndex(), 5);
      }));

    test('concurrent saves all resolve, in order, and every one is visible', () =>
      withStorage(async ({ storage }) => {
        const saves = range(1, 50).map((i) =>
          storage.save(update({ entries: [entry(i, 1)], hardState: { term: 1, vote: 'b', commit: i - 1 } })),
        );
        const order: number[] = [];
        await Promise.all(saves.map((p, i) => p.then(() => order.push(i))));
        assert.deepEqual(order, range(0, 49));
        assert.equal(storage.lastIndex(), 50);
        assert.deepEqual(
          storage.entries(1, 51),
          range(1, 50).map((i) => entry(i, 1)),
        );
        assert.deepEqual(storage.initialState().hardState, { term: 1, vote: 'b', commit: 49 });
      }));

    test('a closed storage refuses writes with STOPPED', () =>
      withStorage(async ({ storage }) => {
        await storage.close();
        await assert.rejects(storage.save(update({ entries: [entry(1, 1)] })), code('STOPPED'));
      }));

    durable(
      'what a resolved save wrote survives a restart: entries, hard state, truncation',
      async ({ storage }, reopen) => {
        await storage.save(
          update({
            entries: range(1, 6).map((i) => entry(i, 1)),
            hardState: { term: 1, vote: 'a', commit: 3 },
          }),
        );
        await storage.save(
          update({
            entries: [entry(5, 2, 55), entry(6, 2, 66)],
            hardState: { term: 2, vote: 'c', commit: 4 },
          }),
        );
        await storage.save(update({ hardState: { term: 2, vote: 'c', commit: 5 }, sync: false }));
        // An empty noop payload, made the way a structured clone makes it (over a zero-length ArrayBuffer).
        const noop: Entry = { index: 7, term: 2, type: 'noop', data: new Uint8Array(new ArrayBuffer(0)) };
        await storage.save(update({ entries: [noop, entry(8, 2)] }));
        await storage.save(
          update({ entries: [{ ...noop, index: 9, type: 'config', data: new Uint8Array([1, 2]) }] }),
        );
        await storage.close();
        const again = await reopen();
        try {
          assert.equal(again.firstIndex(), 1);
          assert.equal(again.lastIndex(), 9);
          assert.deepEqual(again.entries(1, 10), [
            ...range(1, 4).map((i) => entry(i, 1)),
            entry(5, 2, 55),
            entry(6, 2, 66),
            { index: 7, term: 2, type: 'noop', data: new Uint8Array(0) },
            entry(8, 2),
            { index: 9, term: 2, type: 'config', data: new Uint8Array([1, 2]) },
          ]);
          assert.deepEqual(again.initialState(), {
            hardState: { term: 2, vote: 'c', commit: 5 },
            confState: conf,
          });
        } finally {
          await again.close();
        }
      },
    );

    durable('snapshots survive a restart, with the log after them', async ({ storage }, reopen) => {
      await storage.save(update({ entries: range(1, 10).map((i) => entry(i, 1)) }));
      await storage.saveSnapshot(meta(6, 1), new Uint8Array([1, 2, 3]));
      await storage.close();
      let again = await reopen();
      try {
        sameSnapshot(again.snapshot(), snap(6, 1, [1, 2, 3]));
        assert.equal(again.firstIndex(), 7);
        assert.deepEqual(
          again.entries(7, 11),
          range(7, 10).map((i) => entry(i, 1)),
        );
        // A leader's snapshot past the log replaces it, and new entries follow it.
        await again.save(
          update({
            snapshot: snap(20, 4, [4]),
            entries: [entry(21, 4)],
            hardState: { term: 4, vote: null, commit: 20 },
          }),
        );
        await again.close();
        again = await reopen();
        sameSnapshot(again.snapshot(), snap(20, 4, [4]));
        assert.equal(again.firstIndex(), 21);
        assert.equal(again.lastIndex(), 21);
        assert.equal(again.term(20), 4);
        assert.deepEqual(again.entries(21, 22), [entry(21, 4)]);
        assert.deepEqual(again.initialState().hardState, { term: 4, vote: null, commit: 20 });
      } finally {
        await again.close();
      }
    });

    durable(
      'a snapshot of many chunks survives a restart with the same bytes',
      async ({ storage }, reopen) => {
        await storage.save(update({ entries: range(1, 5).map((i) => entry(i, 1)) }));
        await storage.saveSnapshot(meta(3, 1), bigSource());
        await storage.close();
        const again = await reopen();
        try {
          assert.deepEqual(again.snapshot().meta, meta(3, 1));
          assertBigData(again.snapshot().data);
          assert.equal(again.firstIndex(), 4);
          assert.deepEqual(again.entries(4, 6), [entry(4, 1), entry(5, 1)]);
        } finally {
          await again.close();
        }
      },
    );
  });
}
