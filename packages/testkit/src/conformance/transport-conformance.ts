import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  createNode,
  MemoryStorage,
  type Message,
  type NodeId,
  type RaftNode,
  SnapshotData,
  type StateMachine,
  type Transport,
  type TransportHandler,
} from '@tsraft/core';
import { generateTestCertificates, hasOpenssl, type TestTlsFiles } from './test-certificates.js';

/** How a conformance test asks for one node's transport. */
export interface ConformanceNodeOptions {
  /** The cluster id this node claims; differs from the network's only in the wrong-cluster test. */
  readonly clusterId?: string;
  /** This node's TLS files; set only when the network was created with TLS. */
  readonly tls?: TestTlsFiles;
}

/** Options of {@link TransportConformanceTarget.createNetwork}. */
export interface ConformanceNetworkOptions {
  readonly clusterId: string;
  /** The cluster's members: the ids a receiver accepts messages from. */
  readonly members: readonly NodeId[];
  /** Each member's TLS files, when the test runs over TLS. */
  readonly tls?: ReadonlyMap<NodeId, TestTlsFiles>;
}

/** A set of endpoints of the transport under test that can reach each other. */
export interface ConformanceNetwork {
  /**
   * A new transport for node `id`, not started. Its peers are every other transport of this network,
   * wherever they listen once started; a closed id may be made again (a restarted node).
   */
  transport(id: NodeId, options?: ConformanceNodeOptions): Transport;
  /**
   * Points `id` at an endpoint that accepts connections and never answers (a hung peer). Network
   * transports implement it; without it the slow-peer and deadline tests are skipped.
   */
  blackHole?(id: NodeId): Promise<void>;
  /**
   * Sends `bytes` to node `to` as the request body of one call, as member `from`, and resolves with the
   * transport's error code for the refusal (`'MALFORMED'`, `'MESSAGE_TOO_LARGE'`, ...) or `null` when it was
   * accepted. Without it the malformed and oversized tests are skipped.
   */
  sendRawBytes?(from: NodeId, to: NodeId, bytes: Uint8Array): Promise<string | null>;
  /** Closes every transport and helper this network made. */
  close(): Promise<void>;
}

/** A transport implementation offered to {@link runTransportConformance}. */
export interface TransportConformanceTarget {
  /** Shown in the test names. */
  readonly name: string;
  createNetwork(options: ConformanceNetworkOptions): ConformanceNetwork;
  /** Whether receivers check the cluster id and the sender's membership. */
  readonly checksClusterId: boolean;
  /** Whether the transport takes `tls` files (the TLS and mTLS tests run only then). */
  readonly supportsTls: boolean;
  /** The deadline of one call, in ms: the deadline test expects an unreachable report well within 4× it. */
  readonly callDeadlineMs?: number;
  /** Largest message the target's receivers accept, in bytes, for the oversized test. */
  readonly maxMessageBytes?: number;
  /**
   * Whether the transport reads a snapshot's data to send it (a network transport, which sends it in
   * pieces). Only then does the test of a snapshot whose data fails to read run: an in-process transport
   * that hands the message over as it is never reads the data. Default false.
   */
  readonly readsSnapshotData?: boolean;
}

const CLUSTER = 'conformance';

/** A handler that records what arrives and lets a test wait for it. */
interface Recorder extends TransportHandler {
  readonly messages: Message[];
  readonly unreachable: NodeId[];
  waitFor(what: string, predicate: () => boolean, timeoutMs: number): Promise<void>;
}

function recorder(): Recorder {
  const messages: Message[] = [];
  const unreachable: NodeId[] = [];
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const w of [...waiters]) w();
  };
  return {
    messages,
    unreachable,
    onMessage: (m) => {
      messages.push(m);
      notify();
    },
    onUnreachable: (peer) => {
      unreachable.push(peer);
      notify();
    },
    waitFor: (what, predicate, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        if (predicate()) return resolve();
        const check = (): void => {
          if (!predicate()) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs);
        waiters.add(check);
      }),
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Replaces byte arrays (Buffer or Uint8Array views) and snapshot data by plain arrays, so messages compare
 * by content.
 */
