import type { LogStorage, Transport } from '@tsraft/core';
import type { ServerMetrics } from './metrics.js';

/** `storage` with the duration of each durable write observed (the fsync latency the node sees). */
export function instrumentStorage(storage: LogStorage, metrics: ServerMetrics): LogStorage {
  return {
    initialState: () => storage.initialState(),
    entries: (lo, hi, maxBytes) => storage.entries(lo, hi, maxBytes),
    term: (index) => storage.term(index),
    firstIndex: () => storage.firstIndex(),
    lastIndex: () => storage.lastIndex(),
    snapshot: () => storage.snapshot(),
    save: async (update) => {
      const started = performance.now();
      await storage.save(update);
      if (update.sync) metrics.storageSaved((performance.now() - started) / 1000);
    },
    saveSnapshot: (meta, data) => storage.saveSnapshot(meta, data),
    compact: (index) => storage.compact(index),
    close: () => storage.close(),
  };
}

/** `transport` with each outgoing message counted by type. */
export function instrumentTransport<T extends Transport>(transport: T, metrics: ServerMetrics): Transport {
  return {
    start: (handler) => transport.start(handler),
    send: (message) => {
      metrics.messageSent(message.type);
      transport.send(message);
    },
    close: () => transport.close(),
  };
}
