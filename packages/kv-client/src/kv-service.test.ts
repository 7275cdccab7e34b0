import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { PutRequestSchema, SessionRefSchema, SessionRequestSchema } from '@tsraft/proto';
import { KV_SERVICE_DEFINITION, KV_SERVICE_NAME, kvMalformedReason } from './kv-service.js';

test('the definition has the six unary methods and the Session stream under tsraft.kv.v1.KV', () => {
  assert.equal(KV_SERVICE_NAME, 'tsraft.kv.v1.KV');
  assert.deepEqual(Object.keys(KV_SERVICE_DEFINITION).sort(), [
    'CompareAndSwap',
    'Delete',
    'Get',
    'OpenSession',
    'Put',
    'Session',
    'Status',
  ]);
  for (const [name, method] of Object.entries(KV_SERVICE_DEFINITION)) {
    assert.equal(method.path, `/tsraft.kv.v1.KV/${name}`);
    assert.equal(method.requestStream, name === 'Session');
    assert.equal(method.responseStream, name === 'Session');
  }
});

test('a Session request whose body does not decode keeps its id, marked malformed', () => {
  const session = KV_SERVICE_DEFINITION.Session;
  const whole = toBinary(SessionRequestSchema, create(SessionRequestSchema, { id: 300n, timeoutMs: 5 }));
  // Then field 3 (put), length-delimited, claiming 5 bytes of which 1 follows.
  const bytes = Buffer.concat([whole, Buffer.from([0x1a, 0x05, 0x01])]);
  const message = session.requestDeserialize(bytes);
  assert.match(kvMalformedReason(message) ?? '', /.+/);
  assert.equal(message.id, 300n);
  assert.equal(message.request.case, undefined);
  // Nothing that parses: id 0.
  const garbage = session.requestDeserialize(Buffer.from([0xff, 0xff]));
  assert.match(kvMalformedReason(garbage) ?? '', /.+/);
  assert.equal(garbage.id, 0n);
  // Well-formed: as sent.
  const back = session.requestDeserialize(session.requestSerialize(create(SessionRequestSchema, { id: 9n })));
  assert.equal(kvMalformedReason(back), undefined);
  assert.equal(back.id, 9n);
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
