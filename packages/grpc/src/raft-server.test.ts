import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { credentials, Metadata, makeGenericClientConstructor } from '@grpc/grpc-js';
import {
  file_tsraft_kv_v1_kv,
  SendRequestSchema,
  SendResponseSchema,
  type StatusRequest,
  StatusRequestSchema,
  type StatusResponse,
  StatusResponseSchema,
  StreamRequestSchema,
} from '@tsraft/proto';
import { freezableProxy } from '@tsraft/testkit';
import { pino } from 'pino';
import { createRaftClient } from './channel.js';
import { createClientInterceptor } from './client-interceptor.js';
import { createRaftServer, type RaftServerOptions } from './raft-server.js';
import { RAFT_SERVICE_DEFINITION } from './raft-service.js';
import { TransportError } from './transport-error.js';

const silent = pino({ level: 'silent' });
const base: RaftServerOptions = {
  listen: '127.0.0.1:0',
  clusterId: 'c1',
  nodeId: 'b',
  members: ['a', 'b'],
  handlers: {},
  logger: silent,
  shutdownGraceMs: 300,
};

function callSend(address: string, nodeId: string, clusterId = 'c1'): Promise<TransportError | null> {
  const client = createRaftClient(address, {}, [createClientInterceptor({ clusterId, nodeId, peer: 'b' })]);
  const send = RAFT_SERVICE_DEFINITION.Send;
  return new Promise<TransportError | null>((resolve) => {
    client.makeUnaryRequest(
      send.path,
      send.requestSerialize,
      send.responseDeserialize,
      create(SendRequestSchema),
      new Metadata(),
      { deadline: Date.now() + 3_000 },
      (error) => resolve(error === null ? null : TransportError.from(error)),
    );
  }).finally(() => client.close());
}

test('the cluster check answers FAILED_PRECONDITION and PERMISSION_DENIED with typed codes', {
  timeout: 10_000,
}, async () => {
  const server = await createRaftServer({
    ...base,
    handlers: { Send: (_call, callback) => callback(null, create(SendResponseSchema)) },
  });
  try {
    assert.equal(await callSend(server.address, 'a'), null);
    const wrong = await callSend(server.address, 'a', 'c2');
    assert.equal(wrong?.code, 'WRONG_CLUSTER');
    assert.equal(wrong?.retryable, false);
    assert.equal((await callSend(server.address, 'zz'))?.code, 'UNKNOWN_NODE');
  } finally {
    await server.close();
  }
});

