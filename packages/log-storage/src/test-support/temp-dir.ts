// Helpers for this package's tests: temporary data directories and a fault-injecting file layer.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { type FileSystem, nodeFileSystem } from '../file-system.js';

/** A new empty temporary directory and a function that removes it. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'tsraft-log-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Which call a {@link FaultyFileSystem} fails, and how. */
export interface Faults {
  /** Fail every fdatasync/fsync of a file from now on (EIO). */
  failSync: boolean;
  /** Fail every writev with ENOSPC, after writing `partialBytes` of it. */
  noSpace: boolean;
  partialBytes: number;
}

/** The real file system with switchable faults. */
export function faultyFileSystem(): { fs: FileSystem; faults: Faults } {
  const faults: Faults = { failSync: false, noSpace: false, partialBytes: 0 };
  const errno = (code: string): NodeJS.ErrnoException =>
    Object.assign(new Error(`${code}: injected`), { code });
  const fs: FileSystem = {
    ...nodeFileSystem,
    async fdatasync(fd) {
      if (faults.failSync) throw errno('EIO');
      return nodeFileSystem.fdatasync(fd);
    },
    async fsync(fd) {
      if (faults.failSync) throw errno('EIO');
      return nodeFileSystem.fsync(fd);
    },
    async writev(fd, buffers, position) {
      if (!faults.noSpace) return nodeFileSystem.writev(fd, buffers, position);
      const all = Buffer.concat(buffers.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)));
      if (faults.partialBytes > 0)
        await nodeFileSystem.writev(fd, [all.subarray(0, faults.partialBytes)], position);
      throw errno('ENOSPC');
    },
  };
  return { fs, faults };
}
