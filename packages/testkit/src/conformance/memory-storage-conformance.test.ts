import { MemoryStorage } from '@tsraft/core';
import { describeLogStorageConformance } from './log-storage-conformance.js';

describeLogStorageConformance('MemoryStorage', async (conf) => ({
  storage: new MemoryStorage({ conf }),
  dispose: async () => {},
}));
