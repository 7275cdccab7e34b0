import type { AppliedCommand, SnapshotData, SnapshotMeta, StateMachine } from '@tsraft/core';

/** A command of the register state machine: set `key` to `value`, or set it only if it holds `expected`. */
export type RegisterCommand =
  | { readonly op: 'write'; readonly key: string; readonly value: string }
  | { readonly op: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string };

/**
 * The result of applying a {@link RegisterCommand}: `true` for a write, whether it swapped for a cas;
 * `null` for a command that is not a register command (it changes nothing).
 */
export type RegisterResult = boolean | null;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a command as the bytes a proposal carries (JSON). */
export function encodeRegisterCommand(command: RegisterCommand): Uint8Array {
  return encoder.encode(JSON.stringify(command));
}

/** Decodes a proposal's bytes, or returns `null` when they are not a register command. */
export function decodeRegisterCommand(data: Uint8Array): RegisterCommand | null {
  if (data.byteLength === 0) return null;
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const c = value as Partial<Record<string, unknown>>;
  if (typeof c.key !== 'string' || typeof c.value !== 'string') return null;
  if (c.op === 'write') return { op: 'write', key: c.key, value: c.value };
  if (c.op === 'cas' && (c.expected === null || typeof c.expected === 'string')) {
    return { op: 'cas', key: c.key, expected: c.expected, value: c.value };
  }
  return null;
}

/**
 * A map of string registers: the state machine behind the simulator's default workload.
 * Synchronous, deterministic, and snapshotted as JSON.
 */
export class RegisterStateMachine implements StateMachine<RegisterResult> {
  private values = new Map<string, string>();

  /** Applies a write or compare-and-set; other payloads are ignored. */
  apply(command: AppliedCommand): RegisterResult {
    const c = decodeRegisterCommand(command.data);
    if (c === null) return null;
    if (c.op === 'write') {
      this.values.set(c.key, c.value);
      return true;
    }
    if ((this.values.get(c.key) ?? null) !== c.expected) return false;
    this.values.set(c.key, c.value);
    return true;
  }

  /** The value of `key`, or `null` when it was never written. */
  get(key: string): string | null {
    return this.values.get(key) ?? null;
  }

  /** Serialises every register. */
  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify([...this.values]));
  }

  /** Replaces every register with a snapshot's. */
  restore(data: SnapshotData, _meta: SnapshotMeta): void {
    this.values = new Map(
      data.byteLength === 0 ? [] : (JSON.parse(decoder.decode(data.toBytes())) as [string, string][]),
    );
  }
}
