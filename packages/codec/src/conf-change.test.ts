import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { type ConfChange, decodeConfChange, encodeConfChange, RaftError } from '@tsraft/core';
import { ConfChangeSchema, ConfChangeType, ConfStateSchema, MemberChangeSchema } from '@tsraft/proto';
import { fromProtoConfChange, toProtoConfChange } from './conf-change.js';

function isInvalidArgument(pattern: RegExp): (error: unknown) => boolean {
  return (error) =>
    error instanceof RaftError && error.code === 'INVALID_ARGUMENT' && pattern.test(error.message);
}

const joint: ConfChange = {
  changes: [
    { type: 'addVoter', nodeId: 'n4', address: '10.0.0.4:7000' },
    { type: 'removeNode', nodeId: 'n3' },
  ],
  conf: {
    voters: ['n1', 'n2', 'n4'],
    learners: ['n5'],
    votersOutgoing: ['n1', 'n2', 'n3'],
    addresses: { n1: 'a:1', n2: 'a:2', n4: '10.0.0.4:7000', n5: 'a:5' },
  },
};

describe('conf change encoding: core and protobuf-es agree', () => {
  it("core's bytes decode with protobuf-es to the same change, every type included", () => {
    for (const type of ['addVoter', 'addLearner', 'removeNode'] as const) {
      const change: ConfChange = { ...joint, changes: [{ type, nodeId: `node-${type}` }] };
      const decoded = fromProtoConfChange(fromBinary(ConfChangeSchema, encodeConfChange(change)));
      assert.deepEqual(decoded, change);
    }
    assert.deepEqual(fromProtoConfChange(fromBinary(ConfChangeSchema, encodeConfChange(joint))), joint);
  });

  it("protobuf-es bytes decode with core's decoder", () => {
    assert.deepEqual(decodeConfChange(toBinary(ConfChangeSchema, toProtoConfChange(joint))), joint);
    const leave: ConfChange = { changes: [], conf: { voters: ['n1'], learners: [] } };
    assert.deepEqual(decodeConfChange(toBinary(ConfChangeSchema, toProtoConfChange(leave))), leave);
  });

  it('rejects an unspecified or unknown type both ways', () => {
    for (const type of [ConfChangeType.UNSPECIFIED, 9 as ConfChangeType]) {
      const proto = create(ConfChangeSchema, {
        changes: [create(MemberChangeSchema, { type, nodeId: 'n1' })],
        conf: create(ConfStateSchema, { voters: ['n1'] }),
      });
      assert.throws(() => fromProtoConfChange(proto), isInvalidArgument(/memberChange.type/));
      assert.throws(() => decodeConfChange(toBinary(ConfChangeSchema, proto)), isInvalidArgument(/type/));
    }
  });

  it('rejects an empty node id, a missing configuration and a broken one', () => {
    const noId = create(ConfChangeSchema, {
      changes: [create(MemberChangeSchema, { type: ConfChangeType.ADD_VOTER })],
      conf: create(ConfStateSchema, { voters: ['n1'] }),
    });
    assert.throws(() => fromProtoConfChange(noId), isInvalidArgument(/nodeId/));
    assert.throws(() => decodeConfChange(toBinary(ConfChangeSchema, noId)), isInvalidArgument(/node_id/));
    const noConf = create(ConfChangeSchema, {});
    assert.throws(() => fromProtoConfChange(noConf), isInvalidArgument(/conf is missing/));
    assert.throws(() => decodeConfChange(toBinary(ConfChangeSchema, noConf)), isInvalidArgument(/missing/));
    const both = create(ConfChangeSchema, {
      conf: create(ConfStateSchema, { voters: ['n1'], learners: ['n1'] }),
    });
    assert.throws(() => fromProtoConfChange(both), isInvalidArgument(/both voter and learner/));
    assert.throws(
      () => decodeConfChange(toBinary(ConfChangeSchema, both)),
      isInvalidArgument(/both voter and learner/),
    );
  });

  it('rejects bytes that are not protobuf', () => {
    assert.throws(
      () => decodeConfChange(new Uint8Array([0x12, 0x05, 0x6e])),
      isInvalidArgument(/not a valid/),
    );
  });
});
