/**
 * One operation of the KV state machine, as the state machine sees it (the log carries it as protobuf, see
 * {@link encodeKvCommand}).
 *
 * - `put` stores `value` under `key`.
 * - `delete` removes `key`.
 * - `compareAndSwap` stores `value` only if `key` holds `expected` (or is absent when `expected` is `undefined`).
 * - `openSession` opens a client session whose id is the index of the entry carrying it.
 */
export type KvCommand =
  | { readonly type: 'put'; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly type: 'delete'; readonly key: Uint8Array }
  | {
      readonly type: 'compareAndSwap';
      readonly key: Uint8Array;
      readonly expected: Uint8Array | undefined;
      readonly value: Uint8Array;
    }
  | { readonly type: 'openSession' };

/**
 * Numbers a write within a client session so that a retry is applied at most once (Raft thesis §6.3).
 * All three are safe integers.
 */
export interface KvSessionRef {
  /** The id `openSession` returned. */
  readonly sessionId: number;
  /** The write's number in the session, starting at 1; a retry carries the same number. */
  readonly sequence: number;
  /**
   * The lowest sequence whose answer the client has not yet received (at most `sequence`): the state
   * machine forgets the results below it.
   */
  readonly firstIncomplete: number;
}

/** A command as proposed: the operation, its optional session, and the proposer's clock. */
export interface KvProposal {
  readonly command: KvCommand;
  /** Present for a write that must apply at most once. */
  readonly session?: KvSessionRef;
  /**
   * Milliseconds since the epoch on the proposing leader's clock. The state machine's clock is the largest
   * value applied so far, so session expiry happens at the same entry on every node.
   */
  readonly proposedAtMs: number;
}
