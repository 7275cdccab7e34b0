import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTransportSuite } from './suite.js';

test('every transport case delivers its messages (smoke run of the small cases)', {
  timeout: 20_000,
}, async () => {
  const suite = createTransportSuite();
  try {
    for (const [name, run] of Object.entries(suite.cases)) {
      if (name.includes('64KiB')) continue;
      await run();
      await run();
    }
    assert.ok(Object.keys(suite.cases).length >= 9);
  } finally {
    await suite.close();
  }
});
