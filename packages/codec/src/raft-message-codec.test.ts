import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import { type Entry, type Message, RaftError, SnapshotData } from '@tsraft/core';
import {
  AppendEntriesRequestSchema,
  EntrySchema,
  EntryType,
  InstallSnapshotChunkSchema,
  RaftMessageSchema,
  SnapshotMetaSchema,
} from '@tsraft/proto';
import { decodeRaftMessage, encodeRaftMessage } from './raft-message-codec.js';

const MAX = Number.MAX_SAFE_INTEGER;
const TOO_BIG = 2n ** 53n;

function isInvalidArgument(pattern: RegExp): (error: unknown) => boolean {
  return (error) =>
    error instanceof RaftError && error.code === 'INVALID_ARGUMENT' && pattern.test(error.message);
}

/** The message with snapshot data replaced by its bytes, so messages compare by content. */
function comparable(message: Message): unknown {
  if (message.type !== 'snapshot') return message;
  return {
    ...message,
    snapshot: { ...message.snapshot, data: Buffer.from(message.snapshot.data.toBytes()) },
  };
}

function roundTrip(message: Message, clusterId = 'cluster-a'): void {
  const decoded = decodeRaftMessage(encodeRaftMessage(message, clusterId));
  assert.equal(decoded.clusterId, clusterId);
  assert.deepEqual(comparable(decoded.message), comparable(message));
}

function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

const header = { from: 'n1', to: 'n2', term: 3 } as const;
const maxHeader = { from: 'a-long-node-id-ü', to: 'n'.repeat(200), term: MAX } as const;

describe('encodeRaftMessage/decodeRaftMessage round trip', () => {
  it('vote request, plain and pre-vote, at 0 and at the max safe integer', () => {
    roundTrip({
      type: 'vote',
      ...header,
      preVote: false,
      lastLogIndex: 0,
      lastLogTerm: 0,
      leadershipTransfer: false,
    });
    roundTrip({
      type: 'vote',
      ...maxHeader,
      preVote: true,
      lastLogIndex: MAX,
      lastLogTerm: MAX,
      leadershipTransfer: true,
    });
  });

  it('vote response', () => {
    roundTrip({ type: 'voteResponse', ...header, preVote: false, granted: false });
    roundTrip({ type: 'voteResponse', ...maxHeader, preVote: true, granted: true });
  });

  it('append request: empty entries, every entry type, large data, extreme numbers', () => {
    roundTrip({ type: 'append', ...header, prevLogIndex: 0, prevLogTerm: 0, entries: [], commit: 0 });
    const entries: Entry[] = [
      { term: 1, index: 1, type: 'noop', data: new Uint8Array(0) },
      { term: 1, index: 2, type: 'config', data: bytes(7, 1) },
      { term: 2, index: 3, type: 'normal', data: bytes(4 << 20, 2) },
      { term: MAX, index: MAX, type: 'normal', data: bytes(128, 3) },
    ];
    roundTrip({ type: 'append', ...maxHeader, prevLogIndex: MAX, prevLogTerm: MAX, entries, commit: MAX });
  });

  it('append response, accepted and rejected with a hint', () => {
    roundTrip({
      type: 'appendResponse',
      ...header,
      reject: false,
      index: 0,
      rejectHintIndex: 0,
      rejectHintTerm: 0,
      commit: 0,
    });
    roundTrip({
      type: 'appendResponse',
      ...maxHeader,
      reject: true,
      index: MAX,
      rejectHintIndex: MAX - 1,
      rejectHintTerm: MAX,
      commit: MAX,
    });
  });

  it('heartbeat and heartbeat response', () => {
    roundTrip({ type: 'heartbeat', ...header, commit: 0, context: 0 });
    roundTrip({ type: 'heartbeat', ...maxHeader, commit: MAX, context: MAX });
    roundTrip({ type: 'heartbeat', ...header, commit: 7, context: 0, release: true });
    roundTrip({ type: 'heartbeatResponse', ...header, context: 0, commit: 0 });
    roundTrip({ type: 'heartbeatResponse', ...maxHeader, context: MAX, commit: MAX });
  });

  it('install snapshot: empty and large data, empty and full membership', () => {
    roundTrip({
      type: 'snapshot',
      ...header,
      snapshot: { meta: { index: 0, term: 0, conf: { voters: [], learners: [] } }, data: SnapshotData.EMPTY },
    });
    roundTrip({
      type: 'snapshot',
      ...maxHeader,
      snapshot: {
        meta: { index: MAX, term: MAX, conf: { voters: ['n1', 'n2', 'n3'], learners: ['n4'] } },
        data: SnapshotData.of(bytes(8 << 20, 9)),
      },
    });
  });

  it('timeout now', () => {
    roundTrip({ type: 'timeoutNow', ...header });
    roundTrip({ type: 'timeoutNow', ...maxHeader });
  });

  it('read index request and response', () => {
    roundTrip({ type: 'readIndex', ...header, requestId: 0 });
    roundTrip({ type: 'readIndex', ...maxHeader, requestId: MAX });
    roundTrip({ type: 'readIndexResponse', ...header, requestId: 0, index: 0 });
    roundTrip({ type: 'readIndexResponse', ...maxHeader, requestId: MAX, index: MAX });
  });

  it('keeps an empty cluster id', () => {
    roundTrip({ type: 'timeoutNow', ...header }, '');
  });

  it('encodes a snapshot as one whole chunk', () => {
    const message: Message = {
      type: 'snapshot',
      ...header,
      snapshot: {
        meta: { index: 5, term: 2, conf: { voters: ['n1'], learners: [] } },
        data: SnapshotData.of(bytes(10, 0)),
      },
    };
    const encoded = encodeRaftMessage(message, 'c');
    const expected = toBinary(
      RaftMessageSchema,
      create(RaftMessageSchema, {
        clusterId: 'c',
        from: 'n1',
        to: 'n2',
        term: 3n,
        body: {
          case: 'installSnapshot',
          value: {
            meta: { index: 5n, term: 2n, conf: { voters: ['n1'] } },
            offset: 0n,
            data: bytes(10, 0),
            done: true,
          },
        },
      }),
    );
    assert.deepEqual(encoded, expected);
  });
});

