import type { Entry, EntryType } from '@tsraft/core';
import { EntrySchema, type Entry as ProtoEntry, EntryType as ProtoEntryType } from '@tsraft/proto';
import { invalidArgument } from './invalid-argument.js';
import { fromUint64, toUint64 } from './uint64.js';

const ENTRY_TYPE_NAME = EntrySchema.typeName as ProtoEntry['$typeName'];

/**
 * Converts a core log entry to its wire form. `data` is shared, not copied.
 *
 * Built as a complete object literal rather than with `create(EntrySchema, ...)`: for this proto3 message
 * the two are identical (entry.test.ts pins that), and the literal is about 15 times cheaper, which is
 * most of the encoding overhead of the plain-types design (docs/wire-contract.md). The generated type
 * makes the compiler reject a literal that misses a field.
 *
 * @throws RaftError `INVALID_ARGUMENT` when `term` or `index` is not a non-negative safe integer.
 */
export function toProtoEntry(entry: Entry): ProtoEntry {
  return {
    $typeName: ENTRY_TYPE_NAME,
    term: toUint64(entry.term, 'entry.term'),
    index: toUint64(entry.index, 'entry.index'),
    type: toProtoEntryType(entry.type),
    data: entry.data,
  };
}

/**
 * Converts a decoded wire entry to core's form. `data` is shared, not copied.
 *
 * @throws RaftError `INVALID_ARGUMENT` when `term` or `index` exceeds `Number.MAX_SAFE_INTEGER` or the type
 *   is unspecified or unknown.
 */
export function fromProtoEntry(entry: ProtoEntry): Entry {
  return {
    term: fromUint64(entry.term, 'entry.term'),
    index: fromUint64(entry.index, 'entry.index'),
    type: fromProtoEntryType(entry.type),
    data: entry.data,
  };
}

function toProtoEntryType(type: EntryType): ProtoEntryType {
  switch (type) {
    case 'normal':
      return ProtoEntryType.NORMAL;
    case 'noop':
      return ProtoEntryType.NOOP;
    case 'config':
      return ProtoEntryType.CONFIG;
    default:
      throw invalidArgument(`unknown entry type ${String(type satisfies never)}`);
  }
}

function fromProtoEntryType(type: ProtoEntryType): EntryType {
  switch (type) {
    case ProtoEntryType.NORMAL:
      return 'normal';
    case ProtoEntryType.NOOP:
      return 'noop';
    case ProtoEntryType.CONFIG:
      return 'config';
    default:
      throw invalidArgument(`entry.type ${type} is unspecified or unknown`);
  }
}
