// The KV.Session stream against real members (`startKvServer` in this process, on loopback): one that leads
// alone, and one that never has a leader (its only peer never runs), so that its requests stay in progress
// until their deadline. Then `createSessionStreams` alone, over operations that end when a test says.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import {
  Client,
  type ClientDuplexStream,
  credentials,
  Server,
  ServerCredentials,
  type ServiceError,
  type StatusObject,
  status,
} from '@grpc/grpc-js';
import {
  createKvClient,
  createKvStub,
  isTaggedByServer,
  KV_ERROR_CODE_KEY,
  KV_SERVICE_DEFINITION,
  KvError,
} from '@tsraft/kv-client';
import {
  GetRequestSchema,
  OpenSessionRequestSchema,
  PutRequestSchema,
  PutResponseSchema,
  ReadConsistency,
  SessionRefSchema,
  type SessionRequest,
  SessionRequestSchema,
  type SessionResponse,
} from '@tsraft/proto';
import { resolveServeConfig } from './config/resolve-serve-config.js';
import type { RequestContext } from './kv-operations.js';
import { type KvServer, startKvServer } from './kv-server.js';
import { createServerMetrics } from './metrics.js';
import { createSessionStreams } from './session-streams.js';
import { freePort } from './test-support/process-cluster.js';

const TEST_TIMEOUT = { timeout: 20_000 };
const SESSION = KV_SERVICE_DEFINITION.Session;
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

/** A member started in this process, and how to stop it. */
interface Member {
  readonly server: KvServer;
  readonly address: string;
  close(): Promise<void>;
}

/**
 * Starts member n1 on a free port with fast ticks: alone (it elects itself; resolves once it leads) or
 * `leaderless` (a second voter that never runs: no leader, ever).
 */
