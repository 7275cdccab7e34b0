import { once } from 'node:events';
import { createServer } from 'node:net';
import type { Message, NodeId, TransportHandler } from '@tsraft/core';
import { createRaftServer, type GrpcLogger } from '@tsraft/grpc';
import type { StreamingTransport } from '../streaming-transport.js';

const noop = (): void => {};
/** Tests expect failures; keep the server's warnings out of their output. */
const silentLogger = { debug: noop, info: noop, warn: noop, error: noop } as unknown as GrpcLogger;

/** A grpc-js server on 127.0.0.1 serving a transport's `Raft.Stream`. */
export interface Listening {
  readonly address: string;
  readonly port: number;
  /** Closes the transport, then the server (forcefully after a short grace). */
  stop(): Promise<void>;
}

/** Serves `transport` on 127.0.0.1 (`port` 0: an ephemeral one) with `@tsraft/grpc`'s server. */
export async function listen(
  transport: StreamingTransport,
  id: NodeId,
  options: { readonly port?: number; readonly clusterId?: string; readonly members?: readonly NodeId[] } = {},
): Promise<Listening> {
  const server = await createRaftServer({
    listen: `127.0.0.1:${options.port ?? 0}`,
    clusterId: options.clusterId ?? 'test',
    nodeId: id,
    members: options.members ?? ((_: NodeId) => true),
    handlers: transport.handlers,
    shutdownGraceMs: 200,
    logger: silentLogger,
  });
  server.setServing(true);
  return {
    address: server.address,
    port: server.port,
    stop: async () => {
      await transport.close();
      await server.close();
    },
  };
}

/** A port that was free a moment ago, for a peer that is not up yet. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const address = probe.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Records what a transport delivers. */
export interface Recorder extends TransportHandler {
  readonly messages: Message[];
  readonly unreachable: NodeId[];
}

/** A {@link TransportHandler} that records everything. */
export function recorder(): Recorder {
  const messages: Message[] = [];
  const unreachable: NodeId[] = [];
  return {
    messages,
    unreachable,
    onMessage: (m) => {
      messages.push(m);
    },
    onUnreachable: (peer) => {
      unreachable.push(peer);
    },
  };
}

/** A heartbeat whose `commit` numbers it, so order can be checked. */
export function heartbeat(from: NodeId, to: NodeId, commit: number, term = 1): Message {
  return { type: 'heartbeat', from, to, term, commit, context: 0 };
}

/** An append carrying one entry of `payloadBytes` bytes at `index`. */
export function append(from: NodeId, to: NodeId, index: number, payloadBytes: number): Message {
  return {
    type: 'append',
    from,
    to,
    term: 1,
    prevLogIndex: index - 1,
    prevLogTerm: index === 1 ? 0 : 1,
    entries: [{ term: 1, index, type: 'normal', data: new Uint8Array(payloadBytes).fill(index % 251) }],
    commit: 0,
  };
}

/** Polls `condition` every 5 ms until it holds, failing after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export { type FreezableProxy, freezableProxy } from '@tsraft/testkit';
