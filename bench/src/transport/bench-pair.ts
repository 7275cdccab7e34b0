import type { Transport, TransportHandler } from '@tsraft/core';

/** A sender and a receiver transport, started and connected on loopback, for a benchmark. */
export interface BenchPair {
  /** Node `a`'s transport: the benchmark sends from it to `b`. */
  readonly sender: Transport;
  /** Closes both transports. */
  close(): Promise<void>;
}

/**
 * Makes a started {@link BenchPair} of one transport implementation whose receiver `b` hands every
 * message to `receiver`. Each transport under benchmark provides one.
 */
export type BenchPairFactory = (receiver: TransportHandler) => Promise<BenchPair>;

/** Starts transports `a` (sender) and `b` (receiver) made by `make`, once `b`'s address is known. */
export async function startPair(
  make: (id: 'a' | 'b') => Transport & { readonly address: string },
  receiver: TransportHandler,
  addresses: Map<string, string>,
): Promise<BenchPair> {
  const b = make('b');
  await b.start(receiver);
  addresses.set('b', b.address);
  const a = make('a');
  await a.start({ onMessage: () => {}, onUnreachable: () => {} });
  addresses.set('a', a.address);
  return {
    sender: a,
    close: async () => {
      await Promise.all([a.close(), b.close()]);
    },
  };
}
