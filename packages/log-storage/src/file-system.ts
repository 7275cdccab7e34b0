import * as fs from 'node:fs';
import { promisify } from 'node:util';

/**
 * The file operations the disk storage uses, as a small interface so tests can inject faults (a failed
 * fsync, a full disk, a torn write). Paths are absolute; `fd`s are whatever `open` returned.
 * Every write and sync is asynchronous, so none blocks the event loop; the synchronous methods
 * (`openSync`, `sizeSync`, `readSync`, `closeSync`) serve the core's synchronous reads: log entries not in
 * memory and stored snapshots, read chunk by chunk.
 */
export interface FileSystem {
  /** Opens a file. `flags` as in `fs.open` (`'r'`, `'r+'`, `'wx+'`, ...). */
  open(path: string, flags: string): Promise<number>;
  close(fd: number): Promise<void>;
  /** Writes every buffer, in order, at `position`; resolves with the bytes written. */
  writev(fd: number, buffers: readonly Uint8Array[], position: number): Promise<number>;
  /** Reads up to `length` bytes at `position` into `buffer` at `offset`; resolves with the bytes read. */
  read(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** Synchronous positional read, for the core's synchronous log reads of entries not in memory. */
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  /** Synchronous {@link open}, for reading a stored snapshot chunk by chunk. */
  openSync(path: string, flags: string): number;
  /** Synchronous {@link close}. */
  closeSync(fd: number): void;
  /** Synchronous {@link size}. */
  sizeSync(fd: number): number;
  /** Flushes the file's data (and the metadata needed to read it back) to stable storage. */
  fdatasync(fd: number): Promise<void>;
  /** Flushes the file's data and metadata to stable storage. Also used on directories. */
  fsync(fd: number): Promise<void>;
  ftruncate(fd: number, length: number): Promise<void>;
  /** Size in bytes of an open file. */
  size(fd: number): Promise<number>;
  readFile(path: string): Promise<Uint8Array>;
  readdir(path: string): Promise<string[]>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  mkdir(path: string): Promise<void>;
}

const open = promisify(fs.open) as (path: string, flags: string) => Promise<number>;
const writev = promisify(fs.writev);
const read = promisify(fs.read);

/** The real file system (`node:fs`). */
export const nodeFileSystem: FileSystem = {
  open: (path, flags) => open(path, flags),
  close: promisify(fs.close),
  writev: (fd, buffers, position) =>
    writev(fd, buffers as Uint8Array[], position).then((r) => r.bytesWritten),
  read: (fd, buffer, offset, length, position) =>
    read(fd, buffer, offset, length, position).then((r) => r.bytesRead),
  readSync: (fd, buffer, offset, length, position) => fs.readSync(fd, buffer, offset, length, position),
  openSync: (path, flags) => fs.openSync(path, flags),
  closeSync: (fd) => fs.closeSync(fd),
  sizeSync: (fd) => fs.fstatSync(fd).size,
  fdatasync: promisify(fs.fdatasync),
  fsync: promisify(fs.fsync),
  ftruncate: promisify(fs.ftruncate),
  size: (fd) => promisify(fs.fstat)(fd).then((s) => s.size),
  readFile: (path) => fs.promises.readFile(path),
  readdir: (path) => fs.promises.readdir(path),
  rename: (from, to) => fs.promises.rename(from, to),
  unlink: (path) => fs.promises.unlink(path),
  mkdir: (path) => fs.promises.mkdir(path, { recursive: true }).then(() => undefined),
};
