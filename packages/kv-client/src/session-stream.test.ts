// The Session stream from the client's side, against a scripted grpc-js server that answers when and how a
// test says: out of order, late, malformed, or not at all before ending the stream.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import {
  Server,
  ServerCredentials,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type StatusObject,
  type sendUnaryData,
  status,
} from '@grpc/grpc-js';
import {
  GetRequestSchema,
  GetResponseSchema,
  OpenSessionResponseSchema,
  PutRequestSchema,
  PutResponseSchema,
  type SessionRequest,
  type SessionResponse,
  SessionResponseSchema,
} from '@tsraft/proto';
import { createKvClient } from './kv-client.js';
import { isTaggedByServer, KvError } from './kv-error.js';
import { KV_SERVICE_DEFINITION } from './kv-service.js';
import { createKvStub, type KvStub } from './kv-stub.js';

const TEST_TIMEOUT = { timeout: 10_000 };
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

// Responses are messages, or raw bytes for a malformed answer (see `definition`).
type SessionCall = ServerDuplexStream<SessionRequest, SessionResponse | Buffer>;

/** A request the scripted server received, and the stream it came on. */
interface Received {
  readonly call: SessionCall;
  readonly request: SessionRequest;
}

/** The scripted server: it answers nothing by itself; tests answer through `answer` and `end`. */
let server: Server;
let address: string;
let streams: SessionCall[];
let received: Received[];
let onReceived: (() => void) | undefined;
/** How the unary Put of the scripted server ends. */
let unaryPut: (callback: sendUnaryData<unknown>) => void;

/** The KV service, whose Session stream may also write raw bytes (a malformed answer). */
const SESSION = KV_SERVICE_DEFINITION.Session;
const definition = {
  ...KV_SERVICE_DEFINITION,
  Session: {
    ...SESSION,
    responseSerialize: (value: SessionResponse | Buffer) =>
      Buffer.isBuffer(value) ? value : SESSION.responseSerialize(value),
  },
};

beforeEach(async () => {
  streams = [];
  received = [];
  onReceived = undefined;
  unaryPut = (callback) => callback(null, create(PutResponseSchema));
  server = new Server();
  server.addService(definition, {
    Session: (call: SessionCall) => {
      call.on('error', () => {});
      streams.push(call);
      call.on('data', (request: SessionRequest) => {
        received.push({ call, request });
        onReceived?.();
      });
    },
    Put: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => unaryPut(callback),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  address = `127.0.0.1:${port}`;
});

afterEach(() => {
  server.forceShutdown();
});

/** Resolves once the server has received `count` requests in all. */
function receivedCount(count: number): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (received.length >= count) resolve();
    };
    onReceived = check;
    check();
  });
}

function answer(at: Received, response: SessionResponse['response']): void {
  at.call.write(create(SessionResponseSchema, { id: at.request.id, response }));
}

const put = (key: string) => create(PutRequestSchema, { key: bytes(key), value: bytes('v') });
const get = (key: string) => create(GetRequestSchema, { key: bytes(key) });
const soon = (ms = 5_000) => ({ deadlineMs: Date.now() + ms });

