import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConfState } from '@tsraft/core';
import { openLogStorage } from './disk-log-storage.js';
import { tempDir } from './test-support/temp-dir.js';

const bootstrap: ConfState = {
  voters: ['a', 'b', 'c'],
  learners: [],
  addresses: { a: 'h:1', b: 'h:2', c: 'h:3' },
};
const joint: ConfState = {
  voters: ['a', 'b', 'd'],
  learners: ['e'],
  votersOutgoing: ['a', 'b', 'c'],
  addresses: { a: 'h:1', b: 'h:2', c: 'h:3', d: 'h:4', e: 'h:5' },
};

test('the membership survives restarts whole: bootstrap addresses, then a joint one from a snapshot', async () => {
  const { dir, remove } = tempDir();
  const open = (conf?: ConfState) =>
    openLogStorage({ dir, nodeId: 'a', clusterId: 'c1', ...(conf === undefined ? {} : { conf }) });
  try {
    const first = await open(bootstrap);
    assert.deepEqual(first.initialState().confState, bootstrap);
    await first.save({
      hardState: { term: 1, vote: 'a', commit: 3 },
      entries: [1, 2, 3].map((index) => ({
        index,
        term: 1,
        type: 'normal' as const,
        data: new Uint8Array([index]),
      })),
      snapshot: null,
      sync: true,
    });
    await first.close();
    // A restart with other bootstrap flags keeps the persisted membership.
    const second = await open({ voters: ['x'], learners: [] });
    assert.deepEqual(second.initialState().confState, bootstrap);
    await second.saveSnapshot({ index: 3, term: 1, conf: joint }, new Uint8Array([9]));
    await second.close();
    const third = await open();
    assert.deepEqual(third.initialState().confState, joint);
    assert.deepEqual(third.snapshot().meta.conf, joint);
    await third.close();
  } finally {
    remove();
  }
});
