import { Bitset } from './bitset.js';
import { ConfigCache, knownHash } from './config-cache.js';
import {
  callNode,
  type EqualTimes,
  EventList,
  isCallNode,
  nodeOperation,
  TAIL,
  UNKNOWN_TAIL,
} from './event-list.js';
import type { History } from './history.js';
import type { Model } from './model.js';

/** Bounds and settings of one search. */
export interface SearchLimits {
  /** Give up after this many search steps (one step visits one event of the list). */
  readonly maxSteps: number;
  /** Give up once `Date.now()` passes this (`Infinity` for no deadline). Checked every 1024 steps. */
  readonly deadline: number;
  /** Give up once the memo of explored configurations would exceed about this many bytes. */
  readonly maxCacheBytes: number;
  /** How a return and a call at the same instant are ordered. */
  readonly equalTimes: EqualTimes;
}

/** Which bound of {@link SearchLimits} stopped a search. */
export type ExhaustedLimit = 'steps' | 'time' | 'memory';

/** Where the search got furthest before it had to give up on a history that is not linearizable. */
export interface FailurePoint<State> {
  /** Ids of the longest linearizable prefix found (most completed operations), in linearization order. */
  readonly linearized: readonly number[];
  /** The model state after that prefix. */
  readonly state: State;
  /**
   * The completed operation whose return came next: it had to be linearized before anything that started
   * later, but no pending operation could be linearized next.
   */
  readonly blocking: number | undefined;
  /** The operations not yet linearized that were called before `blocking` returned (including it). */
  readonly candidates: readonly number[];
}

/** The outcome of {@link searchLinearization}. */
export type SearchOutcome<State> =
  | {
      readonly kind: 'linearizable';
      readonly steps: number;
      /** A witness: ids of the operations that took effect, in linearization order. */
      readonly order: readonly number[];
    }
  | { readonly kind: 'violation'; readonly steps: number; readonly failure: FailurePoint<State> }
  | { readonly kind: 'exhausted'; readonly steps: number; readonly limit: ExhaustedLimit };

/**
 * Decides whether one history (one partition, not split further) is linearizable with respect to `model`:
 * Wing & Gong's depth-first search with Lowe's memoization of (linearized set, state) configurations.
 *
 * The history's call and return events form a doubly linked list in time order. From the front, any call
 * that precedes the first remaining return may be linearized next if the model accepts it; the operation's
 * events are then lifted out of the list and the walk restarts. Reaching a return means the operation that
 * owns it can no longer be placed, so the search backtracks and unlifts the last choice. Configurations
 * already explored (or dominated, see {@link ConfigCache}) are skipped.
 *
 * Operations with an unknown outcome have no return event and are optional: the search succeeds as soon as
 * every completed operation is linearized. At each point completed operations are tried before unknown ones,
 * and unknown ones with equal `model.inputKey` only in call order.
 */
