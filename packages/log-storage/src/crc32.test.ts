import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32, crc32Portable } from './crc32.js';

test('crc32 matches the portable implementation, chunked or not, and the known check value', () => {
  const data = new TextEncoder().encode('123456789');
  assert.equal(crc32(data), 0xcbf43926);
  assert.equal(crc32Portable(data), 0xcbf43926);
  assert.equal(crc32(data.subarray(4), crc32(data.subarray(0, 4))), 0xcbf43926);
  assert.equal(crc32Portable(data.subarray(4), crc32Portable(data.subarray(0, 4))), 0xcbf43926);
});

test('an empty chunk leaves the checksum unchanged, however the empty array was made', () => {
  assert.equal(crc32(new Uint8Array(new ArrayBuffer(0)), 123), 123);
  assert.equal(crc32(new Uint8Array(0), 123), 123);
  assert.equal(crc32(structuredClone(new Uint8Array(0)), 123), 123);
});
