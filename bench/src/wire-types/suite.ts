import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { decodeRaftMessage, encodeRaftMessage } from '@tsraft/codec';
import { EntrySchema, EntryType, type RaftMessage, RaftMessageSchema } from '@tsraft/proto';
import type { BenchSuite } from '../suite.js';
import { type AppendFixture, createAppendFixture } from './append-fixture.js';
import { createHotPathFixtures, hotPathBigint, hotPathNumber } from './hot-path.js';

/** Entries per AppendEntries and per hot-path batch. */
export const BATCH_ENTRIES = 64;
/** Payload bytes per entry in the wire cases. */
export const PAYLOAD_BYTES = 128;

/**
 * Builds the AppendEntries envelope from log entries that already are protobuf-es messages: the work a
 * core built on the generated types would do before `toBinary`.
 */
export function buildGeneratedAppend(fixture: AppendFixture): RaftMessage {
  const m = fixture.plain;
  return create(RaftMessageSchema, {
    clusterId: fixture.clusterId,
    from: m.from,
    to: m.to,
    term: BigInt(m.term),
    body: {
      case: 'appendEntriesRequest',
      value: {
        prevLogIndex: BigInt(m.prevLogIndex),
        prevLogTerm: BigInt(m.prevLogTerm),
        entries: fixture.protoEntries,
        commit: BigInt(m.commit),
      },
    },
  });
}

/**
 * Converts the plain message the idiomatic protobuf-es way, `create()` per entry and no validation: the
 * reference that shows what building entries as literals in `@tsraft/codec` saves.
 */
export function encodePlainWithCreate(fixture: AppendFixture): Uint8Array {
  const m = fixture.plain;
  const message = create(RaftMessageSchema, {
    clusterId: fixture.clusterId,
    from: m.from,
    to: m.to,
    term: BigInt(m.term),
    body: {
      case: 'appendEntriesRequest',
      value: {
        prevLogIndex: BigInt(m.prevLogIndex),
        prevLogTerm: BigInt(m.prevLogTerm),
        entries: m.entries.map((e) =>
          create(EntrySchema, {
            term: BigInt(e.term),
            index: BigInt(e.index),
            type: EntryType.NORMAL,
            data: e.data,
          }),
        ),
        commit: BigInt(m.commit),
      },
    },
  });
  return toBinary(RaftMessageSchema, message);
}

let sink: unknown;

/** Keeps a result alive so the optimiser cannot drop the work that produced it. */
function consume(value: unknown): void {
  sink = value;
}

/** Returns the last consumed value (lets tests and the runner prove the cases ran). */
export function lastConsumed(): unknown {
  return sink;
}

/**
 * The `wire-types` suite: should core use protobuf-es types (bigint terms and indexes) or plain types
 * converted once at the edge?
 */
export function createWireTypesSuite(): BenchSuite {
  const hot = createHotPathFixtures(BATCH_ENTRIES);
  const numberLog: number[] = [];
  const bigintLog: bigint[] = [];
  const append = createAppendFixture(BATCH_ENTRIES, PAYLOAD_BYTES);
  const prebuilt = buildGeneratedAppend(append);
  const bytes = toBinary(RaftMessageSchema, prebuilt);

  return {
    name: 'wire-types',
    description:
      `number vs bigint in core-style bookkeeping for ${BATCH_ENTRIES} entries; ` +
      `encode/decode of a ${BATCH_ENTRIES}-entry AppendEntries (${PAYLOAD_BYTES}-byte payloads, ${bytes.byteLength} bytes) ` +
      'with generated types vs plain types converted by @tsraft/codec',
    cases: {
      'hot-path/number': () => consume(hotPathNumber(hot.number, numberLog, 'sort')),
      'hot-path/bigint': () => consume(hotPathBigint(hot.bigint, bigintLog, 'sort')),
      'hot-path-insertion/number': () => consume(hotPathNumber(hot.number, numberLog, 'insertion')),
      'hot-path-insertion/bigint': () => consume(hotPathBigint(hot.bigint, bigintLog, 'insertion')),
      'encode/generated': () => consume(toBinary(RaftMessageSchema, buildGeneratedAppend(append))),
      'encode/plain+codec': () => consume(encodeRaftMessage(append.plain, append.clusterId)),
      'encode/plain+create': () => consume(encodePlainWithCreate(append)),
      'encode/toBinary-only': () => consume(toBinary(RaftMessageSchema, prebuilt)),
      'decode/generated': () => consume(fromBinary(RaftMessageSchema, bytes)),
      'decode/plain+codec': () => consume(decodeRaftMessage(bytes)),
    },
    comparisons: [
      { name: 'hot path: bigint / number', numerator: 'hot-path/bigint', denominator: 'hot-path/number' },
      {
        name: 'hot path, insertion sort: bigint / number',
        numerator: 'hot-path-insertion/bigint',
        denominator: 'hot-path-insertion/number',
      },
      {
        name: 'encode: plain+codec / generated',
        numerator: 'encode/plain+codec',
        denominator: 'encode/generated',
      },
      {
        name: 'decode: plain+codec / generated',
        numerator: 'decode/plain+codec',
        denominator: 'decode/generated',
      },
      {
        name: 'encode: plain+create / generated',
        numerator: 'encode/plain+create',
        denominator: 'encode/generated',
      },
      {
        name: 'encode: generated / toBinary-only',
        numerator: 'encode/generated',
        denominator: 'encode/toBinary-only',
      },
    ],
  };
}
