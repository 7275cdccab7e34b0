import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadKvChannelCredentials } from './kv-tls.js';

test('no TLS files means plaintext; a certificate without its key is refused', () => {
  assert.equal(loadKvChannelCredentials()._isSecure(), false);
  assert.throws(
    () => loadKvChannelCredentials({ caFile: '/nonexistent/ca.pem', certFile: 'c.pem' }),
    TypeError,
  );
  assert.throws(() => loadKvChannelCredentials({ caFile: '/nonexistent/ca.pem' }), /ENOENT/);
});
