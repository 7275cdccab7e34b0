import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metadata, status } from '@grpc/grpc-js';
import { codeForStatus, TransportError } from './transport-error.js';

test('each code maps to a gRPC status and says whether it is retryable', () => {
  const overloaded = new TransportError('OVERLOADED', 'too many calls');
  assert.equal(overloaded.grpcCode, status.RESOURCE_EXHAUSTED);
  assert.equal(overloaded.retryable, true);
  const wrong = new TransportError('WRONG_CLUSTER', 'cluster b');
  assert.equal(wrong.grpcCode, status.FAILED_PRECONDITION);
  assert.equal(wrong.retryable, false);
});

test('a status sent by a tsraft server round-trips to the same code', () => {
  const sent = new TransportError('MESSAGE_TOO_LARGE', 'snapshot of 9 GiB').toStatus();
  const back = TransportError.from({ ...sent, message: sent.details });
  assert.equal(back.code, 'MESSAGE_TOO_LARGE');
  assert.equal(back.message, 'MESSAGE_TOO_LARGE: snapshot of 9 GiB');
  assert.equal(back.retryable, false);
});

test('a plain gRPC status maps by code', () => {
  const unavailable = TransportError.from({
    code: status.UNAVAILABLE,
    details: 'No connection',
    metadata: new Metadata(),
  });
  assert.equal(unavailable.code, 'UNREACHABLE');
  assert.equal(unavailable.retryable, true);
  assert.equal(
    codeForStatus(status.RESOURCE_EXHAUSTED, 'Received message larger than max'),
    'MESSAGE_TOO_LARGE',
  );
  assert.equal(codeForStatus(status.RESOURCE_EXHAUSTED, 'busy'), 'OVERLOADED');
  assert.equal(TransportError.from(new Error('boom')).code, 'INTERNAL');
});
