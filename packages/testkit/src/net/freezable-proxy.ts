import { once } from 'node:events';
import { connect, createServer, type Server as NetServer, type Socket } from 'node:net';

/**
 * A TCP relay to `target` that can be frozen: it then stops moving bytes but keeps the connections open,
 * which is what a dead peer or a black-holed network looks like to the other side (for keep-alive tests).
 */
export interface FreezableProxy {
  readonly address: string;
  freeze(): void;
  close(): Promise<void>;
}

/** Starts a {@link FreezableProxy} on 127.0.0.1. */
export async function freezableProxy(target: number): Promise<FreezableProxy> {
  const sockets = new Set<Socket>();
  let frozen = false;
  const server: NetServer = createServer((inbound) => {
    const outbound = connect(target, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    inbound.on('data', (chunk) => {
      if (!frozen) outbound.write(chunk);
    });
    outbound.on('data', (chunk) => {
      if (!frozen) inbound.write(chunk);
    });
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    address: `127.0.0.1:${port}`,
    freeze: () => {
      frozen = true;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
