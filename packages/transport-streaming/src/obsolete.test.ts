import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { Metadata } from '@grpc/grpc-js';
import { fromProtoMessage } from '@tsraft/codec';
import { type Message, SnapshotData } from '@tsraft/core';
import { createRaftServer, type GrpcLogger } from '@tsraft/grpc';
import { type RaftMessage, StreamResponseSchema } from '@tsraft/proto';
import { supersedingTerm } from './obsolete.js';
import { createPeerQueue, type QueuedMessage } from './peer-queue.js';
import { createStreamingTransport, type StreamingTransport } from './streaming-transport.js';
import { append, heartbeat, recorder, until } from './test-support/harness.js';

const noop = (): void => {};
const silentLogger = { debug: noop, info: noop, warn: noop, error: noop } as unknown as GrpcLogger;
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** An append at `index` of `term` (the harness's are all of term 1). */
function appendOf(index: number, term: number): Message {
  const m = append('a', 'b', index, 4);
  return m.type === 'append' ? { ...m, term } : m;
}

function preVote(term: number): Message {
  return {
    type: 'vote',
    from: 'a',
    to: 'b',
    term,
    preVote: true,
    lastLogIndex: 1,
    lastLogTerm: 1,
    leadershipTransfer: false,
  };
}

/**
 * Peer `b`: a Raft server whose Stream handler records every message it reads and acknowledges frames only
 * when told to, so with a small unacknowledged-bytes window the sender queues behind the first frame.
 */
async function ackingPeer() {
  const received: RaftMessage[] = [];
  let owed = 0;
  let ack: (() => void) | null = null;
  let autoAck = false;
  const server = await createRaftServer({
    listen: '127.0.0.1:0',
    clusterId: 'test',
    nodeId: 'b',
    members: () => true,
    shutdownGraceMs: 100,
    logger: silentLogger,
    handlers: {
      Stream: (call) => {
        call.on('error', noop);
        call.sendMetadata(new Metadata());
        ack = () => {
          for (; owed > 0; owed--) call.write(create(StreamResponseSchema, { messages: [] }));
        };
        call.on('data', (request: { messages: RaftMessage[] }) => {
          received.push(...request.messages);
          owed++;
          if (autoAck) ack?.();
        });
      },
    },
  });
  cleanups.push(() => server.close());
  return {
    address: server.address,
    received,
    /** Acknowledges every frame read so far, and from now on every frame as it is read. */
    release: () => {
      autoAck = true;
      ack?.();
    },
    /** The messages read, in core's form (snapshot pieces as they are). */
    messages: (): Message[] =>
      received.filter((m) => m.body.case !== 'installSnapshot').map((m) => fromProtoMessage(m).message),
    pieces: () => received.filter((m) => m.body.case === 'installSnapshot').length,
  };
}

async function sender(address: string, dropObsoleteMessages = true) {
  const transport: StreamingTransport = createStreamingTransport({
    id: 'a',
    clusterId: 'test',
    peers: { b: address },
    reconnectBaseMs: 20,
    reconnectMaxMs: 200,
    closeTimeoutMs: 300,
    ackTimeoutMs: 0,
    // One frame at a time: the next waits for the peer's acknowledgement.
    maxUnackedBytes: 1,
    snapshotChunkBytes: 1_000,
    dropObsoleteMessages,
  });
  const inbox = recorder();
  await transport.start(inbox);
  cleanups.push(() => transport.close());
  await until(() => transport.stats().get('b')?.state === 'open', 5_000, 'the stream');
  return { transport, inbox, stats: () => transport.stats().get('b')! };
}

const describe = (messages: readonly Message[]): string[] =>
  messages.map((m) =>
    m.type === 'append' ? `append@${m.term}#${m.entries[0]!.index}` : `${m.type}@${m.term}`,
  );

test('the rule leaves pre-vote messages out and takes every other term as it is', () => {
  assert.equal(supersedingTerm(preVote(9)), null);
  assert.equal(
    supersedingTerm({ type: 'voteResponse', from: 'a', to: 'b', term: 9, preVote: true, granted: true }),
    null,
  );
  assert.equal(supersedingTerm({ ...appendOf(1, 0) }), 0);
  assert.equal(supersedingTerm(heartbeat('a', 'b', 1, 5)), 5);
});

test('the queue drops the messages of a lower term, keeping pre-vote ones and closing a snapshot', () => {
  const queue = createPeerQueue({ maxMessages: 10, maxBytes: 10_000 });
  let closed = false;
  const pieces: Iterator<RaftMessage> = {
    next: () => ({ done: true, value: undefined }),
    return: () => {
      closed = true;
      return { done: true, value: undefined };
    },
  };
  const item = (term: number, currentTerm = true): QueuedMessage => ({
    type: 'heartbeat',
    term,
    bytes: 10,
    proto: undefined as unknown as RaftMessage,
    ...(currentTerm ? {} : { currentTerm: false }),
  });
  queue.push(item(2), false);
  queue.push({ type: 'snapshot', term: 2, bytes: 500, byteLength: 400, pieces }, false);
  queue.push(item(9, false), false);
  queue.push(item(3), false);
  queue.push(item(4), false);
  assert.equal(queue.dropBelow(3), 2);
  assert.ok(closed, 'the dropped snapshot was closed');
  assert.equal(queue.size, 3);
  assert.equal(queue.bytes, 30);
  assert.deepEqual(
    queue.take(10, 10_000).map((m) => m.term),
    [9, 3, 4],
  );
  // The snapshot slot is free again.
  assert.equal(
    queue.push({ type: 'snapshot', term: 5, bytes: 50_000, byteLength: 1, pieces }, false),
    'queued',
  );
});

test('a higher term drops the queued lower-term messages; what was written stays; nothing is reported', {
  timeout: 15_000,
}, async () => {
  const peer = await ackingPeer();
  const a = await sender(peer.address);
  a.transport.send(appendOf(1, 2));
  await until(() => peer.received.length === 1, 5_000, 'the first frame');
  // Unacknowledged: these wait in the queue.
  for (let i = 2; i <= 5; i++) a.transport.send(appendOf(i, 2));
  await sleep(20);
  assert.equal(a.stats().queuedMessages, 4);
  a.transport.send(appendOf(6, 3));
  assert.equal(a.stats().queuedMessages, 1);
  peer.release();
  await until(() => peer.received.length === 2, 5_000, 'the term-3 message');
  await sleep(100);
  assert.deepEqual(describe(peer.messages()), ['append@2#1', 'append@3#6']);
  const stats = a.stats();
  assert.equal(stats.obsoleteMessages, 4);
  assert.equal(stats.droppedMessages, 0);
  assert.deepEqual(a.inbox.unreachable, []);
});

test('messages of an equal or higher term, and pre-vote messages, are never dropped', {
  timeout: 15_000,
}, async () => {
  const peer = await ackingPeer();
  const a = await sender(peer.address);
  a.transport.send(appendOf(1, 3));
  await until(() => peer.received.length === 1, 5_000, 'the first frame');
  a.transport.send(appendOf(2, 3));
  a.transport.send(preVote(9));
  a.transport.send(appendOf(3, 3));
  a.transport.send({ type: 'voteResponse', from: 'a', to: 'b', term: 9, preVote: true, granted: true });
  a.transport.send(preVote(2));
  a.transport.send(appendOf(4, 3));
  peer.release();
  await until(() => peer.received.length === 7, 5_000, 'every message');
  a.transport.send(appendOf(5, 4));
  await until(() => peer.received.length === 8, 5_000, 'the term-4 message');
  assert.deepEqual(describe(peer.messages()), [
    'append@3#1',
    'append@3#2',
    'vote@9',
    'append@3#3',
    'voteResponse@9',
    'vote@2',
    'append@3#4',
    'append@4#5',
  ]);
  assert.equal(a.stats().obsoleteMessages, 0);
  assert.deepEqual(a.inbox.unreachable, []);
});

test('without the rule nothing is dropped', { timeout: 15_000 }, async () => {
  const peer = await ackingPeer();
  const a = await sender(peer.address, false);
  a.transport.send(appendOf(1, 2));
  await until(() => peer.received.length === 1, 5_000, 'the first frame');
  a.transport.send(appendOf(2, 2));
  a.transport.send(appendOf(3, 3));
  a.transport.send(appendOf(4, 2));
  peer.release();
  await until(() => peer.received.length === 4, 5_000, 'every message');
  assert.deepEqual(describe(peer.messages()), ['append@2#1', 'append@2#2', 'append@3#3', 'append@2#4']);
  assert.equal(a.stats().obsoleteMessages, 0);
});

test('a lower-term snapshot being written in pieces is abandoned for a higher-term message', {
  timeout: 15_000,
}, async () => {
  const peer = await ackingPeer();
  const a = await sender(peer.address);
  let readerClosed = false;
  const part = new Uint8Array(1_000).fill(7);
  const data = SnapshotData.fromSource(100 * part.byteLength, function* () {
    try {
      for (let i = 0; i < 100; i++) yield part;
    } finally {
      readerClosed = true;
    }
  });
  a.transport.send({
    type: 'snapshot',
    from: 'a',
    to: 'b',
    term: 2,
    snapshot: { meta: { index: 10, term: 2, conf: { voters: ['a', 'b'], learners: [] } }, data },
  });
  await until(() => peer.pieces() >= 1, 5_000, 'the first pieces');
  a.transport.send(heartbeat('a', 'b', 1, 3));
  peer.release();
  await until(() => peer.messages().length === 1, 5_000, 'the term-3 heartbeat');
  await sleep(100);
  assert.ok(peer.pieces() < 100, `${peer.pieces()} of 100 pieces were written`);
  assert.deepEqual(describe(peer.messages()), ['heartbeat@3']);
  assert.ok(readerClosed, "the snapshot's reader was closed");
  assert.equal(a.stats().obsoleteMessages, 1);
  assert.equal(a.stats().droppedMessages, 0);
  assert.deepEqual(a.inbox.unreachable, []);
});
