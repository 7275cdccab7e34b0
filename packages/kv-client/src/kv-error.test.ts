import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metadata, status } from '@grpc/grpc-js';
import { isTaggedByServer, KV_ERROR_CODE_KEY, KvError, kvCodeForStatus } from './kv-error.js';

test('each code maps to its gRPC status, retryability and outcome', () => {
  const cases = [
    ['UNAVAILABLE', status.UNAVAILABLE, true],
    ['NOT_LEADER', status.UNAVAILABLE, true],
    ['DEADLINE_EXCEEDED', status.DEADLINE_EXCEEDED, true],
    ['RESOURCE_EXHAUSTED', status.RESOURCE_EXHAUSTED, true],
    ['SESSION_EXPIRED', status.FAILED_PRECONDITION, false],
    ['STALE_REQUEST', status.FAILED_PRECONDITION, false],
    ['OUTCOME_UNKNOWN', status.UNKNOWN, true],
    ['INVALID_ARGUMENT', status.INVALID_ARGUMENT, false],
    ['INTERNAL', status.INTERNAL, false],
    ['CLOSED', status.CANCELLED, false],
    ['CONF_CHANGE_IN_PROGRESS', status.ABORTED, true],
    ['CONFIG_MISMATCH', status.FAILED_PRECONDITION, false],
    ['NOT_CAUGHT_UP', status.FAILED_PRECONDITION, false],
  ] as const;
  for (const [code, grpcCode, retryable] of cases) {
    const error = new KvError(code, 'x');
    assert.equal(error.grpcCode, grpcCode, code);
    assert.equal(error.retryable, retryable, code);
    assert.equal(error.outcomeUnknown, code === 'OUTCOME_UNKNOWN', code);
  }
  assert.equal(new KvError('DEADLINE_EXCEEDED', 'x', { outcomeUnknown: true }).outcomeUnknown, true);
});

test('toStatus and from round-trip the exact code, even where codes share a gRPC status', () => {
  for (const code of [
    'NOT_LEADER',
    'STALE_REQUEST',
    'SESSION_EXPIRED',
    'CONFIG_MISMATCH',
    'NOT_CAUGHT_UP',
  ] as const) {
    const sent = new KvError(code, 'lost the lease').toStatus();
    assert.equal(sent.metadata.get(KV_ERROR_CODE_KEY)[0], code);
    const back = KvError.from({ ...sent, message: sent.details });
    assert.equal(back.code, code);
    assert.equal(back.message, `${code}: lost the lease`);
    assert.equal(back.reason, 'lost the lease');
    assert.ok(isTaggedByServer(back));
  }
});

test('a gRPC status without the trailer maps by status code', () => {
  const from = (code: status, details = 'd') => KvError.from({ code, details, metadata: new Metadata() });
  assert.equal(from(status.UNAVAILABLE).code, 'UNAVAILABLE');
  assert.equal(from(status.DEADLINE_EXCEEDED).code, 'DEADLINE_EXCEEDED');
  assert.equal(from(status.RESOURCE_EXHAUSTED).code, 'RESOURCE_EXHAUSTED');
  assert.equal(from(status.FAILED_PRECONDITION).code, 'SESSION_EXPIRED');
  assert.equal(from(status.UNKNOWN).code, 'OUTCOME_UNKNOWN');
  assert.equal(from(status.CANCELLED).code, 'CLOSED');
  assert.equal(from(status.ABORTED).code, 'CONF_CHANGE_IN_PROGRESS');
  assert.equal(from(status.PERMISSION_DENIED).code, 'INTERNAL');
  assert.equal(isTaggedByServer(from(status.UNAVAILABLE)), false);
  assert.equal(
    kvCodeForStatus(status.RESOURCE_EXHAUSTED, 'Received message larger than max'),
    'INVALID_ARGUMENT',
  );
});

test('anything else becomes INTERNAL, and a KvError is kept as is', () => {
  const boom = new Error('boom');
  const error = KvError.from(boom);
  assert.equal(error.code, 'INTERNAL');
  assert.equal(error.cause, boom);
  assert.equal(KvError.from(error), error);
  assert.equal(KvError.from('text').code, 'INTERNAL');
  assert.ok(error instanceof Error);
});
