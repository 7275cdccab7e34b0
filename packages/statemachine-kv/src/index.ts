// A replicated key-value state machine for tsraft: commands, results, the state machine, snapshot errors.

export { decodeKvCommand, encodeKvCommand } from './command-codec.js';
export type { KvCommand, KvProposal, KvSessionRef } from './kv-command.js';
export { KvCommandError } from './kv-command-error.js';
export type { KvRejectionCode, KvResult } from './kv-result.js';
export { KvSnapshotError } from './kv-snapshot-error.js';
export { createKvStateMachine, type KvStateMachine, type KvStateMachineOptions } from './kv-state-machine.js';
