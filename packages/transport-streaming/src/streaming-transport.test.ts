import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { type Message, type NodeId, SnapshotData } from '@tsraft/core';
import { createRaftServer, type GrpcLogger } from '@tsraft/grpc';
import { createStreamingTransport, type StreamingTransport } from './streaming-transport.js';
import type { StreamingTransportOptions } from './streaming-transport-options.js';
import {
  append,
  freePort,
  freezableProxy,
  heartbeat,
  type Listening,
  listen,
  type Recorder,
  recorder,
  until,
} from './test-support/harness.js';

type Overrides = Partial<Omit<StreamingTransportOptions, 'id' | 'peers'>>;

interface TestNode {
  readonly id: NodeId;
  transport: StreamingTransport;
  inbox: Recorder;
  server: Listening;
}

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const FAST: Overrides = { reconnectBaseMs: 20, reconnectMaxMs: 200, closeTimeoutMs: 300 };

async function startNode(
  id: NodeId,
  peers: Record<NodeId, string>,
  port: number,
  overrides: Overrides = {},
): Promise<TestNode> {
  const transport = createStreamingTransport({ id, clusterId: 'test', peers, ...FAST, ...overrides });
  const server = await listen(transport, id, { port });
  const inbox = recorder();
  await transport.start(inbox);
  const node = { id, transport, inbox, server };
  cleanups.push(() => node.server.stop());
  return node;
}

async function cluster(ids: readonly NodeId[], overrides: Overrides = {}): Promise<TestNode[]> {
  const ports = await Promise.all(ids.map(() => freePort()));
  const peers = Object.fromEntries(ids.map((id, i) => [id, `127.0.0.1:${ports[i]}`]));
  return Promise.all(ids.map((id, i) => startNode(id, peers, ports[i]!, overrides)));
}

const commits = (messages: readonly Message[]): number[] =>
  messages.map((m) => (m.type === 'append' ? m.entries[0]!.index : -1));

test('messages arrive in order, both ways, batched into few frames', async () => {
  const [a, b] = await cluster(['a', 'b']);
  const count = 3_000;
  for (let i = 1; i <= count; i++) a!.transport.send(append('a', 'b', i, 16));
  for (let i = 1; i <= 10; i++) b!.transport.send(append('b', 'a', i, 16));
  await until(() => b!.inbox.messages.length === count && a!.inbox.messages.length === 10, 5_000, 'delivery');
  assert.deepEqual(
    commits(b!.inbox.messages),
    Array.from({ length: count }, (_, i) => i + 1),
  );
  assert.deepEqual(
    commits(a!.inbox.messages),
    Array.from({ length: 10 }, (_, i) => i + 1),
  );
  const first = b!.inbox.messages[0]!;
  assert.equal(first.type, 'append');
  assert.deepEqual(first.type === 'append' ? [...first.entries[0]!.data] : [], new Array(16).fill(1));
  const stats = a!.transport.stats().get('b')!;
  assert.equal(stats.sentMessages, count);
  assert.ok(stats.sentFrames <= 10, `${stats.sentFrames} frames for ${count} messages sent in one turn`);
  await until(() => a!.transport.stats().get('b')!.unackedFrames === 0, 2_000, 'acks');
  assert.equal(stats.droppedMessages, 0);
  assert.deepEqual(a!.inbox.unreachable, []);
  await Promise.all([a!.server.stop(), b!.server.stop()]);
});

test('a snapshot larger than a chunk travels in pieces and arrives whole, in order', async () => {
  const [a, b] = await cluster(['a', 'b'], { snapshotChunkBytes: 1_000 });
  const data = new Uint8Array(10_500).map((_, i) => i % 256);
  a!.transport.send(append('a', 'b', 1, 8));
  a!.transport.send({
    type: 'snapshot',
    from: 'a',
    to: 'b',
    // The appends' term: messages of a lower term than one queued after them would be dropped as obsolete.
    term: 1,
    snapshot: {
      meta: { index: 7, term: 1, conf: { voters: ['a', 'b'], learners: [] } },
      data: SnapshotData.fromChunks([data.subarray(0, 2_500), data.subarray(2_500)]),
    },
  });
  a!.transport.send(append('a', 'b', 8, 8));
  await until(() => b!.inbox.messages.length === 3, 5_000, 'snapshot');
  assert.deepEqual(
    b!.inbox.messages.map((m) => m.type),
    ['append', 'snapshot', 'append'],
  );
  const snapshot = b!.inbox.messages[1]!;
  assert.ok(snapshot.type === 'snapshot');
  assert.equal(snapshot.snapshot.meta.index, 7);
  assert.deepEqual([...snapshot.snapshot.data.toBytes()], [...data]);
  assert.ok([...snapshot.snapshot.data.chunks()].length > 1, 'the pieces were not joined');
  assert.ok(a!.transport.stats().get('b')!.sentFrames >= 11);
  await Promise.all([a!.server.stop(), b!.server.stop()]);
});

