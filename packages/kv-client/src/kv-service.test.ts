import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { PutRequestSchema, SessionRefSchema } from '@tsraft/proto';
import { KV_SERVICE_DEFINITION, KV_SERVICE_NAME, kvMalformedReason } from './kv-service.js';

test('the definition has the six unary methods under tsraft.kv.v1.KV', () => {
  assert.equal(KV_SERVICE_NAME, 'tsraft.kv.v1.KV');
  assert.deepEqual(Object.keys(KV_SERVICE_DEFINITION).sort(), [
    'CompareAndSwap',
    'Delete',
    'Get',
    'OpenSession',
    'Put',
    'Status',
  ]);
  for (const [name, method] of Object.entries(KV_SERVICE_DEFINITION)) {
    assert.equal(method.path, `/tsraft.kv.v1.KV/${name}`);
    assert.equal(method.requestStream, false);
    assert.equal(method.responseStream, false);
  }
});

test('messages round-trip through the serializers', () => {
  const put = KV_SERVICE_DEFINITION.Put;
  const request = create(PutRequestSchema, {
    key: new Uint8Array([1]),
    value: new Uint8Array([2, 3]),
    session: create(SessionRefSchema, { sessionId: 7n, sequence: 2n, firstIncomplete: 1n }),
  });
  const back = put.requestDeserialize(put.requestSerialize(request));
  assert.equal(kvMalformedReason(back), undefined);
  assert.deepEqual([...back.value], [2, 3]);
  assert.equal(back.session?.sessionId, 7n);
});

test('malformed bytes decode to an empty message marked with the reason, without throwing', () => {
  // Field 1, length-delimited, claims 5 bytes but 1 follows.
  const message = KV_SERVICE_DEFINITION.Put.requestDeserialize(Buffer.from([0x0a, 0x05, 0x01]));
  assert.match(kvMalformedReason(message) ?? '', /.+/);
  assert.equal(message.key.length, 0);
  assert.equal(kvMalformedReason({}), undefined);
  assert.equal(kvMalformedReason(undefined), undefined);
});
