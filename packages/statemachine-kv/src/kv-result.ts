/** Why a command was not applied. */
export type KvRejectionCode = 'SESSION_EXPIRED' | 'STALE_REQUEST' | 'MALFORMED_COMMAND';

/**
 * What applying a command produced (the value `propose()` resolves with).
 *
 * - `compareAndSwap.value` is the key's value after the operation: the new value when it succeeded, the
 *   unchanged one (or `undefined` when absent) when it did not.
 * - `rejected`: nothing changed. `SESSION_EXPIRED`: the session is unknown (expired, evicted or never opened);
 *   `STALE_REQUEST`: the sequence is below what the session still remembers, so its result is lost;
 *   `MALFORMED_COMMAND`: the entry does not decode.
 *
 * Byte arrays in results are shared with the state: treat them as read-only.
 */
export type KvResult =
  | { readonly type: 'put' }
  | { readonly type: 'delete'; readonly deleted: boolean }
  | { readonly type: 'compareAndSwap'; readonly succeeded: boolean; readonly value: Uint8Array | undefined }
  | { readonly type: 'openSession'; readonly sessionId: number }
  | { readonly type: 'rejected'; readonly code: KvRejectionCode; readonly message: string };
