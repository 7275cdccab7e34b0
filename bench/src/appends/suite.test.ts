import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { BATCH_SIZES, createAppendCase, createAppendsSuite, ENTRIES_PER_CALL } from './suite.js';

test('appends suite: every case appends the same entries per call, with one fdatasync per batch', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'tsraft-bench-test-'));
  try {
    for (const batch of BATCH_SIZES) {
      const c = createAppendCase(() => root, batch, 128);
      await c.run();
      const before = c.storage()!.syncCount;
      await c.run();
      const storage = c.storage()!;
      assert.equal(storage.lastIndex(), 2 * ENTRIES_PER_CALL);
      assert.equal(storage.syncCount - before, ENTRIES_PER_CALL / batch);
      await c.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('appends suite: every comparison names two of its cases', () => {
  const suite = createAppendsSuite();
  for (const c of suite.comparisons) {
    assert.ok(c.numerator in suite.cases, c.numerator);
    assert.ok(c.denominator in suite.cases, c.denominator);
  }
});
