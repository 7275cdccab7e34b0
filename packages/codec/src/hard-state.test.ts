import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { EMPTY_HARD_STATE, type HardState, RaftError } from '@tsraft/core';
import { HardStateSchema } from '@tsraft/proto';
import { fromProtoHardState, toProtoHardState } from './hard-state.js';

function roundTrip(state: HardState): HardState {
  return fromProtoHardState(fromBinary(HardStateSchema, toBinary(HardStateSchema, toProtoHardState(state))));
}

describe('hard state conversion', () => {
  it('maps a null vote to the empty string and back', () => {
    assert.equal(toProtoHardState(EMPTY_HARD_STATE).vote, '');
    assert.deepEqual(roundTrip(EMPTY_HARD_STATE), { term: 0, vote: null, commit: 0 });
  });

  it('round-trips a vote and the largest safe numbers', () => {
    const state = { term: Number.MAX_SAFE_INTEGER, vote: 'n3', commit: Number.MAX_SAFE_INTEGER };
    assert.deepEqual(roundTrip(state), state);
  });

  it('rejects a term beyond Number.MAX_SAFE_INTEGER', () => {
    const wire = create(HardStateSchema, { term: 2n ** 53n });
    assert.throws(
      () => fromProtoHardState(wire),
      (error) =>
        error instanceof RaftError &&
        error.code === 'INVALID_ARGUMENT' &&
        /hardState.term/.test(error.message),
    );
  });
});
