import type { ConfState } from '@tsraft/core';
import { describeLogStorageConformance, type LogStorageUnderTest } from '@tsraft/testkit';
import { type DiskLogStorageOptions, openLogStorage } from './disk-log-storage.js';
import { tempDir } from './test-support/temp-dir.js';

/** A disk storage in a fresh temporary directory, removed on dispose (or at once if opening fails). */
async function diskStorage(
  conf: ConfState,
  extra: Partial<DiskLogStorageOptions> = {},
): Promise<LogStorageUnderTest> {
  const { dir, remove } = tempDir();
  const open = () => openLogStorage({ dir, nodeId: 'a', clusterId: 'c1', conf, ...extra });
  try {
    return { storage: await open(), reopen: open, dispose: async () => remove() };
  } catch (error) {
    remove();
    throw error;
  }
}

describeLogStorageConformance('DiskLogStorage', (conf) => diskStorage(conf));

describeLogStorageConformance('DiskLogStorage with tiny segments and cache', (conf) =>
  diskStorage(conf, { segmentBytes: 64, cacheBytes: 4 }),
);
