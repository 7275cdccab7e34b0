import { createServer, type Server, type Socket } from 'node:net';
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import type { NodeId, Transport } from '@tsraft/core';
import {
  CLUSTER_ID_METADATA_KEY,
  NODE_ID_METADATA_KEY,
  RAFT_SERVICE_DEFINITION,
  TransportError,
} from '@tsraft/grpc';
import { runTransportConformance } from '@tsraft/testkit';
import { pino } from 'pino';
import { createUnaryTransport, type UnaryTransport } from './index.js';

const CALL_DEADLINE_MS = 500;
const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
const silent = pino({ level: 'silent' });

runTransportConformance({
  name: 'gRPC unary',
  checksClusterId: true,
  supportsTls: true,
  callDeadlineMs: CALL_DEADLINE_MS,
  maxMessageBytes: MAX_MESSAGE_BYTES,
  readsSnapshotData: true,
  createNetwork: ({ clusterId, members }) => {
    const addresses = new Map<NodeId, string>();
    const transports: UnaryTransport[] = [];
    const holes: Server[] = [];
    const sockets = new Set<Socket>();
    return {
      transport: (id, options = {}): Transport => {
        const inner = createUnaryTransport({
          id,
          clusterId: options.clusterId ?? clusterId,
          listen: '127.0.0.1:0',
          peers: addresses,
          members,
          electionTimeoutMs: CALL_DEADLINE_MS,
          snapshotChunkBytes: 256 * 1024,
          maxPendingBytesPerPeer: 4 * 1024 * 1024,
          maxMessageBytes: MAX_MESSAGE_BYTES,
          shutdownGraceMs: 500,
          logger: silent,
          channel: { maxReconnectBackoffMs: 300 },
          ...(options.tls === undefined ? {} : { tls: options.tls }),
        });
        transports.push(inner);
        return {
          start: async (handler) => {
            await inner.start(handler);
            addresses.set(id, inner.address);
          },
          send: (message) => inner.send(message),
          close: () => inner.close(),
        };
      },
      blackHole: async (id) => {
        const hole = createServer((socket) => {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => {});
        });
        holes.push(hole);
        await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve));
        const port = (hole.address() as { port: number }).port;
        addresses.set(id, `127.0.0.1:${port}`);
      },
      sendRawBytes: async (from, to, bytes) => {
        const address = addresses.get(to);
        if (address === undefined) throw new Error(`no address for ${to}`);
        const client = new Client(address, credentials.createInsecure(), {
          'grpc.max_send_message_length': -1,
          'grpc.use_local_subchannel_pool': 1,
        });
        const metadata = new Metadata();
        metadata.set(CLUSTER_ID_METADATA_KEY, clusterId);
        metadata.set(NODE_ID_METADATA_KEY, from);
        try {
          return await new Promise<string | null>((resolve) => {
            client.makeUnaryRequest(
              RAFT_SERVICE_DEFINITION.Send.path,
              (b: Uint8Array) => Buffer.from(b),
              (b: Buffer) => b,
              bytes,
              metadata,
              { deadline: Date.now() + 5_000 },
              (error) => resolve(error === null ? null : TransportError.from(error).code),
            );
          });
        } finally {
          client.close();
        }
      },
      close: async () => {
        await Promise.all(transports.map((t) => t.close()));
        for (const socket of sockets) socket.destroy();
        await Promise.all(holes.map((h) => new Promise<void>((resolve) => h.close(() => resolve()))));
      },
    };
  },
});
