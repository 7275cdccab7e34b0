import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client, credentials } from '@grpc/grpc-js';
import { RaftError } from '@tsraft/core';
import { service as health } from 'grpc-health-check';
import { pino } from 'pino';
import { createUnaryTransport } from './index.js';

function checkHealth(address: string): Promise<unknown> {
  const client = new Client(address, credentials.createInsecure());
  const check = health.Check!;
  return new Promise<unknown>((resolve, reject) => {
    client.makeUnaryRequest(
      check.path,
      check.requestSerialize,
      check.responseDeserialize,
      { service: 'tsraft.raft.v1.Raft' },
      { deadline: Date.now() + 3_000 },
      (error, response) =>
        error === null ? resolve((response as { status: unknown }).status) : reject(error),
    );
  }).finally(() => client.close());
}

test('health is SERVING only while the transport runs and is healthy', { timeout: 10_000 }, async () => {
  const transport = createUnaryTransport({
    id: 'a',
    clusterId: 'c',
    listen: '127.0.0.1:0',
    peers: new Map(),
    logger: pino({ level: 'silent' }),
  });
  try {
    await transport.start({ onMessage: () => {}, onUnreachable: () => {} });
    assert.equal(await checkHealth(transport.address), 'SERVING');
    transport.setHealthy(false);
    assert.equal(await checkHealth(transport.address), 'NOT_SERVING');
    transport.setHealthy(true);
    assert.equal(await checkHealth(transport.address), 'SERVING');
  } finally {
    await transport.close();
  }
});

test('options out of range are refused at creation', () => {
  assert.throws(
    () =>
      createUnaryTransport({
        id: 'a',
        clusterId: 'c',
        listen: '127.0.0.1:0',
        peers: new Map(),
        callDeadlineMs: 0,
      }),
    (e: unknown) => e instanceof RaftError && e.code === 'INVALID_CONFIG',
  );
});
