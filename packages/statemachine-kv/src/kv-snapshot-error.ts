/**
 * Thrown by a KV state machine's restore when the snapshot is not one it can read: wrong format or version,
 * a checksum mismatch, truncation, or an error from the chunk source (as `cause`). The state is then unchanged.
 */
export class KvSnapshotError extends Error {
  override readonly name = 'KvSnapshotError';
}
