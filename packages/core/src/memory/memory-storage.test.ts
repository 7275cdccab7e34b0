import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Entry } from '../entry.js';
import type { RaftError } from '../errors.js';
import type { StorageUpdate } from '../node/log-storage.js';
import { MemoryStorage } from './memory-storage.js';

const conf = { voters: ['a', 'b', 'c'], learners: [] };
const entry = (index: number, term: number): Entry => ({
  index,
  term,
  type: 'normal',
  data: new Uint8Array([index]),
});
const update = (partial: Partial<StorageUpdate>): StorageUpdate => ({
  hardState: null,
  entries: [],
  snapshot: null,
  sync: true,
  ...partial,
});
const code = (expected: string) => (e: unknown) => (e as RaftError).code === expected;

test('a new storage is empty and holds the configured membership', () => {
  const storage = new MemoryStorage({ conf });
  assert.equal(storage.firstIndex(), 1);
  assert.equal(storage.lastIndex(), 0);
  assert.equal(storage.term(0), 0);
  assert.deepEqual(storage.initialState(), {
    hardState: { term: 0, vote: null, commit: 0 },
    confState: conf,
  });
});

test('save appends entries and the hard state, visible at once', async () => {
  const storage = new MemoryStorage({ conf });
  await storage.save(
    update({ entries: [1, 2, 3].map((i) => entry(i, 1)), hardState: { term: 1, vote: 'a', commit: 2 } }),
  );
  assert.equal(storage.lastIndex(), 3);
  assert.deepEqual(
    storage.entries(1, 4).map((e) => e.index),
    [1, 2, 3],
  );
  assert.equal(storage.term(3), 1);
  assert.deepEqual(storage.initialState().hardState, { term: 1, vote: 'a', commit: 2 });
});

test('entries() honours maxBytes but always returns at least one entry', async () => {
  const storage = new MemoryStorage({ conf });
  await storage.save(update({ entries: [1, 2, 3].map((i) => entry(i, 1)) }));
  assert.equal(storage.entries(1, 4, 0).length, 1);
  assert.equal(storage.entries(1, 4, 2).length, 2);
});

test('an append replaces a conflicting suffix', async () => {
  const storage = new MemoryStorage({ conf });
  await storage.save(update({ entries: [1, 2, 3, 4].map((i) => entry(i, 1)) }));
  await storage.save(update({ entries: [entry(3, 2)] }));
  assert.equal(storage.lastIndex(), 3);
  assert.equal(storage.term(3), 2);
  assert.equal(storage.term(2), 1);
  assert.throws(() => storage.term(4), code('UNAVAILABLE'));
  assert.throws(() => storage.entries(1, 5), code('INVALID_ARGUMENT'));
});

test('an append that leaves a gap is refused', async () => {
  const storage = new MemoryStorage({ conf });
  await assert.rejects(storage.save(update({ entries: [entry(3, 1)] })), code('INVALID_ARGUMENT'));
});

test('installing a snapshot replaces the log it covers; a matching suffix is kept', async () => {
  const storage = new MemoryStorage({ conf });
  await storage.save(update({ entries: [1, 2, 3, 4, 5].map((i) => entry(i, 1)) }));
  const snap = { meta: { index: 3, term: 1, conf }, data: new Uint8Array([9]) };
  await storage.save(update({ snapshot: snap }));
  assert.equal(storage.firstIndex(), 4);
  assert.equal(storage.lastIndex(), 5, 'entries after a matching snapshot are kept');
  assert.equal(storage.snapshot(), snap);
  assert.equal(storage.term(3), 1);

  const other = { meta: { index: 8, term: 3, conf }, data: new Uint8Array([7]) };
  await storage.save(update({ snapshot: other }));
  assert.equal(storage.firstIndex(), 9);
  assert.equal(storage.lastIndex(), 8, 'a snapshot past the log discards it');
  assert.equal(storage.term(8), 3);
});

test('saveSnapshot compacts the log; compacted reads fail with COMPACTED', async () => {
  const storage = new MemoryStorage({ conf });
  await storage.save(update({ entries: [1, 2, 3, 4, 5].map((i) => entry(i, 1)) }));
  await storage.saveSnapshot({ meta: { index: 3, term: 1, conf }, data: new Uint8Array() });
  assert.equal(storage.firstIndex(), 4);
  assert.equal(storage.lastIndex(), 5);
  assert.throws(() => storage.entries(2, 4), code('COMPACTED'));
  assert.throws(() => storage.term(2), code('COMPACTED'));
  assert.equal(storage.term(3), 1);
  assert.deepEqual(
    storage.entries(4, 6).map((e) => e.index),
    [4, 5],
  );
  await storage.compact(3);
  await assert.rejects(storage.compact(4), code('INVALID_ARGUMENT'));
  await assert.rejects(
    storage.saveSnapshot({ meta: { index: 9, term: 1, conf }, data: new Uint8Array() }),
    code('INVALID_ARGUMENT'),
  );
  // An older snapshot is ignored.
  await storage.saveSnapshot({ meta: { index: 2, term: 1, conf }, data: new Uint8Array() });
  assert.equal(storage.firstIndex(), 4);
});

test('a closed storage refuses writes with STOPPED', async () => {
  const storage = new MemoryStorage({ conf });
  await storage.close();
  await assert.rejects(storage.save(update({ entries: [entry(1, 1)] })), code('STOPPED'));
});
