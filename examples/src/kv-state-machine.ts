import type { AppliedCommand, SnapshotData, SnapshotMeta, StateMachine } from '@tsraft/core';

/** A command of the replicated key-value store. Commands travel through the Raft log as JSON bytes. */
export type KvCommand =
  | { readonly op: 'set'; readonly key: string; readonly value: string }
  | { readonly op: 'delete'; readonly key: string };

/** What `propose()` resolves with for a KV command: where it landed and the value it replaced. */
export interface KvResult {
  readonly index: number;
  readonly previous: string | null;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a command for `RaftNode.propose`. */
export function encodeKvCommand(command: KvCommand): Uint8Array {
  return encoder.encode(JSON.stringify(command));
}

/**
 * A tiny replicated key-value store: an example of the {@link StateMachine} interface.
 *
 * The rules a state machine must follow, and how this one does:
 * - `apply` is deterministic: its result and the new state depend only on the command and the state
 *   (no clock, no randomness, no I/O), so every node computes the same thing.
 * - `apply` returns the result the proposer's `propose()` promise resolves with (here: the old value).
 * - `snapshot` and `restore` are inverses, so a node can catch up from a snapshot instead of the log.
 */
export class KvStateMachine implements StateMachine<KvResult> {
  private readonly data = new Map<string, string>();
  private lastApplied = 0;

  apply(command: AppliedCommand): KvResult {
    const parsed = JSON.parse(decoder.decode(command.data)) as KvCommand;
    const previous = this.data.get(parsed.key) ?? null;
    if (parsed.op === 'set') this.data.set(parsed.key, parsed.value);
    else this.data.delete(parsed.key);
    this.lastApplied = command.index;
    return { index: command.index, previous };
  }

  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify([...this.data]));
  }

  restore(data: SnapshotData, meta: SnapshotMeta): void {
    this.data.clear();
    if (data.byteLength > 0) {
      for (const [key, value] of JSON.parse(decoder.decode(data.toBytes())) as [string, string][])
        this.data.set(key, value);
    }
    this.lastApplied = meta.index;
  }

  /** The value of `key` in this replica (linearizable after `await node.read()`). */
  get(key: string): string | undefined {
    return this.data.get(key);
  }

  /** Number of keys in this replica. */
  get size(): number {
    return this.data.size;
  }

  /** Index of the last command applied here. */
  get applied(): number {
    return this.lastApplied;
  }

  /** The replica's content as one sorted, printable line. */
  describe(): string {
    return [...this.data]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, value]) => `${key}=${value}`)
      .join(' ');
  }
}