describe('decodeRaftMessage rejects malformed input with INVALID_ARGUMENT', () => {
  const valid = { clusterId: 'c', from: 'n1', to: 'n2', term: 1n } as const;
  const encode = (init: MessageInitShape<typeof RaftMessageSchema>) =>
    toBinary(RaftMessageSchema, create(RaftMessageSchema, init));

  it('bytes that are not protobuf', () => {
    // A field header for field 2 (length-delimited) whose length runs past the end.
    assert.throws(
      () => decodeRaftMessage(new Uint8Array([0x12, 0x7f, 0x01])),
      isInvalidArgument(/not a valid/),
    );
    // A truncated varint.
    assert.throws(
      () => decodeRaftMessage(new Uint8Array([0x20, 0xff, 0xff])),
      isInvalidArgument(/not a valid/),
    );
    // Wire type 7 does not exist.
    assert.throws(() => decodeRaftMessage(new Uint8Array([0x0f])), isInvalidArgument(/not a valid/));
  });

  it('keeps the parse error as the cause', () => {
    try {
      decodeRaftMessage(new Uint8Array([0x0f]));
      assert.fail('expected a throw');
    } catch (error) {
      assert.ok(error instanceof RaftError);
      assert.ok(error.cause instanceof Error);
    }
  });

  it('an envelope without a body (including empty input)', () => {
    assert.throws(() => decodeRaftMessage(encode(valid)), isInvalidArgument(/no body/));
    assert.throws(() => decodeRaftMessage(new Uint8Array(0)), isInvalidArgument(/from must be a non-empty/));
  });

  it('an empty from or to', () => {
    const body = { case: 'timeoutNow', value: {} } as const;
    assert.throws(
      () => decodeRaftMessage(encode({ ...valid, from: '', body })),
      isInvalidArgument(/^INVALID_ARGUMENT: from/),
    );
    assert.throws(
      () => decodeRaftMessage(encode({ ...valid, to: '', body })),
      isInvalidArgument(/^INVALID_ARGUMENT: to/),
    );
  });

  it('numbers beyond Number.MAX_SAFE_INTEGER, in the header and in every body', () => {
    const timeoutNow = { case: 'timeoutNow', value: {} } as const;
    assert.throws(
      () => decodeRaftMessage(encode({ ...valid, term: TOO_BIG, body: timeoutNow })),
      isInvalidArgument(/term/),
    );
    assert.throws(
      () => decodeRaftMessage(encode({ ...valid, term: 2n ** 64n - 1n, body: timeoutNow })),
      isInvalidArgument(/term 18446744073709551615/),
    );
    const bodies: [NonNullable<MessageInitShape<typeof RaftMessageSchema>['body']>, RegExp][] = [
      [{ case: 'voteRequest', value: { lastLogIndex: TOO_BIG } }, /vote.lastLogIndex/],
      [{ case: 'voteRequest', value: { lastLogTerm: TOO_BIG } }, /vote.lastLogTerm/],
      [{ case: 'appendEntriesRequest', value: { prevLogIndex: TOO_BIG } }, /append.prevLogIndex/],
      [{ case: 'appendEntriesRequest', value: { prevLogTerm: TOO_BIG } }, /append.prevLogTerm/],
      [{ case: 'appendEntriesRequest', value: { commit: TOO_BIG } }, /append.commit/],
      [
        {
          case: 'appendEntriesRequest',
          value: { entries: [{ term: 1n, index: TOO_BIG, type: EntryType.NORMAL }] },
        },
        /entry.index/,
      ],
      [
        {
          case: 'appendEntriesRequest',
          value: { entries: [{ term: TOO_BIG, index: 1n, type: EntryType.NORMAL }] },
        },
        /entry.term/,
      ],
      [{ case: 'appendEntriesResponse', value: { index: TOO_BIG } }, /appendResponse.index/],
      [
        { case: 'appendEntriesResponse', value: { rejectHintIndex: TOO_BIG } },
        /appendResponse.rejectHintIndex/,
      ],
      [
        { case: 'appendEntriesResponse', value: { rejectHintTerm: TOO_BIG } },
        /appendResponse.rejectHintTerm/,
      ],
      [{ case: 'heartbeat', value: { commit: TOO_BIG } }, /heartbeat.commit/],
      [{ case: 'heartbeat', value: { context: TOO_BIG } }, /heartbeat.context/],
      [{ case: 'heartbeatResponse', value: { context: TOO_BIG } }, /heartbeatResponse.context/],
      [
        { case: 'installSnapshot', value: { meta: { index: TOO_BIG, conf: {} }, done: true } },
        /snapshot.meta.index/,
      ],
      [
        { case: 'installSnapshot', value: { meta: { term: TOO_BIG, conf: {} }, done: true } },
        /snapshot.meta.term/,
      ],
      [{ case: 'readIndexRequest', value: { requestId: TOO_BIG } }, /readIndex.requestId/],
      [{ case: 'readIndexResponse', value: { requestId: TOO_BIG } }, /readIndexResponse.requestId/],
      [{ case: 'readIndexResponse', value: { index: TOO_BIG } }, /readIndexResponse.index/],
    ];
    for (const [body, field] of bodies) {
      assert.throws(
        () => decodeRaftMessage(encode({ ...valid, body })),
        isInvalidArgument(field),
        field.source,
      );
    }
  });

  it('an entry whose type is unspecified or unknown', () => {
    for (const type of [EntryType.UNSPECIFIED, 42 as EntryType]) {
      const entry = create(EntrySchema, { term: 1n, index: 1n, type });
      const body = {
        case: 'appendEntriesRequest',
        value: create(AppendEntriesRequestSchema, { entries: [entry] }),
      } as const;
      assert.throws(() => decodeRaftMessage(encode({ ...valid, body })), isInvalidArgument(/entry.type/));
    }
  });

  it('a snapshot chunk that is only a piece, or lacks its meta or membership', () => {
    const meta = create(SnapshotMetaSchema, { index: 1n, term: 1n, conf: { voters: ['n1'] } });
    const chunk = (init: MessageInitShape<typeof InstallSnapshotChunkSchema>) =>
      encode({
        ...valid,
        body: { case: 'installSnapshot', value: create(InstallSnapshotChunkSchema, init) },
      });
    assert.throws(
      () => decodeRaftMessage(chunk({ meta, offset: 0n, done: false })),
      isInvalidArgument(/reassemble/),
    );
    assert.throws(
      () => decodeRaftMessage(chunk({ meta, offset: 100n, done: true })),
      isInvalidArgument(/reassemble/),
    );
    assert.throws(() => decodeRaftMessage(chunk({ done: true })), isInvalidArgument(/no meta/));
    assert.throws(
      () => decodeRaftMessage(chunk({ meta: create(SnapshotMetaSchema, { index: 1n }), done: true })),
      isInvalidArgument(/conf is missing/),
    );
    assert.throws(
      () => decodeRaftMessage(chunk({ meta: { index: 1n, conf: { voters: ['n1', ''] } }, done: true })),
      isInvalidArgument(/confState.voters/),
    );
  });
});

describe('encodeRaftMessage rejects what the decoder would reject', () => {
  it('empty from or to', () => {
    assert.throws(
      () => encodeRaftMessage({ type: 'timeoutNow', from: '', to: 'n2', term: 1 }, 'c'),
      isInvalidArgument(/from/),
    );
    assert.throws(
      () => encodeRaftMessage({ type: 'timeoutNow', from: 'n1', to: '', term: 1 }, 'c'),
      isInvalidArgument(/to/),
    );
  });

  it('numbers that are negative, fractional, not finite or unsafe', () => {
    for (const term of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, MAX + 1]) {
      assert.throws(
        () => encodeRaftMessage({ type: 'timeoutNow', from: 'n1', to: 'n2', term }, 'c'),
        isInvalidArgument(/term must be a non-negative safe integer/),
      );
    }
    const entries: Entry[] = [{ term: 1, index: -3, type: 'normal', data: new Uint8Array(0) }];
    assert.throws(
      () =>
        encodeRaftMessage(
          { type: 'append', ...header, prevLogIndex: 0, prevLogTerm: 0, entries, commit: 0 },
          'c',
        ),
      isInvalidArgument(/entry.index/),
    );
  });
});