async function startMember(kind: 'alone' | 'leaderless', flags: readonly string[] = []): Promise<Member> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tsraft-session-'));
  const address = `127.0.0.1:${await freePort()}`;
  const peers = kind === 'alone' ? `n1=${address}` : `n1=${address},n2=127.0.0.1:1`;
  const config = await resolveServeConfig(
    [
      ...['--id', 'n1', '--listen', address, '--peers', peers, '--data-dir', path.join(dir, 'n1')],
      ...['--log-level', 'silent', '--tick-interval-ms', '10', ...flags],
    ],
    {},
    dir,
  );
  const server = await startKvServer(config);
  if (kind === 'alone') {
    await new Promise<void>((resolve) => {
      if (server.node.basicStatus().role === 'leader') return resolve();
      const off = server.node.onLeaderChange((leader) => {
        if (leader === 'n1') {
          off();
          resolve();
        }
      });
    });
  }
  return {
    server,
    address,
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A Session stream made by hand: requests as messages or raw bytes, answers as they come. */
class RawSession {
  readonly answers: SessionResponse[] = [];
  /** How the stream ended: its status, with the error's trailer when it failed. */
  readonly ended: Promise<StatusObject>;
  private readonly client: Client;
  private readonly call: ClientDuplexStream<SessionRequest | Buffer, SessionResponse>;
  private waiters: (() => void)[] = [];

  constructor(address: string) {
    this.client = new Client(address, credentials.createInsecure());
    this.call = this.client.makeBidiStreamRequest(
      SESSION.path,
      (message: SessionRequest | Buffer) =>
        Buffer.isBuffer(message) ? message : SESSION.requestSerialize(message),
      SESSION.responseDeserialize,
    );
    let failure: ServiceError | undefined;
    this.call.on('error', (error: ServiceError) => {
      failure = error;
    });
    this.ended = new Promise((resolve) =>
      this.call.on('status', (s: StatusObject) =>
        resolve(failure === undefined ? s : { ...s, metadata: failure.metadata }),
      ),
    );
    this.call.on('data', (response: SessionResponse) => {
      this.answers.push(response);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  send(id: bigint, request: SessionRequest['request'], timeoutMs = 0): void {
    this.call.write(create(SessionRequestSchema, { id, timeoutMs, request }));
  }

  sendRaw(bytes: Buffer): void {
    this.call.write(bytes);
  }

  /** The answer to request `id`, once it came. */
  async answerTo(id: bigint): Promise<SessionResponse> {
    for (;;) {
      const found = this.answers.find((a) => a.id === id);
      if (found !== undefined) return found;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  halfClose(): void {
    this.call.end();
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

const put = (key: string, value = 'v') => ({
  case: 'put' as const,
  value: create(PutRequestSchema, { key: bytes(key), value: bytes(value) }),
});
const staleGet = (key: string) => ({
  case: 'get' as const,
  value: create(GetRequestSchema, { key: bytes(key), consistency: ReadConsistency.STALE }),
});

/** The error answer of `response`, as a KvError. */
function errorOf(response: SessionResponse): KvError {
  assert.equal(response.response.case, 'error', `answer ${response.id} is not an error`);
  return KvError.from(response.response.value);
}

async function rejection(promise: Promise<unknown>): Promise<KvError> {
  try {
    await promise;
  } catch (error) {
    return KvError.from(error);
  }
  assert.fail('expected a rejection');
}

/** What two errors must agree on to be "the same error". */
const shape = (e: KvError) => [
  e.code,
  e.grpcCode,
  e.message,
  e.retryable,
  e.outcomeUnknown,
  isTaggedByServer(e),
];

describe('a member that leads alone', () => {
  let member: Member;
  before(async () => {
    member = await startMember('alone');
  });
  after(async () => {
    await member?.close();
  });

  test('the client over the stream and over unary calls see the same store', TEST_TIMEOUT, async () => {
    const streamed = createKvClient({ endpoints: [member.address], calls: 'stream' });
    const unary = createKvClient({ endpoints: [member.address] });
    try {
      await streamed.put('a', '1');
      assert.equal(text(await unary.get('a')), '1');
      await unary.put('b', '2');
      assert.equal(text(await streamed.get('b')), '2');
      assert.deepEqual(await streamed.compareAndSwap('a', '1', '3'), { succeeded: true, value: bytes('3') });
      assert.equal((await streamed.compareAndSwap('a', '1', '4')).succeeded, false);
      assert.equal(await streamed.delete('a'), true);
      assert.equal(await streamed.delete('a'), false);
      assert.equal(await unary.get('a'), undefined);
      // Many at once over the one stream, each answered with its own value.
      const keys = Array.from({ length: 100 }, (_, i) => `many-${i}`);
      await Promise.all(keys.map((key) => streamed.put(key, key)));
      const values = await Promise.all(keys.map((key) => streamed.get(key, { consistency: 'stale' })));
      assert.deepEqual(values.map(text), keys);
    } finally {
      streamed.close();
      unary.close();
    }
  });

  test('each error answer is the error the unary call gives', TEST_TIMEOUT, async () => {
    const unary = createKvStub(member.address);
    const streamed = createKvStub(member.address, { calls: 'stream' });
    const opts = () => ({ deadlineMs: Date.now() + 5_000 });
    try {
      const requests = [
        create(PutRequestSchema, { key: new Uint8Array(0), value: bytes('v') }),
        create(PutRequestSchema, {
          key: bytes('k'),
          value: bytes('v'),
          session: create(SessionRefSchema, { sessionId: 424_242n, sequence: 1n, firstIncomplete: 1n }),
        }),
        create(PutRequestSchema, {
          key: bytes('k'),
          value: bytes('v'),
          session: create(SessionRefSchema, { sessionId: 1n, sequence: 0n }),
        }),
      ];
      const codes: string[] = [];
      for (const request of requests) {
        const viaUnary = await rejection(unary.put(request, opts()));
        const viaStream = await rejection(streamed.put(request, opts()));
        assert.deepEqual(shape(viaStream), shape(viaUnary));
        codes.push(viaStream.code);
      }
      assert.deepEqual(codes, ['INVALID_ARGUMENT', 'SESSION_EXPIRED', 'INVALID_ARGUMENT']);
      // STALE_REQUEST: a sequence the session no longer remembers.
      const opened = await streamed.openSession(create(OpenSessionRequestSchema), opts());
      assert.ok(opened.sessionId > 0n);
      const inSession = (sequence: bigint, firstIncomplete: bigint) =>
        create(PutRequestSchema, {
          key: bytes('s'),
          value: bytes('v'),
          session: create(SessionRefSchema, { sessionId: opened.sessionId, sequence, firstIncomplete }),
        });
      await streamed.put(inSession(2n, 2n), opts());
      const stale = [await rejection(unary.put(inSession(1n, 1n), opts()))];
      stale.push(await rejection(streamed.put(inSession(1n, 1n), opts())));
      assert.equal(stale[1]!.code, 'STALE_REQUEST');
      assert.deepEqual(shape(stale[1]!), shape(stale[0]!));
    } finally {
      unary.close();
      streamed.close();
    }
  });

  test(
    'malformed requests are answered INVALID_ARGUMENT under their id; the stream goes on',
    TEST_TIMEOUT,
    async () => {
      const raw = new RawSession(member.address);
      try {
        const whole = SESSION.requestSerialize(create(SessionRequestSchema, { id: 77n }));
        // Then field 3 (put), claiming 5 bytes of which 1 follows.
        raw.sendRaw(Buffer.concat([whole, Buffer.from([0x1a, 0x05, 0x01])]));
        raw.send(78n, { case: undefined });
        raw.send(79n, put(''));
        raw.send(80n, put('fine', 'yes'));
        assert.equal(errorOf(await raw.answerTo(77n)).code, 'INVALID_ARGUMENT');
        assert.match(errorOf(await raw.answerTo(78n)).message, /names no operation/);
        assert.match(errorOf(await raw.answerTo(79n)).message, /key must not be empty/);
        assert.equal((await raw.answerTo(80n)).response.case, 'put');
        assert.equal(text(member.server.stateMachine.get(bytes('fine'))), 'yes');
      } finally {
        raw.close();
      }
    },
  );

  test(
    'a connection broken under a write fails it like a unary call, and the client retries it exactly once',
    TEST_TIMEOUT,
    async () => {
      const proxy = await cuttableProxy(member.address);
      const kv = createKvClient({ endpoints: [proxy.address], calls: 'stream', timeoutMs: 10_000 });
      const streamStub = createKvStub(proxy.address, { calls: 'stream' });
      const unaryStub = createKvStub(proxy.address);
      try {
        await kv.put('warm-up', 'opens the session and the stream');
        // The write reaches the member and is applied, but its answer is lost with the connection.
        proxy.dropAnswers();
        const swap = kv.compareAndSwap('cut', undefined, 'once');
        await until(() => member.server.stateMachine.get(bytes('cut')) !== undefined);
        proxy.cut();
        // Retried with its sequence over a new stream: answered with its first result. Applied twice, the
        // second swap would fail (the key is no longer absent).
        assert.deepEqual(await swap, { succeeded: true, value: bytes('once') });
        assert.equal(text(await kv.get('cut')), 'once');

        // One attempt alone: the stream's request fails as the unary call does.
        const errors: KvError[] = [];
        for (const [i, stub] of [streamStub, unaryStub].entries()) {
          await stub.get(create(GetRequestSchema, { key: bytes('warm-up') }), {
            deadlineMs: Date.now() + 5_000,
          });
          proxy.dropAnswers();
          const key = `lost-${i}`;
          const attempt = stub.put(create(PutRequestSchema, { key: bytes(key), value: bytes('v') }), {
            deadlineMs: Date.now() + 5_000,
          });
          await until(() => member.server.stateMachine.get(bytes(key)) !== undefined);
          proxy.cut();
          errors.push(await rejection(attempt));
        }
        assert.equal(errors[0]!.code, 'UNAVAILABLE');
        assert.equal(isTaggedByServer(errors[0]!), false, 'untagged: may have been applied');
        assert.deepEqual(shape(errors[0]!).slice(0, 2), shape(errors[1]!).slice(0, 2));
        assert.equal(isTaggedByServer(errors[1]!), false);
        // And the stub recovers on its own.
        await streamStub.put(create(PutRequestSchema, { key: bytes('after'), value: bytes('v') }), {
          deadlineMs: Date.now() + 5_000,
        });
      } finally {
        kv.close();
        streamStub.close();
        unaryStub.close();
        await proxy.close();
      }
    },
  );
});

describe('a member that never has a leader', () => {
  let member: Member;
  before(async () => {
    member = await startMember('leaderless', [
      '--max-stream-inflight-requests',
      '2',
      '--max-inflight-requests',
      '4',
      '--request-timeout-ms',
      '30000',
    ]);
  });
  after(async () => {
    await member?.close();
  });

  test('answers come back as requests finish, under their ids, in any order', TEST_TIMEOUT, async () => {
    const raw = new RawSession(member.address);
    try {
      raw.send(1n, put('slow'), 300);
      raw.send(2n, staleGet('fast'));
      const fast = await raw.answerTo(2n);
      assert.equal(fast.response.case, 'get');
      const slow = await raw.answerTo(1n);
      assert.deepEqual(
        raw.answers.map((a) => a.id),
        [2n, 1n],
      );
      // The request's own budget: no leader within 300 ms.
      assert.equal(errorOf(slow).code, 'DEADLINE_EXCEEDED');
    } finally {
      raw.close();
    }
  });

  test(
    'past its in-flight bound a stream answers RESOURCE_EXHAUSTED; other streams are not affected',
    TEST_TIMEOUT,
    async () => {
      const first = new RawSession(member.address);
      const second = new RawSession(member.address);
      try {
        first.send(1n, put('a'), 1_000);
        first.send(2n, put('b'), 1_000);
        first.send(3n, put('c'), 1_000);
        first.send(4n, staleGet('d'));
        const refused = errorOf(await first.answerTo(3n));
        assert.equal(refused.code, 'RESOURCE_EXHAUSTED');
        assert.match(refused.message, /2 requests in progress on this stream/);
        assert.equal(errorOf(await first.answerTo(4n)).code, 'RESOURCE_EXHAUSTED');
        // Both refusals came before either request in progress ended.
        assert.deepEqual(
          first.answers.map((a) => a.id),
          [3n, 4n],
        );
        second.send(1n, staleGet('d'));
        assert.equal((await second.answerTo(1n)).response.case, 'get');
        // A duplicate of an id in progress is refused under that id.
        first.send(2n, staleGet('e'));
        assert.match(errorOf(await first.answerTo(2n)).message, /already in progress/);
        // Once the two in progress end (their deadline), the stream takes requests again.
        assert.equal(errorOf(await first.answerTo(1n)).code, 'DEADLINE_EXCEEDED');
        await until(() => first.answers.filter((a) => a.id === 2n).length === 2);
        first.send(5n, staleGet('d'));
        assert.equal((await first.answerTo(5n)).response.case, 'get');
      } finally {
        first.close();
        second.close();
      }
    },
  );

  test('a cancelled stream stops its requests and frees their slots at once', TEST_TIMEOUT, async () => {
    const stub = createKvStub(member.address);
    const raw = new RawSession(member.address);
    const staleRead = () =>
      stub.get(create(GetRequestSchema, { key: bytes('x'), consistency: ReadConsistency.STALE }), {
        deadlineMs: Date.now() + 5_000,
      });
    const other = new RawSession(member.address);
    try {
      // Four writes that would wait 30 s for a leader take every slot of the member.
      for (const [session, id] of [
        [raw, 1n],
        [raw, 2n],
        [other, 1n],
        [other, 2n],
      ] as const) {
        session.send(id, put(`k${id}`));
      }
      await until(async () => (await rejection(staleRead())).code === 'RESOURCE_EXHAUSTED');
      const cancelled = Date.now();
      raw.close();
      other.close();
      // The writes notice within one wait for a leader (100 ms), long before their deadline.
      await until(async () => (await staleRead()).found === false);
      assert.ok(Date.now() - cancelled < 5_000, `slots freed after ${Date.now() - cancelled} ms`);
    } finally {
      stub.close();
      raw.close();
      other.close();
    }
  });

  test(
    'the client: a per-request deadline and an abort, then the stream carries on',
    TEST_TIMEOUT,
    async () => {
      const kv = createKvClient({ endpoints: [member.address], calls: 'stream' });
      try {
        const started = Date.now();
        const late = await rejection(kv.get('x', { timeoutMs: 300 }));
        assert.equal(late.code, 'DEADLINE_EXCEEDED');
        assert.ok(Date.now() - started < 3_000);
        const controller = new AbortController();
        const pending = kv.get('x', { signal: controller.signal, timeoutMs: 10_000 });
        setTimeout(() => controller.abort(), 50);
        assert.equal((await rejection(pending)).code, 'CLOSED');
        assert.equal(await kv.get('x', { consistency: 'stale' }), undefined);
      } finally {
        kv.close();
      }
    },
  );
});

test('a graceful shutdown ends open streams with a tagged UNAVAILABLE, promptly', TEST_TIMEOUT, async () => {
  const member = await startMember('alone');
  const raw = new RawSession(member.address);
  try {
    raw.send(1n, staleGet('a'));
    await raw.answerTo(1n);
    const started = Date.now();
    await member.close();
    const ended = await raw.ended;
    assert.equal(ended.code, status.UNAVAILABLE);
    assert.equal(ended.metadata.get(KV_ERROR_CODE_KEY)[0], 'UNAVAILABLE');
    // Not cut off by the transport's 2 s grace period: the stream was ended.
    assert.ok(Date.now() - started < 1_500, `closed in ${Date.now() - started} ms`);
  } finally {
    raw.close();
  }
});

describe('createSessionStreams over operations that end when told', () => {
  let server: Server;
  let address: string;
  let streams: ReturnType<typeof createSessionStreams>;
  /** The operations started, in order, with their context and how to end them. */
  const started: { request: unknown; context: RequestContext; finish: (value: unknown) => void }[] = [];

  before(async () => {
    const operation = (request: unknown, context: RequestContext) =>
      new Promise<never>((resolve) =>
        started.push({ request, context, finish: resolve as (v: unknown) => void }),
      );
    streams = createSessionStreams({
      nodeId: 'n1',
      operations: {
        put: operation,
        get: operation,
        delete: operation,
        compareAndSwap: operation,
        openSession: operation,
        status: operation as never,
        close: () => {},
      },
      run: (_method, request, context, op) => op(request, context),
      requestTimeoutMs: 5_000,
      maxInflightPerStream: 16,
      metrics: createServerMetrics('n1'),
    });
    server = new Server();
    server.addService(KV_SERVICE_DEFINITION, { Session: streams.handle });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    address = `127.0.0.1:${port}`;
  });
  after(() => server.forceShutdown());

  test('a half-closed stream ends with OK once its last request is answered', TEST_TIMEOUT, async () => {
    const raw = new RawSession(address);
    raw.send(1n, put('a'));
    raw.halfClose();
    await until(() => started.length === 1);
    assert.equal(streams.open, 1);
    started[0]!.finish(create(PutResponseSchema));
    await raw.answerTo(1n);
    assert.equal((await raw.ended).code, status.OK);
    raw.close();
    assert.equal(streams.open, 0);
  });

  test(
    'close() answers requests in progress (writes OUTCOME_UNKNOWN, reads UNAVAILABLE), ends the streams, refuses new ones',
    TEST_TIMEOUT,
    async () => {
      started.length = 0;
      const raw = new RawSession(address);
      raw.send(1n, put('a'));
      raw.send(2n, staleGet('b'));
      await until(() => started.length === 2);
      await streams.close();
      assert.equal(errorOf(await raw.answerTo(1n)).code, 'OUTCOME_UNKNOWN');
      assert.equal(errorOf(await raw.answerTo(2n)).code, 'UNAVAILABLE');
      const ended = await raw.ended;
      assert.equal(ended.code, status.UNAVAILABLE);
      assert.equal(ended.metadata.get(KV_ERROR_CODE_KEY)[0], 'UNAVAILABLE');
      // The work of the ended stream is told to stop.
      assert.ok(started.every((s) => s.context.signal?.aborted === true));
      const late = new RawSession(address);
      const lateEnd = await late.ended;
      assert.equal(lateEnd.code, status.UNAVAILABLE);
      assert.equal(late.answers.length, 0);
      raw.close();
      late.close();
    },
  );
});

/** Polls `check` every 10 ms until it holds; fails after 10 s. */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    assert.ok(Date.now() < deadline, 'condition not met within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A TCP relay to `target` whose connections can be cut, and whose answers (server to client) can be dropped. */
async function cuttableProxy(target: string): Promise<{
  readonly address: string;
  dropAnswers(): void;
  cut(): void;
  close(): Promise<void>;
}> {
  const [host, port] = [
    target.slice(0, target.lastIndexOf(':')),
    Number(target.slice(target.lastIndexOf(':') + 1)),
  ];
  const sockets = new Set<Socket>();
  let dropping = false;
  const relay = createServer((inbound) => {
    const outbound = connect(port, host);
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    }
    inbound.pipe(outbound);
    outbound.on('data', (chunk) => {
      if (!dropping) inbound.write(chunk);
    });
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const address = relay.address();
  const relayPort = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    address: `127.0.0.1:${relayPort}`,
    dropAnswers: () => {
      dropping = true;
    },
    cut: () => {
      for (const socket of sockets) socket.destroy();
      dropping = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        relay.close(() => resolve());
      }),
  };
}