test('admission control answers RESOURCE_EXHAUSTED past the per-peer call limit', {
  timeout: 10_000,
}, async () => {
  const pending: (() => void)[] = [];
  const server = await createRaftServer({
    ...base,
    limits: { maxConcurrentCallsPerPeer: 1 },
    handlers: { Send: (_call, callback) => pending.push(() => callback(null, create(SendResponseSchema))) },
  });
  try {
    const first = callSend(server.address, 'a');
    while (pending.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const second = await callSend(server.address, 'a');
    assert.equal(second?.code, 'OVERLOADED');
    assert.equal(second?.retryable, true);
    pending.shift()!();
    assert.equal(await first, null);
  } finally {
    await server.close();
  }
});

test('close ends open streams and finishes within the grace period', { timeout: 10_000 }, async () => {
  const server = await createRaftServer({ ...base, handlers: { Stream: () => {} } });
  const client = createRaftClient(server.address, {}, [
    createClientInterceptor({ clusterId: 'c1', nodeId: 'a', peer: 'b' }),
  ]);
  const stream = RAFT_SERVICE_DEFINITION.Stream;
  const call = client.makeBidiStreamRequest(stream.path, stream.requestSerialize, stream.responseDeserialize);
  const ended = new Promise<TransportError>((resolve) =>
    call.on('error', (e) => resolve(TransportError.from(e))),
  );
  call.on('data', () => {});
  call.write(create(StreamRequestSchema));
  await new Promise((resolve) => setTimeout(resolve, 100));
  const started = Date.now();
  await server.close();
  assert.ok(Date.now() - started < 2_000);
  const endedWith = await ended;
  assert.equal(endedWith.code, 'SHUTTING_DOWN', endedWith.message);
  client.close();
});

const require = createRequire(import.meta.url);
function bufBinary(): string | null {
  try {
    const path = require.resolve('@bufbuild/buf/bin/buf');
    return existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

test('buf curl lists the services by reflection and checks health', { timeout: 30_000 }, async (t) => {
  const buf = bufBinary();
  if (buf === null) return t.skip('@bufbuild/buf is not installed');
  const server = await createRaftServer(base);
  const run = promisify(execFile);
  const url = `http://${server.address}`;
  const common = ['curl', '--protocol', 'grpc', '--http2-prior-knowledge'];
  try {
    const methods = await run(buf, [...common, '--list-methods', url], { timeout: 20_000 });
    assert.match(methods.stdout, /tsraft\.raft\.v1\.Raft\/Send/);
    assert.match(methods.stdout, /grpc\.health\.v1\.Health\/Check/);
    const check = async () =>
      JSON.parse(
        (await run(buf, [...common, `${url}/grpc.health.v1.Health/Check`], { timeout: 20_000 })).stdout,
      );
    assert.deepEqual(await check(), { status: 'NOT_SERVING' });
    server.setServing(true);
    assert.deepEqual(await check(), { status: 'SERVING' });
  } finally {
    await server.close();
  }
});

test('server keep-alive cancels the stream of a client that vanished without closing its connection', {
  timeout: 15_000,
}, async () => {
  let cancelled: (() => void) | null = null;
  const streamCancelled = new Promise<void>((resolve) => {
    cancelled = resolve;
  });
  let opened: (() => void) | null = null;
  const streamOpened = new Promise<void>((resolve) => {
    opened = resolve;
  });
  const server = await createRaftServer({
    ...base,
    keepaliveIntervalMs: 200,
    keepaliveTimeoutMs: 200,
    handlers: {
      Stream: (call) => {
        call.on('error', () => {});
        call.on('cancelled', () => cancelled?.());
        call.on('data', () => opened?.());
      },
    },
  });
  // The client itself never pings (its keep-alive is an hour), so only the server's PINGs can notice.
  const proxy = await freezableProxy(server.port);
  const client = createRaftClient(proxy.address, { keepaliveIntervalMs: 3_600_000 }, [
    createClientInterceptor({ clusterId: 'c1', nodeId: 'a', peer: 'b' }),
  ]);
  try {
    const stream = RAFT_SERVICE_DEFINITION.Stream;
    const call = client.makeBidiStreamRequest(
      stream.path,
      stream.requestSerialize,
      stream.responseDeserialize,
    );
    call.on('error', () => {});
    call.write(create(StreamRequestSchema));
    await streamOpened;
    proxy.freeze();
    const started = performance.now();
    await streamCancelled;
    // PING every 200 ms, 200 ms to answer: detection within a few seconds even on a loaded machine.
    assert.ok(performance.now() - started < 10_000);
  } finally {
    client.close();
    await proxy.close();
    await server.close();
  }
});

test('a hosted service shares the port: no peer checks, its health follows the server, reflection lists it', {
  timeout: 30_000,
}, async (t) => {
  const serialize = (value: StatusResponse) => Buffer.from(toBinary(StatusResponseSchema, value));
  const statusMethod = {
    path: '/tsraft.kv.v1.KV/Status',
    requestStream: false,
    responseStream: false,
    requestSerialize: (value: StatusRequest) => Buffer.from(toBinary(StatusRequestSchema, value)),
    requestDeserialize: (bytes: Buffer) => fromBinary(StatusRequestSchema, bytes),
    responseSerialize: serialize,
    responseDeserialize: (bytes: Buffer) => fromBinary(StatusResponseSchema, bytes),
  };
  const server = await createRaftServer({
    ...base,
    services: [
      {
        name: 'tsraft.kv.v1.KV',
        definition: { Status: statusMethod },
        implementation: {
          Status: (_call: unknown, callback: (e: null, v: StatusResponse) => void) =>
            callback(null, create(StatusResponseSchema, { memberId: 'b' })),
        },
        files: [file_tsraft_kv_v1_kv],
      },
    ],
  });
  const Client = makeGenericClientConstructor({ Status: statusMethod }, 'KV');
  const client = new Client(server.address, credentials.createInsecure());
  try {
    // A caller with no cluster or node id metadata reaches it: the Raft interceptor lets it through.
    const answer = await new Promise<StatusResponse>((resolve, reject) =>
      (client as unknown as Record<string, (...args: unknown[]) => void>).Status!(
        create(StatusRequestSchema),
        (error: Error | null, value: StatusResponse) => (error === null ? resolve(value) : reject(error)),
      ),
    );
    assert.equal(answer.memberId, 'b');
    const buf = bufBinary();
    if (buf === null) return t.skip('@bufbuild/buf is not installed');
    const run = promisify(execFile);
    const url = `http://${server.address}`;
    const common = ['curl', '--protocol', 'grpc', '--http2-prior-knowledge'];
    const methods = await run(buf, [...common, '--list-methods', url], { timeout: 20_000 });
    assert.match(methods.stdout, /tsraft\.kv\.v1\.KV\/Status/);
    const check = async () =>
      JSON.parse(
        (
          await run(
            buf,
            [...common, '-d', '{"service":"tsraft.kv.v1.KV"}', `${url}/grpc.health.v1.Health/Check`],
            {
              timeout: 20_000,
            },
          )
        ).stdout,
      );
    assert.deepEqual(await check(), { status: 'NOT_SERVING' });
    server.setServing(true);
    assert.deepEqual(await check(), { status: 'SERVING' });
  } finally {
    client.close();
    await server.close();
  }
});