test('a peer that goes down is reported unreachable, and is found again when it comes back', async () => {
  const [a, b] = await cluster(['a', 'b']);
  a!.transport.send(heartbeat('a', 'b', 1));
  await until(() => b!.inbox.messages.length === 1, 5_000, 'first delivery');
  const port = b!.server.port;
  await b!.server.stop();
  // Raft keeps sending; the session notices the stream ended, drops, reports, and backs off.
  await until(
    () => {
      a!.transport.send(heartbeat('a', 'b', 2));
      return a!.inbox.unreachable.includes('b');
    },
    5_000,
    'unreachable report',
  );
  assert.ok(a!.transport.stats().get('b')!.droppedMessages > 0);
  const revived = await startNode('b', { a: a!.server.address }, port);
  await until(() => a!.transport.stats().get('b')!.state === 'open', 5_000, 'reconnect');
  a!.transport.send(heartbeat('a', 'b', 3));
  await until(() => revived.inbox.messages.length >= 1, 5_000, 'delivery after reconnect');
  assert.deepEqual(revived.inbox.messages.at(-1), heartbeat('a', 'b', 3));
  assert.ok(a!.transport.stats().get('b')!.streamsStarted >= 2);
  await Promise.all([a!.server.stop(), revived.server.stop()]);
});

/** A Raft server whose Stream handler accepts streams but never reads them: a peer that stopped consuming. */
async function stalledPeer(): Promise<{ address: string; close: () => Promise<void> }> {
  const noop = (): void => {};
  const server = await createRaftServer({
    listen: '127.0.0.1:0',
    clusterId: 'test',
    nodeId: 'b',
    members: () => true,
    shutdownGraceMs: 100,
    logger: { debug: noop, info: noop, warn: noop, error: noop } as unknown as GrpcLogger,
    handlers: {
      Stream: (call) => {
        call.on('error', noop);
        call.sendMetadata(new Metadata());
        call.pause();
      },
    },
  });
  return { address: server.address, close: () => server.close() };
}