export function searchLinearization<State, Input, Output>(
  history: History<Input, Output>,
  model: Model<State, Input, Output>,
  limits: SearchLimits,
): SearchOutcome<State> {
  const n = history.length;
  const list = new EventList(history, limits.equalTimes);
  const { next, known, position } = list;
  const knownMask = new Bitset(n);
  let knownLeft = 0;
  for (let i = 0; i < n; i++) {
    if (known[i] === 1) {
      knownMask.set(i);
      knownLeft++;
    }
  }
  const totalKnown = knownLeft;
  const classPrev = interchangeable(history, model, known);
  const cache = new ConfigCache(knownMask);
  const linearized = new Bitset(n);
  let hash = 0;

  const stackOps = new Int32Array(n);
  const stackStop = new Int32Array(n);
  const stackStates: State[] = [];
  let depth = 0;

  let state = model.init();
  // Walk the main list (completed operations) up to its first return, `stop`; then walk the unknown-outcome
  // calls that precede `stop` in time. `stop === -1` means the main list is being walked.
  let node = list.first();
  let stop = -1;
  let steps = 0;
  const { maxSteps, deadline } = limits;
  const maxEntries = Math.max(1, Math.floor(limits.maxCacheBytes / cache.bytesPerEntry));

  let failure: FailurePoint<State> | undefined;
  let failureKnown = -1;

  for (;;) {
    if (knownLeft === 0)
      return { kind: 'linearizable', steps, order: Array.from(stackOps.subarray(0, depth)) };
    if (steps >= maxSteps) return { kind: 'exhausted', steps, limit: 'steps' };
    if ((steps & 1023) === 0 && deadline !== Number.POSITIVE_INFINITY && Date.now() > deadline) {
      return { kind: 'exhausted', steps, limit: 'time' };
    }
    steps++;

    if (stop === -1 && !isCallNode(node)) {
      // A return (or the end): no completed operation called later may go before it.
      stop = node;
      node = list.firstUnknown();
    }
    const candidate = stop === -1 || position[node]! < position[stop]!;
    if (candidate) {
      const id = nodeOperation(node);
      const before = classPrev[id]!;
      if (before < 0 || linearized.has(before)) {
        const op = history[id]!;
        const isKnown = stop === -1;
        const result = model.step(state, op.input, isKnown ? op.output : undefined);
        if (result.ok) {
          linearized.set(id);
          const nextHash = isKnown ? hash ^ knownHash(id) : hash;
          const stateKey = model.key(result.state);
          if (cache.size >= maxEntries) return { kind: 'exhausted', steps, limit: 'memory' };
          if (cache.visit(linearized, nextHash, stateKey)) {
            stackOps[depth] = id;
            stackStop[depth] = stop;
            stackStates[depth] = state;
            depth++;
            state = result.state;
            hash = nextHash;
            list.lift(id);
            if (isKnown) knownLeft--;
            node = list.first();
            stop = -1;
            continue;
          }
          linearized.clear(id);
        }
      }
      node = next[node]!;
      continue;
    }

    // Every candidate before `stop` was tried: the operation returning at `stop` cannot be placed here.
    const done = totalKnown - knownLeft;
    if (done > failureKnown) {
      failureKnown = done;
      failure = {
        linearized: Array.from(stackOps.subarray(0, depth)),
        state,
        blocking: stop === TAIL ? undefined : nodeOperation(stop),
        candidates: pendingCalls(list, stop),
      };
    }
    if (depth === 0) return { kind: 'violation', steps, failure: failure! };
    depth--;
    const id = stackOps[depth]!;
    stop = stackStop[depth]!;
    state = stackStates[depth]!;
    list.unlift(id);
    linearized.clear(id);
    if (known[id] === 1) {
      hash ^= knownHash(id);
      knownLeft++;
    }
    node = next[callNode(id)]!;
  }
}

function pendingCalls(list: EventList, stop: number): number[] {
  const out: number[] = [];
  for (let node = list.first(); node !== stop && node !== TAIL; node = list.next[node]!) {
    if (isCallNode(node)) out.push(nodeOperation(node));
  }
  for (let node = list.firstUnknown(); node !== UNKNOWN_TAIL; node = list.next[node]!) {
    if (list.position[node]! < list.position[stop]!) out.push(nodeOperation(node));
  }
  return out;
}

/**
 * For each unknown-outcome operation, the previous one (by call time) with an equal `inputKey`, or -1.
 * Such operations are interchangeable: whenever a linearization uses some of them, using the earliest-called
 * ones at the same points is valid too, so the search only ever adds the next one of its class.
 */
function interchangeable<State, Input, Output>(
  history: History<Input, Output>,
  model: Model<State, Input, Output>,
  known: Uint8Array,
): Int32Array {
  const prev = new Int32Array(history.length).fill(-1);
  if (model.inputKey === undefined) return prev;
  const ids: number[] = [];
  for (let i = 0; i < history.length; i++) if (known[i] === 0) ids.push(i);
  ids.sort((a, b) => history[a]!.call - history[b]!.call || a - b);
  const last = new Map<string, number>();
  for (const id of ids) {
    const key = model.inputKey(history[id]!.input);
    const before = last.get(key);
    if (before !== undefined) prev[id] = before;
    last.set(key, id);
  }
  return prev;
}