async function rejection(promise: Promise<unknown>): Promise<KvError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof KvError, `not a KvError: ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

/** Runs `body` with a stream stub to the scripted server, closed afterwards. */
async function withStub(body: (stub: KvStub) => Promise<void>): Promise<void> {
  const stub = createKvStub(address, { calls: 'stream' });
  try {
    await body(stub);
  } finally {
    stub.close();
  }
}

test('answers that come back in any order reach their own requests, over one stream', TEST_TIMEOUT, () =>
  withStub(async (stub) => {
    const a = stub.get(get('a'), soon());
    const b = stub.put(put('b'), soon());
    const c = stub.get(get('c'), soon());
    await receivedCount(3);
    assert.equal(streams.length, 1);
    const ids = received.map((r) => r.request.id);
    assert.equal(new Set(ids).size, 3, `distinct ids: ${ids.join(',')}`);
    assert.deepEqual(
      received.map((r) => r.request.request.case),
      ['get', 'put', 'get'],
    );
    // Answer the last first, the first last.
    const [ra, rb, rc] = received as [Received, Received, Received];
    answer(rc, { case: 'get', value: create(GetResponseSchema, { found: true, value: bytes('for c') }) });
    assert.equal(text((await c).value), 'for c');
    answer(rb, { case: 'put', value: create(PutResponseSchema) });
    await b;
    answer(ra, { case: 'get', value: create(GetResponseSchema, { found: true, value: bytes('for a') }) });
    assert.equal(text((await a).value), 'for a');
    // Each request carried its deadline as a budget.
    for (const r of received) assert.ok(r.request.timeoutMs > 4_000 && r.request.timeoutMs <= 5_000);
  }),
);

test('an error answer rejects its request as the unary call would; the stream goes on', TEST_TIMEOUT, () =>
  withStub(async (stub) => {
    const failing = stub.put(put('a'), soon());
    await receivedCount(1);
    answer(received[0]!, { case: 'error', value: new KvError('NOT_LEADER', 'ask n2').toRequestError() });
    const error = await rejection(failing);
    assert.equal(error.code, 'NOT_LEADER');
    assert.equal(error.reason, 'ask n2');
    assert.equal(error.grpcCode, status.UNAVAILABLE);
    assert.equal(isTaggedByServer(error), true);
    // The unary call refused the same way gives the same error.
    unaryPut = (callback) => callback(new KvError('NOT_LEADER', 'ask n2').toStatus());
    const unary = createKvStub(address);
    try {
      const viaUnary = await rejection(unary.put(put('a'), { ...soon(), metadata: {} }));
      assert.deepEqual(
        [
          viaUnary.code,
          viaUnary.message,
          viaUnary.retryable,
          viaUnary.outcomeUnknown,
          isTaggedByServer(viaUnary),
        ],
        [error.code, error.message, error.retryable, error.outcomeUnknown, true],
      );
    } finally {
      unary.close();
    }
    // An answer of another kind is a bug on the server's side.
    const wrong = stub.get(get('b'), soon());
    await receivedCount(2);
    answer(received[1]!, { case: 'put', value: create(PutResponseSchema) });
    assert.equal((await rejection(wrong)).code, 'INTERNAL');
    assert.equal(streams.length, 1);
  }),
);

test('a call given metadata goes unary: stream metadata is per stream', TEST_TIMEOUT, () =>
  withStub(async (stub) => {
    let unaryCalls = 0;
    unaryPut = (callback) => {
      unaryCalls++;
      callback(null, create(PutResponseSchema));
    };
    await stub.put(put('a'), { ...soon(), metadata: { 'tsraft-forwarded-by': 'n1' } });
    assert.equal(unaryCalls, 1);
    assert.equal(streams.length, 0);
  }),
);

test('a request past its deadline rejects DEADLINE_EXCEEDED; its late answer is dropped', TEST_TIMEOUT, () =>
  withStub(async (stub) => {
    const late = stub.get(get('late'), soon(100));
    await receivedCount(1);
    const error = await rejection(late);
    assert.equal(error.code, 'DEADLINE_EXCEEDED');
    assert.equal(isTaggedByServer(error), false);
    // The answer comes after all; the next request still gets its own.
    answer(received[0]!, {
      case: 'get',
      value: create(GetResponseSchema, { found: true, value: bytes('late') }),
    });
    const next = stub.get(get('next'), soon());
    await receivedCount(2);
    answer(received[1]!, {
      case: 'get',
      value: create(GetResponseSchema, { found: true, value: bytes('next') }),
    });
    assert.equal(text((await next).value), 'next');
    assert.equal(streams.length, 1);
  }),
);

test('aborting a request rejects it with CLOSED and leaves the others alone', TEST_TIMEOUT, () =>
  withStub(async (stub) => {
    const controller = new AbortController();
    const aborted = stub.put(put('a'), { ...soon(), signal: controller.signal });
    const other = stub.put(put('b'), soon());
    await receivedCount(2);
    controller.abort(new Error('changed my mind'));
    assert.equal((await rejection(aborted)).code, 'CLOSED');
    answer(received[1]!, { case: 'put', value: create(PutResponseSchema) });
    await other;
    const already = new AbortController();
    already.abort();
    assert.equal((await rejection(stub.put(put('c'), { ...soon(), signal: already.signal }))).code, 'CLOSED');
  }),
);

/** Ends every stream the server has open with `s`. */
function endStreams(s: Partial<StatusObject>): void {
  for (const call of streams) call.emit('error', s);
}

test(
  'a stream a tsraft server ends fails its unanswered requests with that status (never read, so not applied); the next request opens a new stream',
  TEST_TIMEOUT,
  () =>
    withStub(async (stub) => {
      const answered = stub.put(put('a'), soon());
      const unanswered = stub.put(put('b'), soon());
      await receivedCount(2);
      answer(received[0]!, { case: 'put', value: create(PutResponseSchema) });
      const s = new KvError('UNAVAILABLE', 'n1 is shutting down').toStatus();
      endStreams({ code: s.code, details: s.details, metadata: s.metadata });
      // The answer written before the status still arrives.
      await answered;
      const error = await rejection(unanswered);
      assert.equal(error.code, 'UNAVAILABLE');
      assert.equal(isTaggedByServer(error), true);
      // Lazily reopened.
      const next = stub.get(get('c'), soon());
      await receivedCount(3);
      assert.equal(streams.length, 2);
      assert.equal(received[2]!.call, streams[1]);
      answer(received[2]!, { case: 'get', value: create(GetResponseSchema) });
      assert.equal((await next).found, false);
    }),
);

test(
  'a stream broken without a tsraft status fails its requests as a broken unary call would',
  TEST_TIMEOUT,
  () =>
    withStub(async (stub) => {
      const inFlight = stub.put(put('a'), soon());
      await receivedCount(1);
      endStreams({ code: status.UNAVAILABLE, details: 'connection reset' });
      const error = await rejection(inFlight);
      unaryPut = (callback) => callback({ code: status.UNAVAILABLE, details: 'connection reset' });
      const unary = createKvStub(address);
      try {
        const viaUnary = await rejection(unary.put(put('a'), soon()));
        assert.deepEqual(
          [error.code, error.retryable, error.outcomeUnknown, isTaggedByServer(error)],
          [viaUnary.code, viaUnary.retryable, viaUnary.outcomeUnknown, isTaggedByServer(viaUnary)],
        );
        assert.equal(isTaggedByServer(error), false);
      } finally {
        unary.close();
      }
    }),
);

test('a malformed answer fails the requests of its stream with INTERNAL', TEST_TIMEOUT, () =>
  withStub(async (stub) => {
    const a = stub.get(get('a'), soon());
    const b = stub.get(get('b'), soon());
    await receivedCount(2);
    // Field 1 (id), a varint that never ends.
    received[0]!.call.write(Buffer.from([0x08, 0xff]));
    assert.equal((await rejection(a)).code, 'INTERNAL');
    assert.equal((await rejection(b)).code, 'INTERNAL');
    // A new stream for what comes next.
    const c = stub.get(get('c'), soon());
    await receivedCount(3);
    assert.equal(streams.length, 2);
    answer(received[2]!, { case: 'get', value: create(GetResponseSchema) });
    await c;
  }),
);

test('close() fails the requests in flight with CLOSED and cancels the stream', TEST_TIMEOUT, async () => {
  const stub = createKvStub(address, { calls: 'stream' });
  const inFlight = stub.put(put('a'), soon());
  await receivedCount(1);
  const cancelled = new Promise<void>((resolve) => streams[0]!.on('cancelled', () => resolve()));
  stub.close();
  assert.equal((await rejection(inFlight)).code, 'CLOSED');
  await cancelled;
  assert.equal((await rejection(stub.get(get('b'), soon()))).code, 'CLOSED');
  stub.close();
});

test(
  'the client over a stream: a write cut off by a tagged end is not applied, by a broken stream may be',
  TEST_TIMEOUT,
  async () => {
    const kv = createKvClient({ endpoints: [address], calls: 'stream', timeoutMs: 600 });
    try {
      // Answer OpenSession; keep every Put unanswered, and end its stream as the test says.
      let ending: Partial<StatusObject> = {};
      onReceived = () => {
        const last = received.at(-1)!;
        if (last.request.request.case === 'openSession') {
          answer(last, { case: 'openSession', value: create(OpenSessionResponseSchema, { sessionId: 7n }) });
        } else {
          last.call.emit('error', ending);
        }
      };
      const s = new KvError('UNAVAILABLE', 'shutting down').toStatus();
      ending = { code: s.code, details: s.details, metadata: s.metadata };
      const refused = await rejection(kv.put('a', 'v'));
      assert.equal(refused.code, 'DEADLINE_EXCEEDED');
      assert.equal(refused.outcomeUnknown, false, 'never read by the server: not applied');
      ending = { code: status.UNAVAILABLE, details: 'connection reset' };
      const broken = await rejection(kv.put('b', 'v'));
      assert.equal(broken.code, 'DEADLINE_EXCEEDED');
      assert.equal(broken.outcomeUnknown, true, 'the connection broke with the write on it');
      // Every attempt reopened a stream and reused the write's sequence.
      const puts = received.filter((r) => r.request.request.case === 'put');
      assert.ok(streams.length >= puts.length, `${streams.length} streams for ${puts.length} attempts`);
      const sequences = new Set(
        puts.map((r) => {
          const value = r.request.request.value as { session?: { sequence: bigint } };
          return `${text((value as { key: Uint8Array }).key)}#${value.session?.sequence}`;
        }),
      );
      assert.deepEqual([...sequences].sort(), ['a#1', 'b#2']);
    } finally {
      kv.close();
    }
  },
);