test('a slow peer never grows the queue past its bounds: new messages are dropped and reported', async () => {
  const peer = await stalledPeer();
  const transport = createStreamingTransport({
    id: 'a',
    clusterId: 'test',
    peers: { b: peer.address },
    ...FAST,
    ackTimeoutMs: 0,
    maxQueuedMessages: 500,
    maxQueuedBytes: 256 * 1024,
    maxBatchBytes: 64 * 1024,
  });
  const inbox = recorder();
  await transport.start(inbox);
  let maxQueuedBytes = 0;
  let maxQueuedMessages = 0;
  // 40 MiB offered in 1 KiB appends, more than the HTTP/2 windows and every buffer can hold.
  for (let round = 0; round < 200; round++) {
    for (let i = 0; i < 200; i++) transport.send(append('a', 'b', round * 200 + i + 1, 1_024));
    const s = transport.stats().get('b')!;
    maxQueuedBytes = Math.max(maxQueuedBytes, s.queuedBytes);
    maxQueuedMessages = Math.max(maxQueuedMessages, s.queuedMessages);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const stats = transport.stats().get('b')!;
  assert.ok(maxQueuedBytes <= 256 * 1024, `queued ${maxQueuedBytes} bytes`);
  assert.ok(maxQueuedMessages <= 500);
  assert.ok(stats.droppedMessages > 10_000, `dropped ${stats.droppedMessages}`);
  assert.ok(stats.sentMessages < 40_000);
  assert.equal(stats.state, 'open');
  await until(() => inbox.unreachable.includes('b'), 1_000, 'unreachable report');
  const started = performance.now();
  await transport.close();
  assert.ok(performance.now() - started < 2_000, 'close gives up draining at its deadline');
  await peer.close();
});

test('a peer that accepts the stream but stops acknowledging is reset by the acknowledgement timeout', async () => {
  const peer = await stalledPeer();
  const transport = createStreamingTransport({
    id: 'a',
    clusterId: 'test',
    peers: { b: peer.address },
    ...FAST,
    ackTimeoutMs: 200,
  });
  const inbox = recorder();
  await transport.start(inbox);
  transport.send(heartbeat('a', 'b', 1));
  await until(() => transport.stats().get('b')!.streamsStarted >= 2, 3_000, 'a new stream');
  assert.match(transport.stats().get('b')!.lastError ?? '', /acknowledgement/);
  await until(() => inbox.unreachable.includes('b'), 1_000, 'unreachable report');
  await transport.close();
  await peer.close();
});

test('a dead peer (connection silent, socket open) is detected by keep-alive PINGs', async () => {
  const port = await freePort();
  const b = await startNode('b', {}, port);
  const proxy = await freezableProxy(port);
  const transport = createStreamingTransport({
    id: 'a',
    clusterId: 'test',
    peers: { b: proxy.address },
    ...FAST,
    ackTimeoutMs: 0,
    keepaliveIntervalMs: 100,
    keepaliveTimeoutMs: 200,
  });
  const inbox = recorder();
  await transport.start(inbox);
  transport.send(heartbeat('a', 'b', 1));
  await until(() => b.inbox.messages.length === 1, 5_000, 'first delivery');
  proxy.freeze();
  const frozenAt = performance.now();
  await until(
    () => transport.stats().get('b')!.state === 'backoff' || transport.stats().get('b')!.streamsStarted > 1,
    5_000,
    'keep-alive failure',
  );
  const detectedMs = performance.now() - frozenAt;
  assert.ok(detectedMs < 2_000, `detected after ${detectedMs} ms`);
  assert.match(transport.stats().get('b')!.lastError ?? '', /UNAVAILABLE/);
  await transport.close();
  await proxy.close();
  await b.server.stop();
});

test('closing during traffic finishes within the deadline, on both sides, and later sends are ignored', async () => {
  const [a, b] = await cluster(['a', 'b'], { closeTimeoutMs: 500 });
  let running = true;
  let index = 0;
  const pump = (async () => {
    while (running) {
      for (let i = 0; i < 100; i++) {
        index++;
        a!.transport.send(append('a', 'b', index, 256));
        b!.transport.send(append('b', 'a', index, 256));
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  await until(() => b!.inbox.messages.length > 1_000, 5_000, 'traffic');
  const started = performance.now();
  await Promise.all([a!.server.stop(), b!.server.stop()]);
  assert.ok(performance.now() - started < 3_000);
  const received = b!.inbox.messages.length;
  a!.transport.send(append('a', 'b', 1, 1));
  running = false;
  await pump;
  assert.equal(b!.inbox.messages.length, received);
  assert.deepEqual(
    commits(b!.inbox.messages),
    Array.from({ length: received }, (_, i) => i + 1),
    'what arrived before the close arrived in order',
  );
});

test('a node of another cluster is refused: nothing is delivered and the peer is reported unreachable', async () => {
  const port = await freePort();
  const b = await startNode('b', {}, port);
  const stranger = createStreamingTransport({
    id: 'a',
    clusterId: 'other',
    peers: { b: `127.0.0.1:${port}` },
    ...FAST,
  });
  const inbox = recorder();
  await stranger.start(inbox);
  await until(
    () => {
      stranger.send(heartbeat('a', 'b', 1));
      return inbox.unreachable.includes('b');
    },
    5_000,
    'refusal',
  );
  assert.match(stranger.stats().get('b')!.lastError ?? '', /FAILED_PRECONDITION/);
  assert.equal(b.inbox.messages.length, 0);
  await stranger.close();
  await b.server.stop();
});

test('options are checked', () => {
  assert.throws(
    () =>
      createStreamingTransport({
        id: 'a',
        clusterId: 'c',
        peers: {},
        reconnectBaseMs: 10,
        reconnectMaxMs: 5,
      }),
    /reconnectMaxMs/,
  );
  assert.throws(
    () => createStreamingTransport({ id: 'a', clusterId: 'c', peers: {}, maxQueuedBytes: 0 }),
    /maxQueuedBytes/,
  );
  assert.throws(() => createStreamingTransport({ id: 'a', clusterId: '', peers: {} }), /clusterId/);
});
