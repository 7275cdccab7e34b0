import { createStreamingTransport } from '@tsraft/transport-streaming';
import { pino } from 'pino';
import { type BenchPairFactory, startPair } from './bench-pair.js';

/**
 * A pair of `@tsraft/transport-streaming` transports on 127.0.0.1: one long-lived stream from `a` to `b`,
 * messages sent in the same turn batched into one frame. The per-peer queue is raised to 32 MiB (the
 * unary transport's default pending bound) so the largest case (256 × 64 KiB) never drops.
 */
export const createStreamingPair: BenchPairFactory = (receiver) => {
  const addresses = new Map<string, string>();
  const logger = pino({ level: 'silent' });
  return startPair(
    (id) => {
      const transport = createStreamingTransport({
        id,
        clusterId: 'bench',
        listen: '127.0.0.1:0',
        peers: (peer) => addresses.get(peer),
        members: ['a', 'b'],
        maxQueuedBytes: 32 * 1024 * 1024,
        logger,
      });
      // `address` is set once `start()` resolved, which is when startPair reads it.
      return transport as typeof transport & { readonly address: string };
    },
    receiver,
    addresses,
  );
};
