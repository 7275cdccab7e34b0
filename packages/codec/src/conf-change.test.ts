import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { type ConfChange, RaftError } from '@tsraft/core';
import { ConfChangeSchema, ConfChangeType } from '@tsraft/proto';
import { decodeConfChange, encodeConfChange } from './conf-change.js';

function isInvalidArgument(pattern: RegExp): (error: unknown) => boolean {
  return (error) =>
    error instanceof RaftError && error.code === 'INVALID_ARGUMENT' && pattern.test(error.message);
}

describe('conf change encoding', () => {
  it('round-trips every change type', () => {
    for (const type of ['addVoter', 'addLearner', 'removeNode'] as const) {
      const change: ConfChange = { type, nodeId: `node-${type}` };
      assert.deepEqual(decodeConfChange(encodeConfChange(change)), change);
    }
  });

  it('rejects an unspecified or unknown type', () => {
    for (const type of [ConfChangeType.UNSPECIFIED, 9 as ConfChangeType]) {
      const bytes = toBinary(ConfChangeSchema, create(ConfChangeSchema, { type, nodeId: 'n1' }));
      assert.throws(() => decodeConfChange(bytes), isInvalidArgument(/confChange.type/));
    }
  });

  it('rejects an empty node id both ways', () => {
    const bytes = toBinary(ConfChangeSchema, create(ConfChangeSchema, { type: ConfChangeType.ADD_VOTER }));
    assert.throws(() => decodeConfChange(bytes), isInvalidArgument(/nodeId/));
    assert.throws(() => encodeConfChange({ type: 'removeNode', nodeId: '' }), isInvalidArgument(/nodeId/));
  });

  it('rejects bytes that are not protobuf', () => {
    assert.throws(
      () => decodeConfChange(new Uint8Array([0x12, 0x05, 0x6e])),
      isInvalidArgument(/not a valid/),
    );
  });
});
