import * as path from 'node:path';
import type { FileSystem } from './file-system.js';
import { LogStorageError } from './log-storage-error.js';

/** Name of the lock file in a data directory. */
export const LOCK_FILE = 'LOCK';
/** Name of the identity file in a data directory. */
export const IDENTITY_FILE = 'identity.json';

/** Who a data directory belongs to. */
export interface DataDirIdentity {
  readonly nodeId: string;
  readonly clusterId: string;
}

/** Makes the directory entries of `dir` (new files, renames, deletions) durable. */
export async function syncDir(fs: FileSystem, dir: string): Promise<void> {
  const fd = await fs.open(dir, 'r');
  try {
    await fs.fsync(fd);
  } finally {
    await fs.close(fd);
  }
}

/** Writes a small file atomically: a temporary file, fsync, rename over `file`, fsync the directory. */
export async function writeFileAtomic(fs: FileSystem, file: string, data: Uint8Array): Promise<void> {
  const tmp = `${file}.tmp`;
  const fd = await fs.open(tmp, 'w');
  try {
    await fs.writev(fd, [data], 0);
    await fs.fsync(fd);
  } finally {
    await fs.close(fd);
  }
  await fs.rename(tmp, file);
  await syncDir(fs, path.dirname(file));
}

/**
 * Takes the directory's lock: a `LOCK` file holding this process's pid, created exclusively. A lock left
 * by a process that no longer runs (killed) is taken over.
 * @throws LogStorageError `LOCKED` when a live process (this one included) holds it.
 */
export async function acquireLock(fs: FileSystem, dir: string): Promise<void> {
  const file = path.join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = await fs.open(file, 'wx');
      try {
        await fs.writev(fd, [Buffer.from(String(process.pid))], 0);
        await fs.fsync(fd);
      } finally {
        await fs.close(fd);
      }
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number(Buffer.from(await fs.readFile(file)).toString('utf8'));
    if (Number.isSafeInteger(holder) && holder > 0 && processIsAlive(holder)) {
      throw new LogStorageError('LOCKED', `the data directory is in use by process ${holder}`, { file });
    }
    await fs.unlink(file);
  }
  throw new LogStorageError('LOCKED', 'could not take the data directory lock', { file });
}

/** Removes the lock taken by {@link acquireLock}. */
export async function releaseLock(fs: FileSystem, dir: string): Promise<void> {
  await fs.unlink(path.join(dir, LOCK_FILE));
}

function processIsAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Records who the directory belongs to (atomically). Written last when a directory is set up. */
export async function writeIdentity(fs: FileSystem, dir: string, identity: DataDirIdentity): Promise<void> {
  const text = JSON.stringify({ format: 1, nodeId: identity.nodeId, clusterId: identity.clusterId });
  await writeFileAtomic(fs, path.join(dir, IDENTITY_FILE), Buffer.from(text));
}

/**
 * Checks that the directory belongs to `identity`. Returns false when it has no identity yet (a new
 * directory, or one whose setup was interrupted); the caller records it with {@link writeIdentity}.
 * @throws LogStorageError `WRONG_NODE` for another node's or cluster's data, `CORRUPT` for an unreadable file.
 */
export async function checkIdentity(
  fs: FileSystem,
  dir: string,
  identity: DataDirIdentity,
): Promise<boolean> {
  const file = path.join(dir, IDENTITY_FILE);
  let raw: Uint8Array;
  try {
    raw = await fs.readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return false;
  }
  let stored: { nodeId?: unknown; clusterId?: unknown };
  try {
    stored = JSON.parse(Buffer.from(raw).toString('utf8')) as typeof stored;
  } catch (error) {
    throw new LogStorageError('CORRUPT', 'the identity file is not valid JSON', { file, cause: error });
  }
  if (stored.nodeId !== identity.nodeId || stored.clusterId !== identity.clusterId) {
    throw new LogStorageError(
      'WRONG_NODE',
      `the data belongs to node ${String(stored.nodeId)} of cluster ${String(stored.clusterId)}, ` +
        `not node ${identity.nodeId} of cluster ${identity.clusterId}`,
      { file },
    );
  }
  return true;
}
