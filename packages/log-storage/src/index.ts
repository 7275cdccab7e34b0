// Durable storage for tsraft: a segmented write-ahead log, hard state and snapshots on disk.

export { DiskLogStorage, type DiskLogStorageOptions, openLogStorage } from './disk-log-storage.js';
// Integrators: the pluggable file layer, the snapshot store, the error type.
export { type FileSystem, nodeFileSystem } from './file-system.js';
export {
  LogStorageError,
  type LogStorageErrorCode,
  type LogStorageErrorOptions,
} from './log-storage-error.js';
export {
  type SnapshotReader,
  SnapshotStore,
  type SnapshotStoreOptions,
  snapshotFileName,
} from './snapshot-store.js';
