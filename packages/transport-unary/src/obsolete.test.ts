import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import type { sendUnaryData } from '@grpc/grpc-js';
import { fromProtoMessage } from '@tsraft/codec';
import { type Message, type NodeId, SnapshotData } from '@tsraft/core';
import { createRaftServer, type RaftServer } from '@tsraft/grpc';
import { InstallSnapshotResponseSchema, type SendResponse, SendResponseSchema } from '@tsraft/proto';
import { pino } from 'pino';
import { createUnaryTransport, type UnaryTransport } from './index.js';
import { supersedingTerm } from './obsolete.js';

const silent = pino({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function append(index: number, term: number): Message {
  return {
    type: 'append',
    from: 'a',
    to: 'b',
    term,
    prevLogIndex: index - 1,
    prevLogTerm: term,
    entries: [{ index, term, type: 'normal', data: new Uint8Array([index & 0xff]) }],
    commit: 0,
  };
}

function preVote(term: number, pre = true): Message {
  return {
    type: 'vote',
    from: 'a',
    to: 'b',
    term,
    preVote: pre,
    lastLogIndex: 1,
    lastLogTerm: 1,
    leadershipTransfer: false,
  };
}

/** A Send call the peer received, with whether the sender cancelled it. */
interface ReceivedCall {
  readonly messages: readonly Message[];
  cancelled: boolean;
  release(): void;
}

/**
 * Peer `b`: a Raft server that records every Send call and holds (answers only on `release()`) the calls
 * `hold` picks, like a peer that stopped answering; snapshot streams are recorded and never answered.
 */
async function slowPeer(hold: (messages: readonly Message[]) => boolean) {
  const calls: ReceivedCall[] = [];
  const snapshots: { pieces: number; cancelled: boolean }[] = [];
  const server: RaftServer = await createRaftServer({
    listen: '127.0.0.1:0',
    clusterId: 'c',
    nodeId: 'b',
    members: () => true,
    shutdownGraceMs: 100,
    logger: silent,
    handlers: {
      Send: (call, callback: sendUnaryData<SendResponse>) => {
        const messages = call.request.messages.map((m) => fromProtoMessage(m).message);
        let released = false;
        const received: ReceivedCall = {
          messages,
          cancelled: false,
          release: () => {
            if (released) return;
            released = true;
            callback(null, create(SendResponseSchema));
          },
        };
        calls.push(received);
        // grpc-js signals 'cancelled' whenever the stream closes, answered or not: only an unanswered call counts.
        call.on('cancelled', () => {
          if (!released) received.cancelled = true;
        });
        if (!hold(messages)) received.release();
      },
      InstallSnapshot: (call, callback) => {
        const snapshot = { pieces: 0, cancelled: false };
        snapshots.push(snapshot);
        call.on('data', () => {
          snapshot.pieces++;
        });
        call.on('cancelled', () => {
          snapshot.cancelled = true;
        });
        call.on('error', () => {});
        // Answers only if the whole stream arrives, which the test never lets happen.
        call.on('end', () => callback(null, create(InstallSnapshotResponseSchema)));
      },
    },
  });
  server.setServing(true);
  cleanups.push(() => server.close());
  const delivered = (): Message[] => calls.flatMap((c) => c.messages);
  return { address: server.address, calls, snapshots, delivered };
}

async function sender(peer: string, unreachable: NodeId[]): Promise<UnaryTransport> {
  const transport = createUnaryTransport({
    id: 'a',
    clusterId: 'c',
    listen: '127.0.0.1:0',
    peers: new Map([['b', peer]]),
    members: ['a', 'b'],
    // Long enough that no deadline fires during a test: a cancellation here is only the rule's doing.
    electionTimeoutMs: 10_000,
    snapshotChunkBytes: 16 * 1024,
    logger: silent,
  });
  await transport.start({ onMessage: () => {}, onUnreachable: (p) => unreachable.push(p) });
  cleanups.push(() => transport.close());
  return transport;
}

const indexes = (messages: readonly Message[]): number[] =>
  messages.map((m) => (m.type === 'append' ? m.entries[0]!.index : -m.term));

test('the rule leaves pre-vote messages out and takes every other term as it is', () => {
  assert.equal(supersedingTerm(preVote(9)), null);
  assert.equal(
    supersedingTerm({ type: 'voteResponse', from: 'a', to: 'b', term: 9, preVote: true, granted: true }),
    null,
  );
  assert.equal(supersedingTerm(preVote(4, false)), 4);
  assert.equal(supersedingTerm(append(1, 0)), 0);
  assert.equal(supersedingTerm({ type: 'readIndex', from: 'a', to: 'b', term: 3, requestId: 1 }), 3);
});

test('a higher term drops the queued lower-term messages and cancels the call carrying them, unreported', {
  timeout: 15_000,
}, async () => {
  const peer = await slowPeer((messages) => messages.every((m) => m.term === 2));
  const unreachable: NodeId[] = [];
  const a = await sender(peer.address, unreachable);
  a.send(append(1, 2));
  await until(() => peer.calls.length === 1, 'the first term-2 call at the peer');
  // The peer holds the call: these wait behind it.
  for (let i = 2; i <= 5; i++) a.send(append(i, 2));
  await sleep(50);
  assert.equal(peer.calls.length, 1, 'the term-2 messages waited behind the call in flight');
  a.send(append(6, 3));
  await until(() => peer.calls.length === 2, 'the term-3 call');
  assert.deepEqual(indexes(peer.calls[1]!.messages), [6], 'only the term-3 message went out');
  await until(() => peer.calls[0]!.cancelled, 'the obsolete call cancelled');
  // Reports are coalesced per turn; give them several.
  await sleep(200);
  assert.deepEqual(unreachable, [], 'a cancellation by the rule is not a failure');
  assert.deepEqual(indexes(peer.delivered()), [1, 6], 'the queued term-2 messages never left');
});

test('messages of an equal or higher term, and pre-vote messages, are never dropped', {
  timeout: 15_000,
}, async () => {
  let holding = true;
  const peer = await slowPeer(() => holding);
  const unreachable: NodeId[] = [];
  const a = await sender(peer.address, unreachable);
  a.send(append(1, 3));
  await until(() => peer.calls.length === 1, 'the first call at the peer');
  // Behind the held term-3 call: equal terms and pre-vote messages (whose terms are not the sender's, so
  // neither the higher nor the lower one counts).
  a.send(append(2, 3));
  a.send(preVote(9));
  a.send(append(3, 3));
  a.send({ type: 'voteResponse', from: 'a', to: 'b', term: 9, preVote: true, granted: true });
  a.send(append(4, 3));
  a.send(preVote(2));
  a.send(append(5, 3));
  await sleep(50);
  holding = false;
  peer.calls[0]!.release();
  await until(() => peer.calls.length >= 2, 'the next call', 5_000);
  for (const call of peer.calls) call.release();
  await until(() => peer.delivered().length >= 8, 'every message', 5_000);
  // All delivered: a higher term then has nothing to drop, and goes out itself.
  a.send(append(6, 4));
  await until(() => peer.delivered().length >= 9, 'the term-4 message', 5_000);
  const kinds = peer
    .delivered()
    .map((m) => (m.type === 'append' ? `append@${m.term}#${m.entries[0]!.index}` : `${m.type}@${m.term}`));
  assert.deepEqual(kinds, [
    'append@3#1',
    'append@3#2',
    'vote@9',
    'append@3#3',
    'voteResponse@9',
    'append@3#4',
    'vote@2',
    'append@3#5',
    'append@4#6',
  ]);
  assert.equal(peer.calls[0]!.cancelled, false);
  assert.deepEqual(unreachable, []);
});

test('without the rule nothing is dropped', { timeout: 15_000 }, async () => {
  let holding = true;
  const peer = await slowPeer(() => holding);
  const unreachable: NodeId[] = [];
  const transport = createUnaryTransport({
    id: 'a',
    clusterId: 'c',
    listen: '127.0.0.1:0',
    peers: new Map([['b', peer.address]]),
    members: ['a', 'b'],
    electionTimeoutMs: 10_000,
    dropObsoleteMessages: false,
    logger: silent,
  });
  await transport.start({ onMessage: () => {}, onUnreachable: (p) => unreachable.push(p) });
  cleanups.push(() => transport.close());
  transport.send(append(1, 2));
  await until(() => peer.calls.length === 1, 'the first call');
  transport.send(append(2, 2));
  transport.send(append(3, 3));
  transport.send(append(4, 2));
  holding = false;
  peer.calls[0]!.release();
  await until(() => peer.calls.length >= 2, 'the next call', 5_000);
  for (const call of peer.calls) call.release();
  await until(() => peer.delivered().length === 4, 'every message');
  assert.deepEqual(indexes(peer.delivered()), [1, 2, 3, 4]);
  assert.equal(peer.calls[0]!.cancelled, false);
});

test('a snapshot of a lower term being sent is cancelled by a higher-term message, unreported', {
  timeout: 15_000,
}, async () => {
  const peer = await slowPeer(() => false);
  const unreachable: NodeId[] = [];
  const a = await sender(peer.address, unreachable);
  // Far more than the HTTP/2 windows take while the peer never answers: the transfer stays in flight.
  const data = new Uint8Array(64 * 1024 * 1024);
  a.send({
    type: 'snapshot',
    from: 'a',
    to: 'b',
    term: 2,
    snapshot: {
      meta: { index: 10, term: 2, conf: { voters: ['a', 'b'], learners: [] } },
      data: SnapshotData.of(data),
    },
  });
  await until(() => (peer.snapshots[0]?.pieces ?? 0) > 0, 'the snapshot stream at the peer');
  a.send(append(11, 3));
  await until(() => peer.snapshots[0]!.cancelled, 'the snapshot stream cancelled');
  await until(() => peer.delivered().length === 1, 'the term-3 message');
  await sleep(200);
  assert.deepEqual(unreachable, []);
  assert.equal(peer.snapshots.length, 1);
});
