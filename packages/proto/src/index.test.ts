import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { EntrySchema, EntryType, Raft, RaftMessageSchema, SendRequestSchema } from './index.js';

describe('@tsraft/proto', () => {
  it('round-trips an AppendEntries RaftMessage through toBinary/fromBinary', () => {
    const data = new Uint8Array([1, 2, 3, 255]);
    const message = create(RaftMessageSchema, {
      clusterId: 'c1',
      from: 'n1',
      to: 'n2',
      term: 7n,
      body: {
        case: 'appendEntriesRequest',
        value: {
          prevLogIndex: 41n,
          prevLogTerm: 6n,
          commit: 40n,
          entries: [create(EntrySchema, { term: 7n, index: 42n, type: EntryType.NORMAL, data })],
        },
      },
    });

    const decoded = fromBinary(RaftMessageSchema, toBinary(RaftMessageSchema, message));

    assert.equal(decoded.clusterId, 'c1');
    assert.equal(decoded.from, 'n1');
    assert.equal(decoded.to, 'n2');
    assert.equal(decoded.term, 7n);
    if (decoded.body.case !== 'appendEntriesRequest') assert.fail(`unexpected body ${decoded.body.case}`);
    const append = decoded.body.value;
    assert.equal(append.prevLogIndex, 41n);
    assert.equal(append.prevLogTerm, 6n);
    assert.equal(append.commit, 40n);
    assert.equal(append.entries.length, 1);
    assert.equal(append.entries[0]?.index, 42n);
    assert.equal(append.entries[0]?.type, EntryType.NORMAL);
    assert.deepEqual(append.entries[0]?.data, data);
  });

  it('keeps uint64 values above 2^53 exact as bigint', () => {
    const term = 2n ** 64n - 1n;
    const bytes = toBinary(RaftMessageSchema, create(RaftMessageSchema, { from: 'a', to: 'b', term }));
    assert.equal(fromBinary(RaftMessageSchema, bytes).term, term);
  });

  it('describes the Raft service with its three methods', () => {
    assert.equal(Raft.typeName, 'tsraft.raft.v1.Raft');
    assert.equal(Raft.method.send.methodKind, 'unary');
    assert.equal(Raft.method.send.input, SendRequestSchema);
    assert.equal(Raft.method.installSnapshot.methodKind, 'client_streaming');
    assert.equal(Raft.method.stream.methodKind, 'bidi_streaming');
  });
});
