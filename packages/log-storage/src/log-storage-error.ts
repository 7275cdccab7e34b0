/**
 * Why the disk storage failed.
 *
 * | code | meaning |
 * |---|---|
 * | `CORRUPT` | a checksum mismatch, a missing segment or an unreadable snapshot or hard state; `file` and `offset` say where. The node must not start on this data. |
 * | `LOCKED` | another live process holds the data directory |
 * | `WRONG_NODE` | the data directory belongs to another node or cluster |
 * | `NO_SPACE` | the disk is full (`ENOSPC`); what was written before is intact |
 * | `IO_FAILED` | a write or sync failed; the storage refuses further writes (a failed fsync may have dropped data). Also a failed read of a stored snapshot, which leaves the storage writable |
 * | `SNAPSHOT_GONE` | a stored snapshot's data was read after its file was deleted (newer snapshots replaced it): take the storage's current snapshot again |
 */
export type LogStorageErrorCode =
  | 'CORRUPT'
  | 'LOCKED'
  | 'WRONG_NODE'
  | 'NO_SPACE'
  | 'IO_FAILED'
  | 'SNAPSHOT_GONE';

/** Options of {@link LogStorageError}. */
export interface LogStorageErrorOptions {
  /** The file concerned. */
  readonly file?: string;
  /** Byte offset in `file` where the problem is. */
  readonly offset?: number;
  readonly cause?: unknown;
}

/** The error the disk storage raises for disk faults; match on `code`. */
export class LogStorageError extends Error {
  override readonly name = 'LogStorageError';
  readonly code: LogStorageErrorCode;
  /** The file concerned, when there is one. */
  readonly file: string | null;
  /** Byte offset in `file`, when known. */
  readonly offset: number | null;

  constructor(code: LogStorageErrorCode, message: string, options: LogStorageErrorOptions = {}) {
    const where =
      options.file === undefined
        ? ''
        : ` (${options.file}${options.offset === undefined ? '' : ` at offset ${options.offset}`})`;
    super(`${code}: ${message}${where}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.file = options.file ?? null;
    this.offset = options.offset ?? null;
  }
}
