import { RaftError } from './errors.js';
import type { SnapshotChunkSource } from './snapshot.js';

/**
 * The bytes of a snapshot as a sequence of chunks, so that a large state machine's snapshot never has to
 * be one buffer: the state machine writes it in chunks, the storage writes and reads it in chunks (a
 * stored snapshot is read from its file only when it is sent or restored), the transports send it in
 * pieces and the receiver keeps the pieces it got. The core never looks inside.
 *
 * Reading is synchronous, chunk by chunk, like the storage's entry reads: each chunk is small (the
 * storage's chunk size), so a reader never blocks for long, and the simulator stays synchronous.
 */
export class SnapshotData {
  /** No bytes (the snapshot of an empty log). */
  static readonly EMPTY: SnapshotData = new SnapshotData(0, [], null);

  /** Total bytes. */
  readonly byteLength: number;
  private readonly held: readonly Uint8Array[] | null;
  private readonly source: (() => Iterable<Uint8Array>) | null;

  private constructor(
    byteLength: number,
    held: readonly Uint8Array[] | null,
    source: (() => Iterable<Uint8Array>) | null,
  ) {
    this.byteLength = byteLength;
    this.held = held;
    this.source = source;
  }

  /** Data held in one buffer (shared, not copied). */
  static of(bytes: Uint8Array): SnapshotData {
    if (!(bytes instanceof Uint8Array)) {
      throw new RaftError('INVALID_ARGUMENT', 'snapshot bytes must be a Uint8Array');
    }
    return bytes.byteLength === 0 ? SnapshotData.EMPTY : new SnapshotData(bytes.byteLength, [bytes], null);
  }

  /** Data held in memory as `chunks`, in order (shared, not copied or joined). */
  static fromChunks(chunks: readonly Uint8Array[]): SnapshotData {
    let byteLength = 0;
    const kept: Uint8Array[] = [];
    for (const chunk of chunks) {
      if (!(chunk instanceof Uint8Array)) {
        throw new RaftError('INVALID_ARGUMENT', 'snapshot chunks must be Uint8Arrays');
      }
      if (chunk.byteLength === 0) continue;
      byteLength += chunk.byteLength;
      kept.push(chunk);
    }
    return byteLength === 0 ? SnapshotData.EMPTY : new SnapshotData(byteLength, kept, null);
  }

  /**
   * Data read on demand, such as a snapshot file: `read` is called on every {@link chunks} and must yield
   * the same `byteLength` bytes each time (or throw, for instance when the file turns out corrupt).
   */
  static fromSource(byteLength: number, read: () => Iterable<Uint8Array>): SnapshotData {
    if (!Number.isSafeInteger(byteLength) || byteLength < 0) {
      throw new RaftError('INVALID_ARGUMENT', `byteLength must be an integer >= 0, got ${byteLength}`);
    }
    return new SnapshotData(byteLength, null, read);
  }

  /** Whether the bytes are held in memory (else they are read from their source on each use). */
  get inMemory(): boolean {
    return this.held !== null;
  }

  /**
   * The bytes in order, chunk by chunk (empty chunks skipped). Data read from a source is read again on
   * each call; a source that yields a different number of bytes than declared throws `INVALID_ARGUMENT`.
   */
  *chunks(): Generator<Uint8Array, void, undefined> {
    if (this.held !== null) {
      yield* this.held;
      return;
    }
    let seen = 0;
    for (const chunk of this.source!()) {
      if (chunk.byteLength === 0) continue;
      seen += chunk.byteLength;
      if (seen > this.byteLength) break;
      yield chunk;
    }
    if (seen !== this.byteLength) {
      throw new RaftError(
        'INVALID_ARGUMENT',
        `the snapshot source yielded ${seen} bytes, not the ${this.byteLength} it declared`,
      );
    }
  }

  /**
   * Joins the bytes into one buffer. Meant for small state machines and tests; a large snapshot should be
   * read with {@link chunks} instead.
   */
  toBytes(): Uint8Array {
    if (this.held !== null && this.held.length === 1) return this.held[0]!;
    const out = new Uint8Array(this.byteLength);
    let at = 0;
    for (const chunk of this.chunks()) {
      out.set(chunk, at);
      at += chunk.byteLength;
    }
    return out;
  }
}

/** Whether `source` is an async iterable (and so must be read with `for await`). */
function isAsync(source: SnapshotChunkSource): source is AsyncIterable<Uint8Array> {
  return !(source instanceof Uint8Array) && Symbol.asyncIterator in Object(source);
}

function checkChunk(chunk: unknown): Uint8Array {
  if (!(chunk instanceof Uint8Array)) {
    throw new RaftError('INVALID_ARGUMENT', 'a snapshot chunk must be a Uint8Array');
  }
  return chunk;
}

/**
 * Reads a producer's snapshot chunks into {@link SnapshotData} held in memory, chunk by chunk (no joining).
 * @throws RaftError `INVALID_ARGUMENT` when a chunk is not a Uint8Array.
 */
export async function collectSnapshotData(source: SnapshotChunkSource): Promise<SnapshotData> {
  if (source instanceof Uint8Array) return SnapshotData.of(source);
  const chunks: Uint8Array[] = [];
  if (isAsync(source)) for await (const chunk of source) chunks.push(checkChunk(chunk));
  else for (const chunk of source) chunks.push(checkChunk(chunk));
  return SnapshotData.fromChunks(chunks);
}

/**
 * {@link collectSnapshotData} for synchronous producers (a buffer or a synchronous iterable), for callers
 * that must not wait, such as the deterministic simulator.
 * @throws RaftError `INVALID_ARGUMENT` for an async iterable or a chunk that is not a Uint8Array.
 */
export function collectSnapshotDataSync(source: SnapshotChunkSource): SnapshotData {
  if (source instanceof Uint8Array) return SnapshotData.of(source);
  if (isAsync(source)) {
    throw new RaftError('INVALID_ARGUMENT', 'an asynchronous snapshot cannot be read synchronously');
  }
  const chunks: Uint8Array[] = [];
  for (const chunk of source) chunks.push(checkChunk(chunk));
  return SnapshotData.fromChunks(chunks);
}

/** Iterates a producer's chunks asynchronously, whatever its form (for writers such as the disk storage). */
export async function* snapshotChunksOf(source: SnapshotChunkSource): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    if (source.byteLength > 0) yield source;
    return;
  }
  if (isAsync(source)) for await (const chunk of source) yield checkChunk(chunk);
  else for (const chunk of source) yield checkChunk(chunk);
}
