// The state machine of the "Compose your own node" guide (docs/compose-a-node.md): named counters,
// replicated. Commands are a few bytes of binary; snapshots are deterministic bytes.
import type { AppliedCommand, SnapshotData, SnapshotMeta, StateMachine } from '@tsraft/core';

/** A command: add `delta` to the counter `name` (created at 0), or reset it (remove it). */
export type CounterCommand =
  | { readonly op: 'add'; readonly name: string; readonly delta: number }
  | { readonly op: 'reset'; readonly name: string };

/**
 * What `propose()` resolves with: the counter's value after the command and the log index it was applied
 * at, or why the command was refused. A refusal is a result, not an exception: every replica refuses the
 * same command the same way.
 */
export type CounterResult =
  | { readonly ok: true; readonly value: number; readonly index: number }
  | { readonly ok: false; readonly reason: string };

/** Longest counter name, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 255;

const OP_ADD = 1;
const OP_RESET = 2;
const SNAPSHOT_MAGIC = 0x31544e43; // "CNT1", little-endian
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Encodes a command for `RaftNode.propose`:
 *
 *     add:   0x01, delta (int32, little-endian), name (UTF-8, the rest)
 *     reset: 0x02, name (UTF-8, the rest)
 *
 * @throws RangeError for an empty or too long name, or a delta that is not a 32-bit integer: refused
 * before it reaches the log.
 */
export function encodeCounterCommand(command: CounterCommand): Uint8Array {
  const name = utf8.encode(command.name);
  if (name.byteLength === 0 || name.byteLength > MAX_NAME_BYTES) {
    throw new RangeError(`a counter name is 1 to ${MAX_NAME_BYTES} UTF-8 bytes, got ${name.byteLength}`);
  }
  if (command.op === 'reset') {
    const out = new Uint8Array(1 + name.byteLength);
    out[0] = OP_RESET;
    out.set(name, 1);
    return out;
  }
  if (!Number.isInteger(command.delta) || command.delta < -(2 ** 31) || command.delta >= 2 ** 31) {
    throw new RangeError(`delta must be a 32-bit integer, got ${command.delta}`);
  }
  const out = new Uint8Array(5 + name.byteLength);
  out[0] = OP_ADD;
  new DataView(out.buffer).setInt32(1, command.delta, true);
  out.set(name, 5);
  return out;
}

/** Decodes what {@link encodeCounterCommand} made; `null` for anything else. */
export function decodeCounterCommand(data: Uint8Array): CounterCommand | null {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const nameAt = data[0] === OP_ADD ? 5 : data[0] === OP_RESET ? 1 : -1;
  if (nameAt < 0 || data.byteLength <= nameAt || data.byteLength - nameAt > MAX_NAME_BYTES) return null;
  let name: string;
  try {
    name = strictUtf8.decode(data.subarray(nameAt));
  } catch {
    return null;
  }
  return data[0] === OP_ADD ? { op: 'add', name, delta: view.getInt32(1, true) } : { op: 'reset', name };
}

/**
 * Named counters as a {@link StateMachine}. `apply` depends only on the command and the current state (no
 * clock, no randomness, no I/O), never throws on a bad command (it would stop every node at the same
 * entry), and keeps every value a safe integer, so all replicas agree exactly.
 */
export class CounterStateMachine implements StateMachine<CounterResult> {
  private counters = new Map<string, number>();
  private lastApplied = 0;

  apply(command: AppliedCommand): CounterResult {
    this.lastApplied = command.index;
    const decoded = decodeCounterCommand(command.data);
    if (decoded === null) return { ok: false, reason: 'malformed command' };
    if (decoded.op === 'reset') {
      this.counters.delete(decoded.name);
      return { ok: true, value: 0, index: command.index };
    }
    const value = (this.counters.get(decoded.name) ?? 0) + decoded.delta;
    if (!Number.isSafeInteger(value)) return { ok: false, reason: `${decoded.name} would overflow` };
    this.counters.set(decoded.name, value);
    return { ok: true, value, index: command.index };
  }

  /**
   * "CNT1", count (u32), then per counter in name order: name length (u16), name, value (i64), all
   * little-endian. Sorted, so equal states give equal bytes on every node.
   */
  snapshot(): Uint8Array {
    const entries = [...this.counters].map(([name, value]) => ({ name: utf8.encode(name), value }));
    entries.sort((a, b) => compareBytes(a.name, b.name));
    const size = 8 + entries.reduce((sum, { name }) => sum + 2 + name.byteLength + 8, 0);
    const out = new Uint8Array(size);
    const view = new DataView(out.buffer);
    view.setUint32(0, SNAPSHOT_MAGIC, true);
    view.setUint32(4, entries.length, true);
    let at = 8;
    for (const { name, value } of entries) {
      view.setUint16(at, name.byteLength, true);
      out.set(name, at + 2);
      at += 2 + name.byteLength;
      view.setBigInt64(at, BigInt(value), true);
      at += 8;
    }
    return out;
  }

  /**
   * Replaces the state with a snapshot's; the state is untouched if the bytes are not a valid snapshot. The
   * state is small, so the chunks are joined; a large state would parse `snapshot.chunks()` as they come.
   */
  restore(snapshot: SnapshotData, meta: SnapshotMeta): void {
    const data = snapshot.toBytes();
    const counters = new Map<string, number>();
    if (data.byteLength > 0) {
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      if (data.byteLength < 8 || view.getUint32(0, true) !== SNAPSHOT_MAGIC) {
        throw new Error(`not a counter snapshot (index ${meta.index})`);
      }
      const count = view.getUint32(4, true);
      let at = 8;
      for (let i = 0; i < count; i++) {
        const length = view.getUint16(at, true);
        const name = strictUtf8.decode(data.subarray(at + 2, at + 2 + length));
        at += 2 + length;
        counters.set(name, Number(view.getBigInt64(at, true)));
        at += 8;
      }
      if (at !== data.byteLength) throw new Error(`trailing bytes in the counter snapshot at ${meta.index}`);
    }
    this.counters = counters;
    this.lastApplied = meta.index;
  }

  /** The value of `name` in this replica: linearizable right after `await node.read()` resolves. */
  get(name: string): number {
    return this.counters.get(name) ?? 0;
  }

  /** Index of the last entry applied here (or of the snapshot restored). */
  get appliedIndex(): number {
    return this.lastApplied;
  }

  /** The replica as one line, counters in name order. */
  describe(): string {
    return [...this.counters]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, value]) => `${name}=${value}`)
      .join(' ');
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.byteLength, b.byteLength);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.byteLength - b.byteLength;
}
