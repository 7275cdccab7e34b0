import * as path from 'node:path';
import { type Snapshot, SnapshotData, type SnapshotMeta } from '@tsraft/core';
import { crc32 } from './crc32.js';
import { syncDir } from './data-dir.js';
import type { FileSystem } from './file-system.js';
import { LogStorageError } from './log-storage-error.js';

/**
 * Snapshot files in a data directory, written atomically and read back in chunks.
 *
 * File format: `"TSRSNAP1"`, u32 meta length, meta (JSON: index, term, conf), the data, then a trailer of
 * u64 data length, u32 CRC-32 over meta and data, `"TEND"`. A file is written as `<name>.tmp`, synced, renamed
 * and the directory synced, so a snapshot file either is complete or does not exist under its name.
 */
export interface SnapshotStoreOptions {
  readonly fs: FileSystem;
  readonly dir: string;
  /** Bytes per write and read. Default 64 KiB. */
  readonly chunkBytes?: number;
}

/**
 * A stored snapshot file, read on demand: its meta and length are known, its bytes stay on disk.
 * {@link read} opens the file anew on every call (synchronously), checks that it still is the same
 * snapshot (same length and checksum), and yields its data chunk by chunk while verifying the checksum.
 */
export interface SnapshotReader {
  readonly meta: SnapshotMeta;
  /** Bytes of data (the state machine's bytes, without the file's header and trailer). */
  readonly byteLength: number;
  /** CRC-32 over the meta and the data, as recorded in the file's trailer. */
  readonly checksum: number;
  /** The snapshot file. */
  readonly file: string;
  /**
   * Reads the data synchronously, one chunk (`chunkBytes`) per step, each chunk a new buffer. The file is
   * held open until the generator ends (or is returned early).
   *
   * @throws LogStorageError `SNAPSHOT_GONE` when the file no longer exists (pruned after newer snapshots),
   * `CORRUPT` when it is damaged or no longer this snapshot (thrown before the last chunk is yielded when
   * the checksum fails), `IO_FAILED` when a read fails.
   */
  read(): Generator<Uint8Array, void, undefined>;
}

const MAGIC = Buffer.from('TSRSNAP1');
const TRAILER_MAGIC = Buffer.from('TEND');
const HEAD_BYTES = MAGIC.byteLength + 4;
const TRAILER_BYTES = 16;
const PREFIX = 'snapshot-';
const SUFFIX = '.snap';

/** The file name of the snapshot at `index` (zero-padded so names sort by index). */
export function snapshotFileName(index: number): string {
  return `${PREFIX}${String(index).padStart(20, '0')}${SUFFIX}`;
}

/** Where a snapshot file's parts are, read from its header and trailer. */
interface Layout {
  readonly metaBytes: Buffer;
  readonly dataStart: number;
  readonly dataBytes: number;
  readonly checksum: number;
}

/** Reads `buffer.byteLength` bytes at `position` (sync or async, with the same checks). */
type ReadAt<R> = (buffer: Uint8Array, position: number) => R;

function corrupt(file: string, reason: string, offset?: number): LogStorageError {
  return new LogStorageError(
    'CORRUPT',
    `snapshot ${reason}`,
    offset === undefined ? { file } : { file, offset },
  );
}

/**
 * Parses a snapshot file's header and trailer. Written as a generator over reads so that the synchronous
 * and the asynchronous openers share it: each `yield` asks the caller to fill a buffer at a position.
 */
function* parseLayout(
  file: string,
  size: number,
): Generator<{ buffer: Buffer; position: number }, Layout, void> {
  const head = Buffer.alloc(HEAD_BYTES);
  if (size < head.byteLength + TRAILER_BYTES) throw corrupt(file, 'file is truncated', size);
  yield { buffer: head, position: 0 };
  if (!head.subarray(0, MAGIC.byteLength).equals(MAGIC)) throw corrupt(file, 'has no snapshot header', 0);
  const metaLength = head.readUInt32LE(MAGIC.byteLength);
  const dataStart = HEAD_BYTES + metaLength;
  if (dataStart + TRAILER_BYTES > size) throw corrupt(file, 'file is truncated', size);
  const metaBytes = Buffer.alloc(metaLength);
  yield { buffer: metaBytes, position: HEAD_BYTES };
  const trailer = Buffer.alloc(TRAILER_BYTES);
  yield { buffer: trailer, position: size - TRAILER_BYTES };
  const dataBytes = trailer.readUInt32LE(0) + trailer.readUInt32LE(4) * 0x1_0000_0000;
  if (!trailer.subarray(12).equals(TRAILER_MAGIC) || dataStart + dataBytes + TRAILER_BYTES !== size) {
    throw corrupt(file, 'file is truncated or its trailer is damaged', size - TRAILER_BYTES);
  }
  return { metaBytes, dataStart, dataBytes, checksum: trailer.readUInt32LE(8) };
}

