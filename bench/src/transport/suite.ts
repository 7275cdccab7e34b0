import type { Message, TransportHandler } from '@tsraft/core';
import type { BenchSuite, Comparison } from '../suite.js';
import type { BenchPair, BenchPairFactory } from './bench-pair.js';
import { BENCH_TRANSPORTS } from './transports.js';

/** Payload bytes per message. */
export const PAYLOAD_SIZES: readonly (readonly [string, number])[] = [
  ['100B', 100],
  ['1KiB', 1024],
  ['64KiB', 64 * 1024],
];
/** Messages outstanding at once: one case iteration sends this many, then waits for all to arrive. */
export const CONCURRENCIES: readonly number[] = [1, 16, 256];

/** A receiver that counts arrivals and resolves a waiter when a target is reached. */
interface Counter extends TransportHandler {
  /** Resolves once `count` more messages have arrived. */
  expect(count: number): Promise<void>;
}

function counter(): Counter {
  let received = 0;
  let target = Number.POSITIVE_INFINITY;
  let resolve: (() => void) | null = null;
  return {
    onMessage: () => {
      received++;
      if (received >= target && resolve !== null) {
        const r = resolve;
        resolve = null;
        r();
      }
    },
    onUnreachable: () => {},
    expect: (count) => {
      target = received + count;
      return new Promise<void>((r) => {
        resolve = r;
      });
    },
  };
}

/** An append from `a` to `b` carrying one entry of `payloadBytes`. */
function appendMessage(index: number, payloadBytes: number): Message {
  return {
    type: 'append',
    from: 'a',
    to: 'b',
    term: 1,
    prevLogIndex: index - 1,
    prevLogTerm: 1,
    commit: 0,
    entries: [{ index, term: 1, type: 'normal', data: new Uint8Array(payloadBytes).fill(7) }],
  };
}

/** One started pair per transport, made on first use and shared by its cases. */
interface LazyPair {
  readonly receiver: Counter;
  get(): Promise<BenchPair>;
  close(): Promise<void>;
}

function lazyPair(factory: BenchPairFactory): LazyPair {
  const receiver = counter();
  let pair: Promise<BenchPair> | null = null;
  return {
    receiver,
    get: () => {
      pair ??= factory(receiver);
      return pair;
    },
    close: async () => {
      if (pair !== null) await (await pair).close();
      pair = null;
    },
  };
}

/** Charts: a row of bars per payload and concurrency, a bar per transport (`unary/1KiB/c16` → `1KiB c16`, `unary`). */
function byBurst(caseName: string): { group: string; series: string } {
  const [series = caseName, ...rest] = caseName.split('/');
  return { group: rest.join(' '), series };
}

/**
 * Builds the `transport` suite over `transports` (default: {@link BENCH_TRANSPORTS}): for each transport,
 * payload size and concurrency, one iteration sends `concurrency` appends of one entry from `a` to `b`
 * on loopback and waits until `b` has received them all. Messages/s = ops/s × concurrency; the ratio
 * `unary / <other>` of mean latencies is how many times more messages/s the other transport carries.
 */
export function createTransportSuite(
  transports: Readonly<Record<string, BenchPairFactory>> = BENCH_TRANSPORTS,
): BenchSuite & { close(): Promise<void> } {
  const pairs = new Map(Object.entries(transports).map(([name, factory]) => [name, lazyPair(factory)]));
  const cases: Record<string, () => Promise<void>> = {};
  const comparisons: Comparison[] = [];
  for (const [name, lazy] of pairs) {
    for (const [sizeName, size] of PAYLOAD_SIZES) {
      for (const concurrency of CONCURRENCIES) {
        const messages = Array.from({ length: concurrency }, (_, i) => appendMessage(i + 1, size));
        cases[`${name}/${sizeName}/c${concurrency}`] = async () => {
          const pair = await lazy.get();
          const arrived = lazy.receiver.expect(concurrency);
          for (const message of messages) pair.sender.send(message);
          await arrived;
        };
        if (name !== 'unary' && pairs.has('unary')) {
          comparisons.push({
            name: `${sizeName} c${concurrency}: unary / ${name} (× ${name}'s messages/s)`,
            numerator: `unary/${sizeName}/c${concurrency}`,
            denominator: `${name}/${sizeName}/c${concurrency}`,
          });
        }
      }
    }
  }
  return {
    name: 'transport',
    // 5 rounds keep a full `pnpm bench` under its 20-minute budget (10 took 564 s for this suite alone).
    defaultRounds: 5,
    description:
      'gRPC transports on loopback: one op sends <concurrency> appends of one <payload> entry from a to b and ' +
      'waits for all to arrive (messages/s = ops/s × concurrency)',
    cases,
    comparisons,
    throughput: { unit: 'messages/s', perOp: (c) => Number(/\/c(\d+)$/.exec(c)?.[1] ?? 1) },
    charts: [
      {
        name: 'throughput',
        title: 'messages/s by payload and concurrency',
        metrics: 'throughput',
        groupBy: byBurst,
      },
      { name: 'latency', title: 'burst latency (p50, p99)', metrics: 'latency', groupBy: byBurst },
    ],
    close: async () => {
      await Promise.all([...pairs.values()].map((p) => p.close()));
    },
  };
}
