import { randomInt } from 'node:crypto';
import { type RaftConfig, resolveRaftConfig } from '../config.js';
import type { NodeId } from '../entry.js';
import { RaftError } from '../errors.js';
import type { LogStorage } from './log-storage.js';
import type { NodeLogger } from './node-logger.js';
import type { StateMachine } from './state-machine.js';
import type { Transport } from './transport.js';

/** The {@link RaftConfig} knobs a node passes through to its core unchanged. */
export type NodeRaftKnobs = Omit<RaftConfig, 'id' | 'storage' | 'randomSeed' | 'applied'>;

/** Options of {@link createNode}. `Result` is what the state machine's `apply` returns. */
export interface NodeOptions<Result = unknown> extends NodeRaftKnobs {
  /** This node's id; it must be a member of the configuration held by `storage`. */
  readonly id: NodeId;
  /** Stable storage of the log, hard state and snapshots. The node owns it and closes it on `close()`. */
  readonly storage: LogStorage;
  /** Carries messages to and from peers. The node owns it and closes it on `close()`. */
  readonly transport: Transport;
  /** The replicated application. */
  readonly stateMachine: StateMachine<Result>;
  /** Milliseconds per core tick. `electionTicks * tickIntervalMs` is the election timeout. Default 100. */
  readonly tickIntervalMs?: number;
  /** Seed of the core's election-timeout generator. Default: a fresh random value from `node:crypto`. */
  readonly randomSeed?: number;
  /**
   * The last index the state machine had applied before this start (0 when it starts empty).
   * When the storage holds a newer snapshot, the node restores the state machine from it on `start()`.
   * Default 0.
   */
  readonly applied?: number;
  /**
   * Applied entries between state machine snapshots: every that many, the node stores
   * `stateMachine.snapshot()` with `storage.saveSnapshot`, which releases the log it covers (followers
   * that fall behind it catch up from the snapshot). 0 never snapshots (the log grows forever). Default 10 000.
   */
  readonly snapshotIntervalEntries?: number;
  /**
   * Bytes of applied command data between state machine snapshots, as a second trigger beside
   * `snapshotIntervalEntries` (whichever comes first), so that a few large commands do not let the log grow
   * unchecked. 0 disables it. Default 64 MiB.
   */
  readonly snapshotIntervalBytes?: number;
  /**
   * Whether proposals made while a Ready is being handled join the next one (one log write and one message
   * per follower for many proposals). `false` hands the core one proposal per Ready, for measuring what
   * batching buys (`pnpm bench cluster`); never faster. Default true.
   */
  readonly proposalBatching?: boolean;
  /**
   * Whether the next Ready may be taken while the previous one's write is in flight (the leader's next
   * appends then leave without waiting for its fsync). Default false: it carries 1.24x the proposals/s of one
   * write at a time in-process (`pnpm bench driver`), but in the 3-process cluster on a 2-core machine it
   * measured slower (more, smaller writes and acknowledgements per operation; docs/benchmarks.md), so it is
   * opt-in until that is understood.
   */
  readonly asyncWrites?: boolean;
  /** Receives the node's diagnostics. Default: none. */
  readonly logger?: NodeLogger;
}

/** {@link NodeOptions} with defaults filled in and the core configuration checked. */
export interface ResolvedNodeOptions<Result> {
  readonly storage: LogStorage;
  readonly transport: Transport;
  readonly stateMachine: StateMachine<Result>;
  readonly tickIntervalMs: number;
  readonly snapshotIntervalEntries: number;
  readonly snapshotIntervalBytes: number;
  readonly proposalBatching: boolean;
  readonly asyncWrites: boolean;
  readonly logger: NodeLogger;
  /** The configuration handed to the core. */
  readonly raft: RaftConfig;
}

/**
 * Fills in the defaults of {@link NodeOptions} and validates them.
 * @throws RaftError `INVALID_CONFIG` when a value is out of range.
 */
export function resolveNodeOptions<Result>(options: NodeOptions<Result>): ResolvedNodeOptions<Result> {
  const tickIntervalMs = options.tickIntervalMs ?? 100;
  if (!Number.isFinite(tickIntervalMs) || tickIntervalMs < 1) {
    throw new RaftError('INVALID_CONFIG', `tickIntervalMs must be a number >= 1, got ${tickIntervalMs}`);
  }
  const snapshotIntervalEntries = options.snapshotIntervalEntries ?? 10_000;
  if (!Number.isSafeInteger(snapshotIntervalEntries) || snapshotIntervalEntries < 0) {
    throw new RaftError(
      'INVALID_CONFIG',
      `snapshotIntervalEntries must be an integer >= 0, got ${snapshotIntervalEntries}`,
    );
  }
  const snapshotIntervalBytes = options.snapshotIntervalBytes ?? 64 * 1024 * 1024;
  if (!Number.isSafeInteger(snapshotIntervalBytes) || snapshotIntervalBytes < 0) {
    throw new RaftError(
      'INVALID_CONFIG',
      `snapshotIntervalBytes must be an integer >= 0, got ${snapshotIntervalBytes}`,
    );
  }
  const { id, storage, transport, stateMachine, logger } = options;
  const raft: RaftConfig = {
    ...pickKnobs(options),
    id,
    storage,
    randomSeed: options.randomSeed ?? randomInt(0, 2 ** 32),
    applied: options.applied ?? 0,
  };
  // Validate now so a bad option fails createNode(), not start().
  resolveRaftConfig(raft);
  return {
    storage,
    transport,
    stateMachine,
    tickIntervalMs,
    snapshotIntervalEntries,
    snapshotIntervalBytes,
    proposalBatching: options.proposalBatching ?? true,
    asyncWrites: options.asyncWrites ?? false,
    logger: logger ?? {},
    raft,
  };
}

/** Every core knob, listed as an exhaustive record so a knob added to RaftConfig fails to compile here. */
const KNOBS: Record<keyof NodeRaftKnobs, true> = {
  electionTicks: true,
  heartbeatTicks: true,
  preVote: true,
  checkQuorum: true,
  maxMessageBytes: true,
  maxInflightMessages: true,
  maxInflightBytes: true,
  maxUncommittedBytes: true,
  maxCommittedBytesPerReady: true,
};

/** Copies the core knobs that are set (leaving absent ones absent, as `exactOptionalPropertyTypes` wants). */
function pickKnobs(options: NodeRaftKnobs): NodeRaftKnobs {
  const knobs: Record<string, unknown> = {};
  for (const key of Object.keys(KNOBS) as (keyof NodeRaftKnobs)[]) {
    if (options[key] !== undefined) knobs[key] = options[key];
  }
  return knobs as NodeRaftKnobs;
}
