import type { NodeId, StateMachine } from '@tsraft/core';
import type { SimRandom } from './sim-random.js';

/**
 * What a simulated client asks of the cluster: a command to replicate (`propose`), or a linearizable read
 * answered by the workload's `read` on a node's state machine once that node has applied the read index.
 * `input` describes the operation for the history check.
 */
export type SimRequest =
  | { readonly kind: 'propose'; readonly command: Uint8Array; readonly input: unknown }
  | { readonly kind: 'read'; readonly query: unknown; readonly input: unknown };

/** How a client operation ended, as the client saw it. */
export type ClientOperationStatus =
  /** In flight. */
  | 'pending'
  /** Answered: `result` holds the state machine's result (proposal) or the read's answer. */
  | 'ok'
  /** Definitely had no effect (refused, or dropped for another leader's entry); left out of history checks. */
  | 'failed'
  /** The client gave up (deadline passed): it may or may not have taken effect. */
  | 'unknown';

/** One operation of the client history. */
export interface ClientOperation {
  /** Position in the history. */
  readonly id: number;
  /** The client that issued it (the liveness probe is client `-1`). */
  readonly client: number;
  readonly request: SimRequest;
  /** The node the request was sent to. */
  readonly node: NodeId;
  /** Virtual time (ms) the client issued it. */
  readonly call: number;
  /** Virtual time (ms) the answer arrived, or when the client gave up; `Infinity` while pending. */
  return: number;
  /**
   * The step in which the client issued it. Steps order events exactly (several can share a millisecond), so
   * histories are checked in steps: an operation precedes another iff its return step is before the other's call step.
   */
  readonly callStep: number;
  /** The step in which the answer arrived or the client gave up; `Infinity` while pending. */
  returnStep: number;
  status: ClientOperationStatus;
  /** The answer, when `status` is `'ok'`. */
  result: unknown;
  /** When `status` is `'ok'`: the log index of the applied proposal, or the applied index a read was answered at. */
  index: number | null;
  /** Why it failed, when `status` is `'failed'` (an error code). */
  failure: string | null;
}

/** A workload's verdict on a whole history. */
export interface WorkloadVerdict {
  readonly ok: boolean;
  /** Why it failed (or, when `ok`, a one-line summary). */
  readonly reason: string;
}

/**
 * A state machine plus the client workload that exercises it under the simulator.
 *
 * The simulator creates one state machine per node incarnation (`createStateMachine`), restores it from the
 * node's stored snapshot on restart, and calls `apply`, `snapshot` and `restore` synchronously: under the
 * simulator they must return values, not Promises. `nextRequest` draws every choice from the given random
 * source so runs stay reproducible.
 */
export interface SimWorkload<S extends StateMachine = StateMachine> {
  /** A short name for reports. */
  readonly name: string;
  /** A fresh, empty state machine. */
  createStateMachine(): S;
  /** The next request of `client`. */
  nextRequest(client: number, random: SimRandom): SimRequest;
  /** A write with a value never used before, which the liveness check proposes after the network heals. */
  probeRequest(random: SimRandom): SimRequest;
  /** Answers a read request on a state machine that has applied everything up to the read index. */
  read(stateMachine: S, query: unknown): unknown;
  /** Called when an operation finishes (any status), e.g. to learn values for later compare-and-set. */
  observe?(operation: ClientOperation): void;
  /** Checks the whole history once the run is over. */
  check?(history: readonly ClientOperation[]): WorkloadVerdict;
}

/** Options of {@link createCommandWorkload}. */
export interface CommandWorkloadOptions<S extends StateMachine> {
  /** A short name for reports. Default `'commands'`. */
  readonly name?: string;
  /** A fresh, empty state machine (apply/snapshot/restore must be synchronous). */
  readonly createStateMachine: () => S;
  /** The next command a client proposes; draw any randomness from `random`. */
  readonly nextCommand: (client: number, random: SimRandom) => Uint8Array;
  /** Optional: answers a linearizable read (clients then read as often as `readRatio` says). */
  readonly read?: (stateMachine: S) => unknown;
  /** Share of requests that are reads, when `read` is given. Default 0.3. */
  readonly readRatio?: number;
  /** Optional check of the whole history (for example against your own model). */
  readonly check?: (history: readonly ClientOperation[]) => WorkloadVerdict;
}

/**
 * A workload for your own state machine: clients propose the commands you generate (and, optionally, read).
 * The simulator checks every Raft safety property, that all nodes' state machines return equal results for
 * each index (determinism), liveness after healing, and your `check` if given.
 */
export function createCommandWorkload<S extends StateMachine>(
  options: CommandWorkloadOptions<S>,
): SimWorkload<S> {
  const readRatio = options.read === undefined ? 0 : (options.readRatio ?? 0.3);
  const propose = (client: number, random: SimRandom): SimRequest => {
    const command = options.nextCommand(client, random);
    return { kind: 'propose', command, input: command };
  };
  return {
    name: options.name ?? 'commands',
    createStateMachine: options.createStateMachine,
    nextRequest(client, random) {
      if (readRatio > 0 && random.chance(readRatio)) return { kind: 'read', query: null, input: null };
      return propose(client, random);
    },
    probeRequest: (random) => propose(-1, random),
    read: (stateMachine) => (options.read === undefined ? null : options.read(stateMachine)),
    ...(options.check === undefined ? {} : { check: options.check }),
  };
}