function normalize(value: unknown): unknown {
  if (value instanceof Uint8Array) return Array.from(value);
  if (value instanceof SnapshotData) return Array.from(value.toBytes());
  if (Array.isArray(value)) return value.map(normalize);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]));
  }
  return value;
}

/** `length` bytes of a pattern that depends on `seed`. */
function patterned(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 7) & 0xff;
  return out;
}

/** Whether snapshot data holds exactly `expected`, compared chunk by chunk (without joining the data). */
function sameBytes(data: SnapshotData, expected: Uint8Array): boolean {
  if (data.byteLength !== expected.byteLength) return false;
  const want = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  let at = 0;
  for (const chunk of data.chunks()) {
    const have = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (!have.equals(want.subarray(at, at + chunk.byteLength))) return false;
    at += chunk.byteLength;
  }
  return at === expected.byteLength;
}

function heartbeat(from: NodeId, to: NodeId, context: number): Message {
  return { type: 'heartbeat', from, to, term: 3, commit: 7, context };
}

function append(from: NodeId, to: NodeId, index: number, payload: Uint8Array): Message {
  return {
    type: 'append',
    from,
    to,
    term: 3,
    prevLogIndex: index - 1,
    prevLogTerm: 3,
    commit: index - 1,
    entries: [{ index, term: 3, type: 'normal', data: payload }],
  };
}

/** A mix of every common message type, numbered by `i` so order can be checked. */
function sample(from: NodeId, to: NodeId, i: number): Message {
  switch (i % 5) {
    case 0:
      return append(from, to, i + 1, new Uint8Array([i & 0xff, (i >> 8) & 0xff, 42]));
    case 1:
      return heartbeat(from, to, i);
    case 2:
      return {
        type: 'vote',
        from,
        to,
        // One term for the whole sequence, as a Raft node sends it: a transport may drop messages of a term
        // lower than one it already sent to the same peer (Raft ignores them).
        term: 3,
        preVote: i % 2 === 0,
        lastLogIndex: i,
        lastLogTerm: 2,
        leadershipTransfer: false,
      };
    case 3:
      return {
        type: 'appendResponse',
        from,
        to,
        term: 3,
        reject: false,
        index: i,
        rejectHintIndex: 0,
        rejectHintTerm: 0,
        commit: 0,
      };
    default:
      return { type: 'readIndex', from, to, term: 3, requestId: i };
  }
}

/**
 * Heap and array-buffer bytes in use after full collections, when the collector can be triggered. Freed
 * array buffers are released by a background thread, so it collects twice with a pause in between.
 */
async function usedMemory(): Promise<number> {
  setFlagsFromString('--expose_gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  for (let round = 0; round < 3; round++) {
    gc?.();
    await sleep(50);
  }
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** Runs `body` with a fresh network of `members`, always closing it. */
async function withNetwork(
  target: TransportConformanceTarget,
  members: readonly NodeId[],
  body: (network: ConformanceNetwork) => Promise<void>,
  tls?: ReadonlyMap<NodeId, TestTlsFiles>,
): Promise<void> {
  const network = target.createNetwork({
    clusterId: CLUSTER,
    members,
    ...(tls === undefined ? {} : { tls }),
  });
  try {
    await body(network);
  } finally {
    await network.close();
  }
}

async function started(network: ConformanceNetwork, id: NodeId, options?: ConformanceNodeOptions) {
  const transport = network.transport(id, options);
  const handler = recorder();
  await transport.start(handler);
  return { transport, handler };
}

/** A counter state machine for the cluster test: each command adds its first byte. */
function counter(): StateMachine<number> & { value(): number } {
  let total = 0;
  return {
    apply: (command) => {
      total += command.data[0] ?? 0;
      return total;
    },
    snapshot: () => new Uint8Array(new Uint32Array([total]).buffer),
    restore: (data) => {
      const bytes = data.toBytes();
      total = new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 4))[0] ?? 0;
    },
    value: () => total,
  };
}

