import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAdmission } from './admission.js';

test('calls are bounded per peer, and released slots are reusable', () => {
  const admission = createAdmission({ maxConcurrentCallsPerPeer: 2 });
  assert.equal(admission.tryAcquireCall('a'), true);
  assert.equal(admission.tryAcquireCall('a'), true);
  assert.equal(admission.tryAcquireCall('a'), false);
  assert.equal(admission.tryAcquireCall('b'), true, 'another peer has its own budget');
  admission.releaseCall('a');
  assert.equal(admission.tryAcquireCall('a'), true);
  assert.deepEqual(admission.usage('a'), { calls: 2, bytes: 0 });
});

test('bytes are bounded per peer, but one oversized message alone is admitted', () => {
  const admission = createAdmission({ maxInflightBytesPerPeer: 100 });
  assert.equal(admission.tryAcquireBytes('a', 60), true);
  assert.equal(admission.tryAcquireBytes('a', 60), false);
  admission.releaseBytes('a', 60);
  assert.deepEqual(admission.usage('a'), { calls: 0, bytes: 0 });
  assert.equal(admission.tryAcquireBytes('a', 500), true);
});