function parseMeta(file: string, metaBytes: Buffer): SnapshotMeta {
  try {
    return JSON.parse(metaBytes.toString('utf8')) as SnapshotMeta;
  } catch (error) {
    throw new LogStorageError('CORRUPT', 'snapshot meta is not valid JSON', {
      file,
      offset: HEAD_BYTES,
      cause: error,
    });
  }
}

/** Stores and loads snapshot files. Created by the disk storage; usable on its own for streaming. */
export class SnapshotStore {
  private readonly fs: FileSystem;
  private readonly dir: string;
  private readonly chunkBytes: number;

  constructor(options: SnapshotStoreOptions) {
    this.fs = options.fs;
    this.dir = options.dir;
    this.chunkBytes = options.chunkBytes ?? 64 * 1024;
  }

  /** The path of the snapshot file at `index`. */
  fileOf(index: number): string {
    return path.join(this.dir, snapshotFileName(index));
  }

  /** Indexes of the complete-looking snapshot files, newest first. Removes leftover temporary files. */
  async list(): Promise<number[]> {
    const indexes: number[] = [];
    for (const name of await this.fs.readdir(this.dir)) {
      if (!name.startsWith(PREFIX)) continue;
      if (name.endsWith(`${SUFFIX}.tmp`)) {
        await this.fs.unlink(path.join(this.dir, name));
        continue;
      }
      if (!name.endsWith(SUFFIX)) continue;
      const index = Number(name.slice(PREFIX.length, -SUFFIX.length));
      if (Number.isSafeInteger(index)) indexes.push(index);
    }
    return indexes.sort((a, b) => b - a);
  }

  /**
   * Writes a snapshot from `chunks` (streamed, never joined into one buffer) and makes it durable. Returns
   * a reader of the stored file. When `chunks` throws, the temporary file is removed and the error is
   * rethrown as it is.
   */
  async write(
    meta: SnapshotMeta,
    chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  ): Promise<SnapshotReader> {
    const file = this.fileOf(meta.index);
    const tmp = `${file}.tmp`;
    const stored: SnapshotMeta = { index: meta.index, term: meta.term, conf: meta.conf };
    const metaBytes = Buffer.from(JSON.stringify(stored));
    const head = Buffer.allocUnsafe(HEAD_BYTES);
    MAGIC.copy(head, 0);
    head.writeUInt32LE(metaBytes.byteLength, MAGIC.byteLength);
    const fd = await this.fs.open(tmp, 'w');
    let crc = crc32(metaBytes);
    let dataBytes = 0;
    try {
      let position = 0;
      const put = async (buffers: Uint8Array[]): Promise<void> => {
        const want = buffers.reduce((n, b) => n + b.byteLength, 0);
        const wrote = await this.fs.writev(fd, buffers, position);
        if (wrote !== want) throw new Error(`short write: ${wrote} of ${want} bytes`);
        position += wrote;
      };
      await put([head, metaBytes]);
      for await (const chunk of chunks) {
        if (chunk.byteLength === 0) continue;
        crc = crc32(chunk, crc);
        dataBytes += chunk.byteLength;
        await put([chunk]);
      }
      const trailer = Buffer.allocUnsafe(TRAILER_BYTES);
      trailer.writeUInt32LE(dataBytes >>> 0, 0);
      trailer.writeUInt32LE(Math.floor(dataBytes / 0x1_0000_0000), 4);
      trailer.writeUInt32LE(crc, 8);
      TRAILER_MAGIC.copy(trailer, 12);
      await put([trailer]);
      await this.fs.fsync(fd);
    } catch (error) {
      await this.fs.close(fd).catch(() => {});
      await this.fs.unlink(tmp).catch(() => {});
      throw error;
    }
    await this.fs.close(fd);
    await this.fs.rename(tmp, file);
    await syncDir(this.fs, this.dir);
    return this.reader(stored, dataBytes, crc);
  }