async function waitForLeader(nodes: readonly RaftNode[], timeoutMs: number): Promise<RaftNode> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const leader = nodes.find((n) => n.status().role === 'leader' && !n.status().stopped);
    if (leader !== undefined) return leader;
    await sleep(20);
  }
  throw new Error(`no leader elected within ${timeoutMs} ms`);
}

/**
 * Registers, with `node:test`, the transport conformance suite against `target`: ordered round trips, a
 * large snapshot in chunks, a snapshot given as many chunks and kept in pieces by the receiver, a snapshot
 * whose data fails to read mid-way (never delivered, the peer reported), a peer down and back up, a slow peer with bounded memory, malformed and
 * oversized bytes, a wrong cluster id and an unknown node, deadline expiry, shutdown during traffic, TLS
 * and mutual TLS, and a 3-node cluster that elects, commits, loses a node and continues. Every test is
 * bounded by a timeout and closes what it opened. Tests that need a capability the target lacks are skipped.
 */
export function runTransportConformance(target: TransportConformanceTarget): void {
  const deadlineMs = target.callDeadlineMs ?? 1_000;

  describe(`transport conformance: ${target.name}`, { timeout: 120_000 }, () => {
    test('delivers messages between two nodes, in order and intact', { timeout: 15_000 }, async () => {
      await withNetwork(target, ['a', 'b'], async (network) => {
        const a = await started(network, 'a');
        const b = await started(network, 'b');
        const toB = Array.from({ length: 300 }, (_, i) => sample('a', 'b', i));
        const toA = Array.from({ length: 50 }, (_, i) => sample('b', 'a', i));
        for (let i = 0; i < 300; i++) {
          a.transport.send(toB[i]!);
          if (i < 50) b.transport.send(toA[i]!);
          if (i % 100 === 99) await sleep(1); // a few separate batches
        }
        await b.handler.waitFor('300 messages at b', () => b.handler.messages.length >= 300, 10_000);
        await a.handler.waitFor('50 messages at a', () => a.handler.messages.length >= 50, 10_000);
        assert.deepEqual(normalize(b.handler.messages), normalize(toB));
        assert.deepEqual(normalize(a.handler.messages), normalize(toA));
        assert.deepEqual(b.handler.unreachable, []);
      });
    });

    test('carries a large snapshot whole', { timeout: 20_000 }, async () => {
      await withNetwork(target, ['a', 'b'], async (network) => {
        const a = await started(network, 'a');
        const b = await started(network, 'b');
        const data = new Uint8Array(3 * 1024 * 1024 + 17);
        for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff;
        const snapshot: Message = {
          type: 'snapshot',
          from: 'a',
          to: 'b',
          term: 4,
          snapshot: {
            meta: { index: 90, term: 4, conf: { voters: ['a', 'b'], learners: [] } },
            data: SnapshotData.of(data),
          },
        };
        a.transport.send(snapshot);
        a.transport.send(heartbeat('a', 'b', 1));
        await b.handler.waitFor(
          'the snapshot at b',
          () => b.handler.messages.some((m) => m.type === 'snapshot'),
          15_000,
        );
        const got = b.handler.messages.find((m) => m.type === 'snapshot');
        assert.ok(got?.type === 'snapshot');
        assert.deepEqual(got.snapshot.meta, snapshot.snapshot.meta);
        assert.equal(got.snapshot.data.byteLength, data.byteLength);
        assert.ok(sameBytes(got.snapshot.data, data), 'snapshot bytes differ');
      });
    });

    test('carries a snapshot given as many chunks, and the receiver keeps it in pieces', {
      timeout: 20_000,
    }, async () => {
      await withNetwork(target, ['a', 'b'], async (network) => {
        const a = await started(network, 'a');
        const b = await started(network, 'b');
        // 50 chunks of 100 KiB with odd-sized ones in between (about 5 MiB), never joined by the sender.
        const chunks: Uint8Array[] = [];
        for (let i = 0; i < 50; i++) {
          chunks.push(patterned(100 * 1024, i));
          if (i % 7 === 3) chunks.push(patterned(1 + ((i * 977) % 4099), i + 100));
        }
        chunks.push(patterned(13, 999));
        const data = SnapshotData.fromChunks(chunks);
        const snapshot: Message = {
          type: 'snapshot',
          from: 'a',
          to: 'b',
          term: 4,
          snapshot: { meta: { index: 91, term: 4, conf: { voters: ['a', 'b'], learners: [] } }, data },
        };
        a.transport.send(snapshot);
        a.transport.send(heartbeat('a', 'b', 1));
        await b.handler.waitFor(
          'the snapshot at b',
          () => b.handler.messages.some((m) => m.type === 'snapshot'),
          15_000,
        );
        const got = b.handler.messages.find((m) => m.type === 'snapshot');
        assert.ok(got?.type === 'snapshot');
        assert.deepEqual(got.snapshot.meta, snapshot.snapshot.meta);
        assert.equal(got.snapshot.data.byteLength, data.byteLength);
        assert.ok(sameBytes(got.snapshot.data, data.toBytes()), 'snapshot bytes differ');
        assert.ok(
          [...got.snapshot.data.chunks()].length > 1,
          'the receiver joined a snapshot of several pieces into one buffer',
        );
        assert.deepEqual(a.handler.unreachable, []);
      });
    });

    test('a snapshot whose data fails to read mid-way is never delivered; the peer is reported and traffic goes on', {
      timeout: 20_000,
    }, async (t) => {
      if (target.readsSnapshotData !== true) return t.skip('the target does not read snapshot data');
      await withNetwork(target, ['a', 'b'], async (network) => {
        const a = await started(network, 'a');
        const b = await started(network, 'b');
        // 3 MiB readable, then the storage fails (say the file was pruned): well past one piece on the wire.
        const part = patterned(100 * 1024, 3);
        let reads = 0;
        const data = SnapshotData.fromSource(8 * 1024 * 1024, function* () {
          reads++;
          for (let i = 0; i < 30; i++) yield part;
          throw new Error('disk');
        });
        a.transport.send({
          type: 'snapshot',
          from: 'a',
          to: 'b',
          term: 3, // the heartbeats' term: a lower-term message after it could be dropped as obsolete
          snapshot: { meta: { index: 92, term: 3, conf: { voters: ['a', 'b'], learners: [] } }, data },
        });
        a.transport.send(heartbeat('a', 'b', 1));
        await a.handler.waitFor(
          'b reported unreachable after the failed snapshot',
          () => a.handler.unreachable.includes('b'),
          10_000,
        );
        assert.ok(reads >= 1, 'the snapshot was never read');
        // The transport keeps working: later messages and a good snapshot arrive.
        const good = patterned(2 * 1024 * 1024 + 3, 4);
        let context = 2;
        const deadline = Date.now() + 10_000;
        while (
          !b.handler.messages.some((m) => m.type === 'heartbeat' && m.context >= 2) &&
          Date.now() < deadline
        ) {
          a.transport.send(heartbeat('a', 'b', context++));
          await sleep(50);
        }
        a.transport.send({
          type: 'snapshot',
          from: 'a',
          to: 'b',
          term: 3,
          snapshot: {
            meta: { index: 93, term: 3, conf: { voters: ['a', 'b'], learners: [] } },
            data: SnapshotData.fromChunks([good.subarray(0, 1_000_000), good.subarray(1_000_000)]),
          },
        });
        await b.handler.waitFor(
          'the good snapshot at b',
          () => b.handler.messages.some((m) => m.type === 'snapshot'),
          10_000,
        );
        const snapshots = b.handler.messages.filter((m) => m.type === 'snapshot');
        assert.equal(snapshots.length, 1, 'the failed snapshot was delivered');
        const got = snapshots[0]!;
        assert.ok(got.type === 'snapshot');
        assert.equal(got.snapshot.meta.index, 93);
        assert.ok(sameBytes(got.snapshot.data, good), 'snapshot bytes differ');
        assert.ok(
          b.handler.messages.some((m) => m.type === 'heartbeat' && m.context >= 2),
          'no heartbeat arrived after the failed snapshot',
        );
      });
    });

    test('a snapshot cut off by the receiver restarting is never delivered in part; a resend arrives whole', {
      timeout: 40_000,
    }, async () => {
      await withNetwork(target, ['a', 'b'], async (network) => {
        const a = await started(network, 'a');
        const b = await started(network, 'b');
        const data = new Uint8Array(24 * 1024 * 1024 + 5);
        for (let i = 0; i < data.length; i += 4096) data[i] = (i >>> 12) & 0xff;
        const snapshotTo = (term: number): Message => ({
          type: 'snapshot',
          from: 'a',
          to: 'b',
          term,
          snapshot: {
            meta: { index: 500, term, conf: { voters: ['a', 'b'], learners: [] } },
            data: SnapshotData.of(data),
          },
        });
        a.transport.send(snapshotTo(6));
        // Restart b while the transfer is (most likely) in flight: whatever part arrived must be dropped.
        await sleep(1);
        await b.transport.close();
        const partial = b.handler.messages.find((m) => m.type === 'snapshot');
        if (partial?.type === 'snapshot') {
          assert.equal(partial.snapshot.data.byteLength, data.byteLength, 'a partial snapshot was delivered');
        }
        const back = await started(network, 'b');
        // Raft resends after the failure report; here the test resends until the new b has it.
        const deadline = Date.now() + 30_000;
        let term = 7;
        while (!back.handler.messages.some((m) => m.type === 'snapshot') && Date.now() < deadline) {
          a.transport.send(snapshotTo(term++));
          await back.handler
            .waitFor(
              'the resent snapshot',
              () => back.handler.messages.some((m) => m.type === 'snapshot'),
              5_000,
            )
            .catch(() => {});
        }
        const got = back.handler.messages.find((m) => m.type === 'snapshot');
        assert.ok(got?.type === 'snapshot', 'the resent snapshot never arrived');
        assert.equal(got.snapshot.data.byteLength, data.byteLength);
        assert.ok(sameBytes(got.snapshot.data, data), 'snapshot bytes differ');
      });
    });

    test('reports a peer that is down, and reaches it again once it is back', {
      timeout: 20_000,
    }, async () => {
      await withNetwork(target, ['a', 'b'], async (network) => {
        const a = await started(network, 'a');
        const b = await started(network, 'b');
        a.transport.send(heartbeat('a', 'b', 1));
        await b.handler.waitFor('first heartbeat', () => b.handler.messages.length === 1, 5_000);
        await b.transport.close();
        a.transport.send(heartbeat('a', 'b', 2));
        await a.handler.waitFor(
          'b unreachable',
          () => a.handler.unreachable.includes('b'),
          4 * deadlineMs + 3_000,
        );
        const back = await started(network, 'b');
        let context = 3;
        const deadline = Date.now() + 12_000;
        while (back.handler.messages.length === 0 && Date.now() < deadline) {
          a.transport.send(heartbeat('a', 'b', context++));
          await sleep(100);
        }
        assert.ok(back.handler.messages.length > 0, 'b was not reached again after it came back');
        assert.equal(back.handler.messages[0]?.type, 'heartbeat');
      });
    });

    test('keeps memory bounded while a peer hangs', { timeout: 30_000 }, async (t) => {
      await withNetwork(target, ['a', 'b'], async (network) => {
        if (network.blackHole === undefined) return t.skip('the target cannot make a hung peer');
        const a = await started(network, 'a');
        await network.blackHole('b');
        const before = await usedMemory();
        const payloadBytes = 32 * 1024;
        const total = 3_072; // 96 MiB offered
        for (let i = 0; i < total; i++) {
          a.transport.send(append('a', 'b', i + 1, new Uint8Array(payloadBytes).fill(i & 0xff)));
          if (i % 256 === 255) await sleep(5);
        }
        await a.handler.waitFor(
          'b unreachable',
          () => a.handler.unreachable.includes('b'),
          4 * deadlineMs + 3_000,
        );
        const grown = (await usedMemory()) - before;
        assert.ok(
          grown < 40 * 1024 * 1024,
          `memory grew by ${(grown / 1048576).toFixed(1)} MiB for a hung peer`,
        );
      });
    });

    test('gives up on a call past its deadline and reports the peer', { timeout: 20_000 }, async (t) => {
      await withNetwork(target, ['a', 'b'], async (network) => {
        if (network.blackHole === undefined) return t.skip('the target cannot make a hung peer');
        const a = await started(network, 'a');
        await network.blackHole('b');
        const sent = Date.now();
        a.transport.send(heartbeat('a', 'b', 1));
        await a.handler.waitFor(
          'b unreachable',
          () => a.handler.unreachable.includes('b'),
          4 * deadlineMs + 2_000,
        );
        assert.ok(Date.now() - sent >= deadlineMs * 0.5, 'reported before the deadline could pass');
      });
    });

    test('refuses malformed and oversized bytes, and keeps serving', { timeout: 15_000 }, async (t) => {
      await withNetwork(target, ['a', 'b'], async (network) => {
        if (network.sendRawBytes === undefined) return t.skip('the target cannot send raw bytes');
        const a = await started(network, 'a');
        const b = await started(network, 'b');
        const garbage = new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]);
        assert.equal(await network.sendRawBytes('a', 'b', garbage), 'MALFORMED');
        if (target.maxMessageBytes !== undefined) {
          const huge = new Uint8Array(target.maxMessageBytes + 1024);
          assert.equal(await network.sendRawBytes('a', 'b', huge), 'MESSAGE_TOO_LARGE');
        }
        assert.deepEqual(b.handler.messages, []);
        a.transport.send(heartbeat('a', 'b', 9));
        await b.handler.waitFor(
          'a valid message after the bad ones',
          () => b.handler.messages.length === 1,
          5_000,
        );
      });
    });

    test('refuses messages from another cluster or an unknown node', { timeout: 15_000 }, async (t) => {
      if (!target.checksClusterId) return t.skip('the target does not check cluster ids');
      await withNetwork(target, ['a', 'b', 'c'], async (network) => {
        const b = await started(network, 'b');
        const foreign = await started(network, 'a', { clusterId: 'another-cluster' });
        const stranger = await started(network, 'z');
        foreign.transport.send(heartbeat('a', 'b', 1));
        stranger.transport.send(heartbeat('z', 'b', 2));
        await foreign.handler.waitFor(
          'refusal of the foreign node',
          () => foreign.handler.unreachable.includes('b'),
          5_000,
        );
        await stranger.handler.waitFor(
          'refusal of the unknown node',
          () => stranger.handler.unreachable.includes('b'),
          5_000,
        );
        const c = await started(network, 'c');
        c.transport.send(heartbeat('c', 'b', 3));
        await b.handler.waitFor('the member message', () => b.handler.messages.length >= 1, 5_000);
        assert.deepEqual(
          b.handler.messages.map((m) => m.from),
          ['c'],
        );
      });
    });

    test('shuts down promptly in the middle of traffic', { timeout: 15_000 }, async () => {
      await withNetwork(target, ['a', 'b'], async (network) => {
        const a = await started(network, 'a');
        const b = await started(network, 'b');
        let running = true;
        let i = 0;
        // A steady stream of traffic both ways (not a flood: the test is about shutdown, not throughput).
        const pump = (): void => {
          if (!running) return;
          for (let k = 0; k < 4; k++) {
            i++;
            a.transport.send(append('a', 'b', i, new Uint8Array(4 * 1024)));
            b.transport.send(heartbeat('b', 'a', i));
          }
          setTimeout(pump, 1);
        };
        pump();
        await b.handler.waitFor('traffic', () => b.handler.messages.length > 8, 10_000);
        const closing = Date.now();
        await Promise.all([a.transport.close(), b.transport.close()]);
        running = false;
        assert.ok(Date.now() - closing < 5_000, 'close took too long');
        const delivered = b.handler.messages.length;
        a.transport.send(heartbeat('a', 'b', -1));
        await sleep(50);
        assert.equal(b.handler.messages.length, delivered, 'a closed transport delivered a message');
      });
    });

    test('speaks TLS and mutual TLS, refusing a peer without a valid certificate', {
      timeout: 30_000,
    }, async (t) => {
      if (!target.supportsTls) return t.skip('the target has no TLS');
      if (!hasOpenssl()) return t.skip('openssl is not installed');
      const dir = mkdtempSync(join(tmpdir(), 'tsraft-tls-'));
      try {
        const certs = generateTestCertificates(dir, ['a', 'b']);
        const members = ['a', 'b', 'c'];
        await withNetwork(
          target,
          members,
          async (network) => {
            const a = await started(network, 'a', { tls: certs.nodes.get('a')! });
            const b = await started(network, 'b', { tls: certs.nodes.get('b')! });
            a.transport.send(heartbeat('a', 'b', 1));
            b.transport.send(heartbeat('b', 'a', 2));
            await b.handler.waitFor('message over mTLS at b', () => b.handler.messages.length === 1, 8_000);
            await a.handler.waitFor('message over mTLS at a', () => a.handler.messages.length === 1, 8_000);
            // A member whose certificate comes from another CA.
            const rogue = await started(network, 'c', { tls: certs.rogue });
            rogue.transport.send(heartbeat('c', 'b', 3));
            await rogue.handler.waitFor(
              'refusal of the rogue certificate',
              () => rogue.handler.unreachable.includes('b'),
              8_000,
            );
            await rogue.transport.close();
            // A member that presents no certificate at all.
            const bare = await started(network, 'c', { tls: { ...certs.nodes.get('a')!, mutual: false } });
            bare.transport.send(heartbeat('c', 'b', 4));
            await bare.handler.waitFor(
              'refusal without a certificate',
              () => bare.handler.unreachable.includes('b'),
              8_000,
            );
            assert.deepEqual(
              b.handler.messages.map((m) => m.from),
              ['a'],
            );
          },
          certs.nodes,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('runs a 3-node cluster that elects, commits, loses a node and goes on', {
      timeout: 40_000,
    }, async () => {
      const ids = ['n1', 'n2', 'n3'];
      await withNetwork(target, ids, async (network) => {
        const machines = ids.map(() => counter());
        const nodes = ids.map((id, i) =>
          createNode<number>({
            id,
            storage: new MemoryStorage({ conf: { voters: ids, learners: [] } }),
            transport: network.transport(id),
            stateMachine: machines[i]!,
            tickIntervalMs: 20,
            electionTicks: 10,
            randomSeed: i + 1,
          }),
        );
        try {
          await Promise.all(nodes.map((n) => n.start()));
          const leader = await waitForLeader(nodes, 10_000);
          for (let k = 1; k <= 5; k++) {
            assert.equal(await leader.propose(new Uint8Array([k]), { timeoutMs: 5_000 }), (k * (k + 1)) / 2);
          }
          const [down, survivor] = nodes.filter((n) => n !== leader) as [RaftNode<number>, RaftNode<number>];
          await down.close();
          for (let k = 6; k <= 8; k++) await leader.propose(new Uint8Array([k]), { timeoutMs: 5_000 });
          const machine = machines[nodes.indexOf(survivor)]!;
          const deadline = Date.now() + 5_000;
          while (machine.value() < 36 && Date.now() < deadline) await sleep(20);
          assert.equal(machine.value(), 36, 'the surviving follower applied every write');
        } finally {
          await Promise.all(nodes.map((n) => n.close()));
        }
      });
    });
  });
}
