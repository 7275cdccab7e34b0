import type { BenchPairFactory } from './bench-pair.js';
import { createStreamingPair } from './streaming-pair.js';
import { createUnaryPair, createUnaryUnbatchedPair } from './unary-pair.js';

/**
 * The transports the `transport` suite measures, by case-name prefix. Add one with one line; the suite
 * then compares it with `unary` at every payload and concurrency.
 */
export const BENCH_TRANSPORTS: Readonly<Record<string, BenchPairFactory>> = {
  unary: createUnaryPair,
  'unary-unbatched': createUnaryUnbatchedPair,
  streaming: createStreamingPair,
};