  /**
   * Reads the snapshot at `index` as its meta and a stream of data chunks. The checksum is verified as the
   * chunks go by; the stream throws `CORRUPT` at its end (before its last chunk is yielded) when it fails,
   * and when the file is truncated.
   */
  async open(index: number): Promise<{
    meta: SnapshotMeta;
    byteLength: number;
    checksum: number;
    chunks: AsyncIterable<Uint8Array>;
  }> {
    const file = this.fileOf(index);
    const fd = await this.fs.open(file, 'r');
    let handed = false;
    try {
      const size = await this.fs.size(fd);
      const parse = parseLayout(file, size);
      let step = parse.next();
      while (!step.done) {
        await this.readFully(fd, file, step.value.buffer, step.value.position);
        step = parse.next();
      }
      const layout = step.value;
      const meta = parseMeta(file, layout.metaBytes);
      const store = this;
      async function* chunks(): AsyncGenerator<Uint8Array> {
        try {
          yield* store.dataChunksAsync(layout, file, (buffer, position) =>
            store.readFully(fd, file, buffer, position),
          );
        } finally {
          await store.fs.close(fd);
        }
      }
      handed = true;
      return { meta, byteLength: layout.dataBytes, checksum: layout.checksum, chunks: chunks() };
    } finally {
      if (!handed) await this.fs.close(fd);
    }
  }

  /**
   * Reads the snapshot file at `index` through (asynchronously, chunk by chunk, holding no more than one
   * chunk) to verify its checksum, and returns a reader of it.
   * @throws LogStorageError `CORRUPT` (with the file and, when known, the offset) when it does not verify.
   */
  async verify(index: number): Promise<SnapshotReader> {
    const { meta, byteLength, checksum, chunks } = await this.open(index);
    for await (const _ of chunks);
    return this.reader(meta, byteLength, checksum);
  }

  /**
   * Opens the snapshot at `index` synchronously: reads its header and trailer (not its data) and returns a
   * reader of it. The data is verified only as it is read.
   * @throws LogStorageError `SNAPSHOT_GONE` when there is no such file, `CORRUPT` when its header or
   * trailer is damaged.
   */
  openSync(index: number): SnapshotReader {
    const file = this.fileOf(index);
    const layout = this.withFileSync(file, (fd) => this.layoutSync(fd, file));
    return this.reader(parseMeta(file, layout.metaBytes), layout.dataBytes, layout.checksum);
  }

  /** The data of a stored snapshot as {@link SnapshotData} read from its file on each use (never held). */
  data(reader: SnapshotReader): SnapshotData {
    if (reader.byteLength === 0) return SnapshotData.EMPTY;
    return SnapshotData.fromSource(reader.byteLength, () => reader.read());
  }

  /**
   * Reads and verifies the whole snapshot at `index` into memory (chunk by chunk, not joined). Meant for
   * tests and small snapshots; prefer {@link openSync} or {@link open}.
   */
  async read(index: number): Promise<Snapshot> {
    const { meta, chunks } = await this.open(index);
    const parts: Uint8Array[] = [];
    for await (const chunk of chunks) parts.push(chunk);
    return { meta, data: SnapshotData.fromChunks(parts) };
  }

  /** Deletes the snapshot file at `index`. */
  async remove(index: number): Promise<void> {
    await this.fs.unlink(this.fileOf(index));
  }

  /** A reader of the file of the snapshot `meta`, expected to hold `byteLength` bytes with `checksum`. */
  private reader(meta: SnapshotMeta, byteLength: number, checksum: number): SnapshotReader {
    const file = this.fileOf(meta.index);
    const store = this;
    return {
      meta,
      byteLength,
      checksum,
      file,
      *read() {
        const fd = store.openFileSync(file);
        try {
          const layout = store.layoutSync(fd, file);
          if (layout.dataBytes !== byteLength || layout.checksum !== checksum) {
            throw corrupt(
              file,
              `file changed since it was stored: ${layout.dataBytes} bytes with checksum ${layout.checksum}, expected ${byteLength} bytes with checksum ${checksum}`,
            );
          }
          yield* store.dataChunksSync(layout, file, (buffer, position) =>
            store.readFullySync(fd, file, buffer, position),
          );
        } finally {
          store.fs.closeSync(fd);
        }
      },
    };
  }

