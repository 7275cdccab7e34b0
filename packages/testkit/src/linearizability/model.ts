import type { History } from './history.js';

/** The result of applying one operation to a model state. */
export interface StepResult<State> {
  /** Whether the operation, with the output it reported, is legal in the state it was applied to. */
  readonly ok: boolean;
  /** The state after the operation (meaningful only when `ok`). */
  readonly state: State;
}

/** An independent part of a history: the operations on one key. */
export interface HistoryPartition<Input, Output> {
  /** A name for the part, reported with a violation (for a key-value store, the key). */
  readonly key: string;
  /**
   * The part's operations. Operations that cannot affect the verdict may be left out, and operations may be
   * rewritten into equivalent ones (for example an unknown outcome that other operations prove known).
   */
  readonly operations: History<Input, Output>;
  /**
   * For each of `operations`, its position in the original history; reports quote the original operation.
   * Needed when operations are rewritten copies; without it positions are found by object identity.
   */
  readonly origins?: readonly number[];
}

/**
 * The sequential specification of an object, against which a concurrent history is checked.
 * States must be treated as immutable: `step` returns a new state rather than changing its argument.
 */
export interface Model<State, Input, Output> {
  /** A short name used in reports. */
  readonly name?: string;
  /** The state before any operation. */
  init(): State;
  /**
   * Applies `input` to `state` and says whether `output` is what a sequential object would have returned.
   * `output` is `undefined` when the operation's outcome is unknown: the step must then be accepted whenever
   * the operation could have taken effect, and return the state it would have left (models are deterministic:
   * one state per input and output).
   */
  step(state: State, input: Input, output: Output | undefined): StepResult<State>;
  /** A string equal for equal states and different for different ones; the search memoizes on it. */
  key(state: State): string;
  /**
   * Splits a history into parts that can be checked independently (P-compositionality: a history is
   * linearizable iff each part is), for example one part per key. Without it the history is one part.
   */
  partition?(history: History<Input, Output>): readonly HistoryPartition<Input, Output>[];
  /**
   * Optional: a string equal for inputs that have the same effect. Unknown-outcome operations with equal
   * inputs are interchangeable, so the search uses them only in call order, which saves a lot of work
   * when many operations time out.
   */
  inputKey?(input: Input): string;
  /** Renders an operation for reports; `output` is `undefined` when unknown. */
  describeOperation?(input: Input, output: Output | undefined): string;
  /** Renders a state for reports. */
  describeState?(state: State): string;
}
