import type { KvStateMachine } from '../kv-state-machine.js';

/**
 * The state machine's snapshot joined into one plain Uint8Array (not a Buffer: `slice()` must copy), for
 * comparing snapshots in tests only.
 */
export function snapshotBytes(kv: KvStateMachine): Uint8Array {
  return new Uint8Array(Buffer.concat([...kv.snapshot()]));
}