  /**
   * Yields the data in chunks of `chunkBytes` read with `readAt`, computing the checksum; throws `CORRUPT`
   * before the last chunk is yielded when it does not match.
   */
  private *dataChunksSync(
    layout: Layout,
    file: string,
    readAt: ReadAt<void>,
  ): Generator<Uint8Array, void, undefined> {
    let crc = crc32(layout.metaBytes);
    let position = layout.dataStart;
    const end = layout.dataStart + layout.dataBytes;
    let pending: Uint8Array | null = null;
    while (position < end) {
      const chunk = new Uint8Array(Math.min(this.chunkBytes, end - position));
      readAt(chunk, position);
      crc = crc32(chunk, crc);
      position += chunk.byteLength;
      if (pending !== null) yield pending;
      pending = chunk;
    }
    if (crc !== layout.checksum) throw corrupt(file, 'checksum mismatch');
    if (pending !== null) yield pending;
  }

  /** {@link dataChunksSync} with asynchronous reads. */
  private async *dataChunksAsync(
    layout: Layout,
    file: string,
    readAt: ReadAt<Promise<void>>,
  ): AsyncGenerator<Uint8Array> {
    let crc = crc32(layout.metaBytes);
    let position = layout.dataStart;
    const end = layout.dataStart + layout.dataBytes;
    let pending: Uint8Array | null = null;
    while (position < end) {
      const chunk = new Uint8Array(Math.min(this.chunkBytes, end - position));
      await readAt(chunk, position);
      crc = crc32(chunk, crc);
      position += chunk.byteLength;
      if (pending !== null) yield pending;
      pending = chunk;
    }
    if (crc !== layout.checksum) throw corrupt(file, 'checksum mismatch');
    if (pending !== null) yield pending;
  }

  private layoutSync(fd: number, file: string): Layout {
    const size = this.ioSync(file, () => this.fs.sizeSync(fd));
    const parse = parseLayout(file, size);
    let step = parse.next();
    while (!step.done) {
      this.readFullySync(fd, file, step.value.buffer, step.value.position);
      step = parse.next();
    }
    return step.value;
  }

  private withFileSync<T>(file: string, body: (fd: number) => T): T {
    const fd = this.openFileSync(file);
    try {
      return body(fd);
    } finally {
      this.fs.closeSync(fd);
    }
  }

  private openFileSync(file: string): number {
    try {
      return this.fs.openSync(file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException)?.code === 'ENOENT') {
        throw new LogStorageError(
          'SNAPSHOT_GONE',
          "the snapshot file no longer exists: newer snapshots replaced it (a reader must take the storage's current snapshot again)",
          { file, cause: error },
        );
      }
      throw new LogStorageError('IO_FAILED', `opening a snapshot file failed: ${(error as Error)?.message}`, {
        file,
        cause: error,
      });
    }
  }

  /** Runs a synchronous read, turning an I/O error into `IO_FAILED`. */
  private ioSync<T>(file: string, body: () => T, offset?: number): T {
    try {
      return body();
    } catch (error) {
      if (error instanceof LogStorageError) throw error;
      throw new LogStorageError('IO_FAILED', `reading a snapshot file failed: ${(error as Error)?.message}`, {
        file,
        cause: error,
        ...(offset === undefined ? {} : { offset }),
      });
    }
  }

  private readFullySync(fd: number, file: string, buffer: Uint8Array, position: number): void {
    let done = 0;
    while (done < buffer.byteLength) {
      const n = this.ioSync(
        file,
        () => this.fs.readSync(fd, buffer, done, buffer.byteLength - done, position + done),
        position + done,
      );
      if (n === 0) throw corrupt(file, 'file ends early', position + done);
      done += n;
    }
  }

  private async readFully(fd: number, file: string, buffer: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < buffer.byteLength) {
      const n = await this.fs.read(fd, buffer, done, buffer.byteLength - done, position + done);
      if (n === 0) throw corrupt(file, 'file ends early', position + done);
      done += n;
    }
  }
}
