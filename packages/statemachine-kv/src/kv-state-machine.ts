import type { AppliedCommand, SnapshotData, SnapshotMeta, StateMachine } from '@tsraft/core';
import { decodeKvCommand } from './command-codec.js';
import { bytesEqual, keyOf } from './keys.js';
import type { KvCommand, KvProposal } from './kv-command.js';
import type { KvResult } from './kv-result.js';
import type { KvState } from './kv-state.js';
import { SessionTable } from './session-table.js';
import { SNAPSHOT_CHUNK_BYTES } from './snapshot-format.js';
import { readSnapshot } from './snapshot-reader.js';
import { captureSnapshot, writeSnapshot } from './snapshot-writer.js';

/** Options of {@link createKvStateMachine}. Every node of a cluster must use the same ones. */
export interface KvStateMachineOptions {
  /** Idle time after which a session expires, measured on the state machine's clock (the largest proposedAtMs applied). Default 3_600_000. */
  readonly sessionTtlMs?: number;
  /** Most sessions kept; opening one more expires the least recently used. Default 100_000. */
  readonly maxSessions?: number;
}

/**
 * The replicated key-value store: a {@link StateMachine} over commands encoded by `encodeKvCommand`, with
 * exactly-once sessions and streamed, deterministic snapshots.
 */
export interface KvStateMachine extends StateMachine<KvResult> {
  /** Applies one committed entry, synchronously. Never throws for a bad entry: it answers `MALFORMED_COMMAND`. */
  apply(command: AppliedCommand): KvResult;
  /**
   * The snapshot as chunks produced lazily (the driver streams them to storage, never joined). The state is
   * captured when this is called.
   */
  snapshot(): Iterable<Uint8Array>;
  /** Restores from a stored or received snapshot, reading it chunk by chunk (see {@link restoreChunks}). */
  restore(data: SnapshotData, meta: SnapshotMeta): Promise<void>;
  /**
   * The value under key in the local state (no consensus: the caller decides whether the read is linearizable).
   * The array is shared with the state: do not modify it.
   */
  get(key: Uint8Array): Uint8Array | undefined;
  /** Number of keys. */
  readonly size: number;
  /** Index of the last applied command (or restored snapshot). */
  readonly appliedIndex: number;
  /** Hex SHA-256 over a canonical encoding of the whole state (keys in byte order, sessions with their cached results, the clock): equal on every node at the same applied index. */
  digest(): string;
  /**
   * The state as a sequence of chunks (each at most ~64 KiB), deterministic byte for byte: the same state gives
   * the same bytes on every node. The state is captured when this is called; applies made while the chunks
   * are being consumed do not show in them.
   */
  snapshotChunks(): AsyncIterable<Uint8Array>;
  /**
   * Replaces the state from snapshot chunks; verifies format, version and a checksum trailer; on any error throws
   * KvSnapshotError and leaves the current state untouched (restore is atomic). Chunks must not be modified
   * once yielded, and nothing may be applied until the returned promise settles.
   */
  restoreChunks(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, meta: SnapshotMeta): Promise<void>;
}

/**
 * Creates an empty KV state machine.
 * @throws RangeError when an option is out of range.
 */
export function createKvStateMachine(options: KvStateMachineOptions = {}): KvStateMachine {
  const sessionTtlMs = options.sessionTtlMs ?? 3_600_000;
  const maxSessions = options.maxSessions ?? 100_000;
  if (!Number.isSafeInteger(sessionTtlMs) || sessionTtlMs < 0) {
    throw new RangeError(`sessionTtlMs must be a non-negative safe integer, got ${sessionTtlMs}`);
  }
  if (!Number.isSafeInteger(maxSessions) || maxSessions < 1) {
    throw new RangeError(`maxSessions must be a positive safe integer, got ${maxSessions}`);
  }
  return new KvStore(sessionTtlMs, maxSessions);
}

/** The one implementation of {@link KvStateMachine}. */
class KvStore implements KvStateMachine {
  private data = new Map<string, Uint8Array>();
  private sessions: SessionTable;
  private clockMs = 0;
  private applied = 0;

  constructor(
    private readonly sessionTtlMs: number,
    private readonly maxSessions: number,
  ) {
    this.sessions = new SessionTable(sessionTtlMs, maxSessions);
  }

  get size(): number {
    return this.data.size;
  }

  get appliedIndex(): number {
    return this.applied;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.data.get(keyOf(key));
  }

  apply(entry: AppliedCommand): KvResult {
    this.applied = entry.index;
    let proposal: KvProposal;
    try {
      proposal = decodeKvCommand(entry.data);
    } catch (error) {
      // Every node holds the same entry: throwing would stop them all. The proposer learns it was refused.
      const reason = error instanceof Error ? error.message : String(error);
      return { type: 'rejected', code: 'MALFORMED_COMMAND', message: reason };
    }
    this.clockMs = Math.max(this.clockMs, proposal.proposedAtMs);
    this.sessions.expire(this.clockMs);
    const ref = proposal.session;
    if (ref === undefined) return this.execute(proposal.command, entry.index);
    const check = this.sessions.check(ref, this.clockMs);
    if (check.kind === 'answer') return check.result;
    const result = this.execute(proposal.command, entry.index);
    this.sessions.record(check.session, ref, result);
    return result;
  }

  digest(): string {
    const writer = writeSnapshot(captureSnapshot(this.state()), SNAPSHOT_CHUNK_BYTES);
    for (;;) {
      const next = writer.next();
      if (next.done) return next.value.toString('hex');
    }
  }

  snapshotChunks(): AsyncIterable<Uint8Array> {
    // Captured now, not when the consumer starts pulling.
    const image = captureSnapshot(this.state());
    return (async function* () {
      yield* writeSnapshot(image, SNAPSHOT_CHUNK_BYTES);
    })();
  }

  snapshot(): Iterable<Uint8Array> {
    // Captured now (synchronously, so no apply slips in); the chunks are encoded as they are pulled.
    return writeSnapshot(captureSnapshot(this.state()), SNAPSHOT_CHUNK_BYTES);
  }

  async restoreChunks(
    chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    meta: SnapshotMeta,
  ): Promise<void> {
    const state = await readSnapshot(chunks);
    this.data = state.data;
    this.sessions = new SessionTable(this.sessionTtlMs, this.maxSessions, state.sessions);
    this.clockMs = state.clockMs;
    this.applied = meta.index;
  }

  restore(data: SnapshotData, meta: SnapshotMeta): Promise<void> {
    return this.restoreChunks(data.chunks(), meta);
  }

  private execute(command: KvCommand, index: number): KvResult {
    switch (command.type) {
      case 'put':
        // The entry's bytes may be shared: keep a copy (the key's copy is its string).
        this.data.set(keyOf(command.key), command.value.slice());
        return { type: 'put' };
      case 'delete':
        return { type: 'delete', deleted: this.data.delete(keyOf(command.key)) };
      case 'compareAndSwap': {
        const key = keyOf(command.key);
        const current = this.data.get(key);
        const matches =
          command.expected === undefined
            ? current === undefined
            : current !== undefined && bytesEqual(current, command.expected);
        if (!matches) return { type: 'compareAndSwap', succeeded: false, value: current };
        const value = command.value.slice();
        this.data.set(key, value);
        return { type: 'compareAndSwap', succeeded: true, value };
      }
      case 'openSession':
        this.sessions.open(index, this.clockMs);
        return { type: 'openSession', sessionId: index };
    }
  }

  private state(): KvState {
    return {
      data: this.data,
      sessions: this.sessions.sessions,
      clockMs: this.clockMs,
      appliedIndex: this.applied,
    };
  }
}
