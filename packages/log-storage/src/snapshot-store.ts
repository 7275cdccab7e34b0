import * as path from 'node:path';
import type { Snapshot, SnapshotMeta } from '@tsraft/core';
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

const MAGIC = Buffer.from('TSRSNAP1');
const TRAILER_MAGIC = Buffer.from('TEND');
const TRAILER_BYTES = 16;
const PREFIX = 'snapshot-';
const SUFFIX = '.snap';

/** The file name of the snapshot at `index` (zero-padded so names sort by index). */
export function snapshotFileName(index: number): string {
  return `${PREFIX}${String(index).padStart(20, '0')}${SUFFIX}`;
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

  /** Writes a snapshot from `chunks` (streamed, never joined into one buffer) and makes it durable. */
  async write(meta: SnapshotMeta, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
    const file = path.join(this.dir, snapshotFileName(meta.index));
    const tmp = `${file}.tmp`;
    const metaBytes = Buffer.from(JSON.stringify({ index: meta.index, term: meta.term, conf: meta.conf }));
    const head = Buffer.allocUnsafe(MAGIC.byteLength + 4);
    MAGIC.copy(head, 0);
    head.writeUInt32LE(metaBytes.byteLength, MAGIC.byteLength);
    const fd = await this.fs.open(tmp, 'w');
    try {
      let position = 0;
      const put = async (buffers: Uint8Array[]): Promise<void> => {
        const want = buffers.reduce((n, b) => n + b.byteLength, 0);
        const wrote = await this.fs.writev(fd, buffers, position);
        if (wrote !== want) throw new Error(`short write: ${wrote} of ${want} bytes`);
        position += wrote;
      };
      await put([head, metaBytes]);
      let crc = crc32(metaBytes);
      let dataBytes = 0;
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
    } finally {
      await this.fs.close(fd);
    }
    await this.fs.rename(tmp, file);
    await syncDir(this.fs, this.dir);
  }

  /** Writes a snapshot held in memory, in chunks of `chunkBytes`. */
  writeSnapshot(snapshot: Snapshot): Promise<void> {
    return this.write(snapshot.meta, chunksOf(snapshot.data, this.chunkBytes));
  }

  /**
   * Reads the snapshot at `index` as its meta and a stream of data chunks. The checksum is verified as the
   * chunks go by; the stream throws `CORRUPT` at its end (before its last chunk is yielded) when it fails,
   * and when the file is truncated.
   */
  async open(index: number): Promise<{ meta: SnapshotMeta; chunks: AsyncIterable<Uint8Array> }> {
    const file = path.join(this.dir, snapshotFileName(index));
    const fd = await this.fs.open(file, 'r');
    let handed = false;
    try {
      const size = await this.fs.size(fd);
      const corrupt = (reason: string, offset?: number): LogStorageError =>
        new LogStorageError(
          'CORRUPT',
          `snapshot ${reason}`,
          offset === undefined ? { file } : { file, offset },
        );
      const head = Buffer.alloc(MAGIC.byteLength + 4);
      if (size < head.byteLength + TRAILER_BYTES) throw corrupt('file is truncated', size);
      await this.readFully(fd, head, 0);
      if (!head.subarray(0, MAGIC.byteLength).equals(MAGIC)) throw corrupt('has no snapshot header', 0);
      const metaLength = head.readUInt32LE(MAGIC.byteLength);
      const dataStart = head.byteLength + metaLength;
      if (dataStart + TRAILER_BYTES > size) throw corrupt('file is truncated', size);
      const metaBytes = Buffer.alloc(metaLength);
      await this.readFully(fd, metaBytes, head.byteLength);
      const trailer = Buffer.alloc(TRAILER_BYTES);
      await this.readFully(fd, trailer, size - TRAILER_BYTES);
      const dataBytes = trailer.readUInt32LE(0) + trailer.readUInt32LE(4) * 0x1_0000_0000;
      if (!trailer.subarray(12).equals(TRAILER_MAGIC) || dataStart + dataBytes + TRAILER_BYTES !== size) {
        throw corrupt('file is truncated or its trailer is damaged', size - TRAILER_BYTES);
      }
      let meta: SnapshotMeta;
      try {
        meta = JSON.parse(metaBytes.toString('utf8')) as SnapshotMeta;
      } catch (error) {
        throw new LogStorageError('CORRUPT', 'snapshot meta is not valid JSON', {
          file,
          offset: 12,
          cause: error,
        });
      }
      const expected = trailer.readUInt32LE(8);
      const store = this;
      async function* chunks(): AsyncGenerator<Uint8Array> {
        try {
          let crc = crc32(metaBytes);
          let position = dataStart;
          const end = dataStart + dataBytes;
          let pending: Uint8Array | null = null;
          while (position < end) {
            const chunk = Buffer.alloc(Math.min(store.chunkBytes, end - position));
            await store.readFully(fd, chunk, position);
            crc = crc32(chunk, crc);
            position += chunk.byteLength;
            if (pending !== null) yield pending;
            pending = chunk;
          }
          if (crc !== expected) throw corrupt('checksum mismatch');
          if (pending !== null) yield pending;
        } finally {
          await store.fs.close(fd);
        }
      }
      handed = true;
      return { meta, chunks: chunks() };
    } finally {
      if (!handed) await this.fs.close(fd);
    }
  }

  /** Reads and verifies the whole snapshot at `index` into memory (chunk by chunk). */
  async read(index: number): Promise<Snapshot> {
    const { meta, chunks } = await this.open(index);
    const parts: Uint8Array[] = [];
    for await (const chunk of chunks) parts.push(chunk);
    return { meta, data: new Uint8Array(Buffer.concat(parts)) };
  }

  /** Deletes the snapshot file at `index`. */
  async remove(index: number): Promise<void> {
    await this.fs.unlink(path.join(this.dir, snapshotFileName(index)));
  }

  private async readFully(fd: number, buffer: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < buffer.byteLength) {
      const n = await this.fs.read(fd, buffer, done, buffer.byteLength - done, position + done);
      if (n === 0)
        throw new LogStorageError('CORRUPT', 'snapshot file ends early', { offset: position + done });
      done += n;
    }
  }
}

function* chunksOf(data: Uint8Array, size: number): Generator<Uint8Array> {
  for (let i = 0; i < data.byteLength; i += size) yield data.subarray(i, i + size);
}
