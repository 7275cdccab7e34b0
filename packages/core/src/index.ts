// The algorithm: pure, deterministic, no I/O.

export {
  allVoters,
  applyMemberChanges,
  configId,
  isJoint,
  isMember,
  isVoterIn,
  leaveJoint,
  validateConfState,
} from './conf-change.js';
export { decodeConfChange, decodeConfState, encodeConfChange, encodeConfState } from './conf-change-codec.js';
export type {
  ConfChange,
  ConfChangeOptions,
  ConfState,
  MemberChange,
  MemberChangeType,
} from './conf-state.js';
export type { RaftConfig, ResolvedRaftConfig } from './config.js';
export { resolveRaftConfig } from './config.js';
export type { Entry, EntryType, NodeId } from './entry.js';
export { entryPayloadBytes } from './entry.js';
export { RaftError, type RaftErrorCode, type RaftErrorOptions } from './errors.js';
export { EMPTY_HARD_STATE, type HardState, hardStateEquals } from './hard-state.js';
export { type LogReader, readEntryRange } from './log-reader.js';
export { MemoryStorage, type MemoryStorageOptions } from './memory/memory-storage.js';
export { createMemoryNetwork, type MemoryNetwork } from './memory/memory-transport.js';
export type {
  AppendRequest,
  AppendResponse,
  Heartbeat,
  HeartbeatResponse,
  InstallSnapshot,
  Message,
  MessageHeader,
  MessageType,
  ReadIndexRequest,
  ReadIndexResponse,
  TimeoutNow,
  VoteRequest,
  VoteResponse,
} from './message.js';
// Interfaces the driver composes, and their in-memory implementations.
export type { LogStorage, StorageUpdate } from './node/log-storage.js';
// The driver: runs a RawNode with a timer, a transport, storage and a state machine (does I/O).
export {
  createNode,
  type LeaderChangeListener,
  type MembershipChangeOptions,
  type MembershipListener,
  type NodeStatus,
  type RaftNode,
  type ReadOptions,
} from './node/node.js';
export type { NodeLogger, NodeLogLevel } from './node/node-logger.js';
export type { NodeOptions, NodeRaftKnobs } from './node/node-options.js';
export type { OperationOptions } from './node/operation.js';
export type { AppliedCommand, StateMachine } from './node/state-machine.js';
export type { Transport, TransportHandler } from './node/transport.js';
export { quorumSize } from './quorum/majority.js';
export { type ProposalTicket, RawNode } from './raw-node.js';
export type { ReadState, Ready, Role, SoftState } from './ready.js';
export { SeededRandom } from './rng.js';
export type { Snapshot, SnapshotChunkSource, SnapshotMeta } from './snapshot.js';
export {
  collectSnapshotData,
  collectSnapshotDataSync,
  SnapshotData,
  snapshotChunksOf,
} from './snapshot-data.js';
export type { BasicStatus, ProgressState, ProgressStatus, RaftStatus } from './status.js';
