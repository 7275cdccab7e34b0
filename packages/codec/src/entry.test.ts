import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, isMessage, toBinary } from '@bufbuild/protobuf';
import type { Entry } from '@tsraft/core';
import { EntrySchema, EntryType } from '@tsraft/proto';
import { fromProtoEntry, toProtoEntry } from './entry.js';

describe('entry conversion', () => {
  it('builds exactly what create(EntrySchema) builds', () => {
    const data = new Uint8Array([1, 2, 3]);
    const entry: Entry = { term: 4, index: 9, type: 'config', data };
    const built = toProtoEntry(entry);
    const created = create(EntrySchema, { term: 4n, index: 9n, type: EntryType.CONFIG, data });
    assert.ok(isMessage(built, EntrySchema));
    assert.deepEqual(built, created);
    assert.deepEqual(Object.keys(built), Object.keys(created));
    assert.equal(Object.getPrototypeOf(built), Object.getPrototypeOf(created));
    assert.deepEqual(toBinary(EntrySchema, built), toBinary(EntrySchema, created));
  });

  it('shares the payload instead of copying it, both ways', () => {
    const data = new Uint8Array(16);
    const wire = toProtoEntry({ term: 1, index: 1, type: 'normal', data });
    assert.equal(wire.data, data);
    assert.equal(fromProtoEntry(wire).data, data);
  });

  it('round-trips each entry type', () => {
    for (const type of ['normal', 'noop', 'config'] as const) {
      const entry: Entry = { term: 2, index: 3, type, data: new Uint8Array(0) };
      assert.deepEqual(fromProtoEntry(toProtoEntry(entry)), entry);
    }
  });
});
