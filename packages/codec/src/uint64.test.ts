import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RaftError } from '@tsraft/core';
import { fromUint64, toUint64 } from './uint64.js';

function isInvalidArgument(error: unknown): boolean {
  return error instanceof RaftError && error.code === 'INVALID_ARGUMENT';
}

describe('uint64 conversion', () => {
  it('converts 0 and Number.MAX_SAFE_INTEGER exactly, both ways', () => {
    assert.equal(toUint64(0, 'x'), 0n);
    assert.equal(toUint64(Number.MAX_SAFE_INTEGER, 'x'), 9007199254740991n);
    assert.equal(fromUint64(0n, 'x'), 0);
    assert.equal(fromUint64(9007199254740991n, 'x'), Number.MAX_SAFE_INTEGER);
  });

  it('rejects wire values a number cannot hold exactly', () => {
    assert.throws(() => fromUint64(9007199254740992n, 'x'), isInvalidArgument);
    assert.throws(() => fromUint64(2n ** 64n - 1n, 'x'), isInvalidArgument);
    assert.throws(() => fromUint64(-1n, 'x'), isInvalidArgument);
  });

  it('rejects numbers that are not non-negative safe integers', () => {
    for (const value of [-1, 0.5, Number.NaN, Number.NEGATIVE_INFINITY, 2 ** 53]) {
      assert.throws(() => toUint64(value, 'x'), isInvalidArgument);
    }
  });
});
