import { once } from 'node:events';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { Client, credentials, Metadata, type StatusObject } from '@grpc/grpc-js';
import type { NodeId, Transport } from '@tsraft/core';
import {
  CLUSTER_ID_METADATA_KEY,
  DEFAULT_MAX_MESSAGE_BYTES,
  type GrpcLogger,
  NODE_ID_METADATA_KEY,
  RAFT_SERVICE_DEFINITION,
  TransportError,
} from '@tsraft/grpc';
import { runTransportConformance } from '@tsraft/testkit';
import { createStreamingTransport, type StreamingTransport } from './streaming-transport.js';

const noop = (): void => {};
const silentLogger = { debug: noop, info: noop, warn: noop, error: noop } as unknown as GrpcLogger;
const ACK_TIMEOUT_MS = 1_000;

runTransportConformance({
  name: 'streaming',
  checksClusterId: true,
  supportsTls: true,
  callDeadlineMs: ACK_TIMEOUT_MS,
  maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  readsSnapshotData: true,
  createNetwork: ({ clusterId, members, tls }) => {
    /** Where each started node listens; the transports resolve peers through it at every reconnect. */
    const addresses = new Map<NodeId, string>();
    const open: StreamingTransport[] = [];
    const holes: { server: NetServer; sockets: Set<Socket> }[] = [];
    return {
      transport: (id, options = {}): Transport => {
        const nodeTls = options.tls ?? tls?.get(id);
        const transport = createStreamingTransport({
          id,
          clusterId: options.clusterId ?? clusterId,
          peers: (peer) => addresses.get(peer),
          members,
          listen: '127.0.0.1:0',
          ackTimeoutMs: ACK_TIMEOUT_MS,
          reconnectBaseMs: 20,
          reconnectMaxMs: 500,
          closeTimeoutMs: 500,
          logger: silentLogger,
          ...(nodeTls === undefined ? {} : { tls: nodeTls }),
        });
        open.push(transport);
        return {
          start: async (handler) => {
            await transport.start(handler);
            addresses.set(id, transport.address!);
          },
          send: (message) => transport.send(message),
          close: () => transport.close(),
        };
      },
      blackHole: async (id) => {
        const sockets = new Set<Socket>();
        const server = createServer((socket) => {
          sockets.add(socket);
          socket.on('error', noop);
          socket.on('close', () => sockets.delete(socket));
        });
        server.listen(0, '127.0.0.1');
        await once(server, 'listening');
        const address = server.address();
        if (typeof address !== 'object' || address === null) throw new Error('no address');
        holes.push({ server, sockets });
        addresses.set(id, `127.0.0.1:${address.port}`);
      },
      sendRawBytes: async (from, to, bytes) => {
        const address = addresses.get(to);
        if (address === undefined) throw new Error(`${to} is not started`);
        // No send limit on this side: the oversized case must reach the receiver's limit.
        const client = new Client(address, credentials.createInsecure(), {
          'grpc.max_send_message_length': -1,
        });
        try {
          const metadata = new Metadata();
          metadata.set(CLUSTER_ID_METADATA_KEY, clusterId);
          metadata.set(NODE_ID_METADATA_KEY, from);
          const call = client.makeBidiStreamRequest(
            RAFT_SERVICE_DEFINITION.Stream.path,
            (raw: Buffer) => raw,
            (raw: Buffer) => raw,
            metadata,
          );
          call.on('error', noop);
          call.on('data', noop);
          const ended = new Promise<StatusObject>((resolve) => call.once('status', resolve));
          call.write(Buffer.from(bytes));
          call.end();
          const status = await ended;
          return status.code === 0 ? null : TransportError.fromStatus(status).code;
        } finally {
          client.close();
        }
      },
      close: async () => {
        await Promise.all(open.map((t) => t.close()));
        for (const hole of holes) {
          for (const socket of hole.sockets) socket.destroy();
          await new Promise((resolve) => hole.server.close(resolve));
        }
      },
    };
  },
});
