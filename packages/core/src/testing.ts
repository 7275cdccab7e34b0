import type { RaftConfig } from './config.js';
import type { UnsafeFaults } from './raft.js';
import { RawNode } from './raw-node.js';

export type { UnsafeFaults } from './raft.js';

/**
 * Builds a RawNode with deliberate safety bugs, to prove that a checker (the simulator's, or yours)
 * catches them. Never use it outside tests: the faults break Raft's guarantees on purpose.
 */
export function createRawNodeWithFaults(config: RaftConfig, faults: UnsafeFaults): RawNode {
  return RawNode.withFaults(config, faults);
}
