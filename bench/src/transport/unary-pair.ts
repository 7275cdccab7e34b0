import { createUnaryTransport } from '@tsraft/transport-unary';
import { pino } from 'pino';
import { type BenchPairFactory, startPair } from './bench-pair.js';

/**
 * A pair of `@tsraft/transport-unary` transports on 127.0.0.1 with default options (messages sent in
 * the same turn share one call) and no logging.
 */
export const createUnaryPair: BenchPairFactory = (receiver) => unaryPair(receiver, {});

/** The same pair with batching off: every message is its own unary call. */
export const createUnaryUnbatchedPair: BenchPairFactory = (receiver) =>
  unaryPair(receiver, { maxBatchMessages: 1 });

function unaryPair(receiver: Parameters<BenchPairFactory>[0], extra: { readonly maxBatchMessages?: number }) {
  const addresses = new Map<string, string>();
  const logger = pino({ level: 'silent' });
  return startPair(
    (id) =>
      createUnaryTransport({
        id,
        clusterId: 'bench',
        listen: '127.0.0.1:0',
        peers: addresses,
        members: ['a', 'b'],
        electionTimeoutMs: 5_000,
        logger,
        ...extra,
      }),
    receiver,
    addresses,
  );
}
