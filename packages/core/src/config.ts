import type { NodeId } from './entry.js';
import { RaftError } from './errors.js';
import type { LogReader } from './log-reader.js';

/** Configuration of one Raft node's core. Times are counted in ticks; the driver decides how long a tick is. */
export interface RaftConfig {
  /** This node's id. */
  readonly id: NodeId;
  /** Stable storage as the core sees it. Its initial state (hard state, membership) is where the node starts. */
  readonly storage: LogReader;
  /** Seed of the generator that randomises election timeouts. Equal seeds replay equal runs. */
  readonly randomSeed: number;
  /** Ticks without hearing from a leader before a follower campaigns; randomised in `[electionTicks, 2 * electionTicks)`. Default 10. */
  readonly electionTicks?: number;
  /** Ticks between a leader's heartbeats. Must be less than `electionTicks`. Default 1. */
  readonly heartbeatTicks?: number;
  /** Probe with a pre-vote before disrupting the cluster with a new term (thesis §9.6). Default true. */
  readonly preVote?: boolean;
  /** A leader that has not heard from a quorum for an election timeout steps down (thesis §6.2). Default true. */
  readonly checkQuorum?: boolean;
  /** Upper bound on entry payload bytes in one append message (at least one entry is always sent). Default 1 MiB. */
  readonly maxMessageBytes?: number;
  /** Append messages in flight to one follower before sending pauses. Default 256. */
  readonly maxInflightMessages?: number;
  /** Entry payload bytes in flight to one follower before sending pauses; 0 means no byte bound. Default 32 MiB. */
  readonly maxInflightBytes?: number;
  /** Payload bytes of uncommitted entries a leader accepts before rejecting proposals with `TOO_MANY_UNCOMMITTED`; 0 means no bound. Default 64 MiB. */
  readonly maxUncommittedBytes?: number;
  /** Payload bytes of committed entries handed out in one Ready; 0 means no bound. Default 16 MiB. */
  readonly maxCommittedBytesPerReady?: number;
  /** The last index the state machine applied before this start (0 for a state machine rebuilt from scratch). */
  readonly applied?: number;
}

/** A {@link RaftConfig} with defaults filled in and values checked. */
export type ResolvedRaftConfig = Required<RaftConfig>;

/** Fills in defaults and rejects out-of-range values with `INVALID_CONFIG`. */
export function resolveRaftConfig(config: RaftConfig): ResolvedRaftConfig {
  const resolved: ResolvedRaftConfig = {
    id: config.id,
    storage: config.storage,
    randomSeed: config.randomSeed,
    electionTicks: config.electionTicks ?? 10,
    heartbeatTicks: config.heartbeatTicks ?? 1,
    preVote: config.preVote ?? true,
    checkQuorum: config.checkQuorum ?? true,
    maxMessageBytes: config.maxMessageBytes ?? 1024 * 1024,
    maxInflightMessages: config.maxInflightMessages ?? 256,
    maxInflightBytes: config.maxInflightBytes ?? 32 * 1024 * 1024,
    maxUncommittedBytes: config.maxUncommittedBytes ?? 64 * 1024 * 1024,
    maxCommittedBytesPerReady: config.maxCommittedBytesPerReady ?? 16 * 1024 * 1024,
    applied: config.applied ?? 0,
  };
  const fail = (message: string): never => {
    throw new RaftError('INVALID_CONFIG', message);
  };
  if (typeof resolved.id !== 'string' || resolved.id.length === 0) fail('id must be a non-empty string');
  if (!Number.isSafeInteger(resolved.randomSeed)) fail('randomSeed must be a safe integer');
  if (!Number.isSafeInteger(resolved.heartbeatTicks) || resolved.heartbeatTicks < 1)
    fail(`heartbeatTicks must be an integer >= 1, got ${resolved.heartbeatTicks}`);
  if (!Number.isSafeInteger(resolved.electionTicks) || resolved.electionTicks <= resolved.heartbeatTicks)
    fail(
      `electionTicks must be an integer greater than heartbeatTicks (${resolved.heartbeatTicks}), got ${resolved.electionTicks}`,
    );
  if (!Number.isSafeInteger(resolved.maxInflightMessages) || resolved.maxInflightMessages < 1)
    fail(`maxInflightMessages must be an integer >= 1, got ${resolved.maxInflightMessages}`);
  for (const key of [
    'maxMessageBytes',
    'maxInflightBytes',
    'maxUncommittedBytes',
    'maxCommittedBytesPerReady',
    'applied',
  ] as const) {
    const value = resolved[key];
    if (!Number.isSafeInteger(value) || value < 0) fail(`${key} must be an integer >= 0, got ${value}`);
  }
  return resolved;
}
