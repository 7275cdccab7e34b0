/** An operation of the checked history, as quoted in a {@link CheckViolation}. */
export interface ReportedOperation<Input, Output> {
  /** Position in the history passed to the checker (`-1` if the model's partition made a new object). */
  readonly index: number;
  /** The issuing client. */
  readonly clientId: string | number;
  /** What was asked. */
  readonly input: Input;
  /** What came back (`undefined` when the outcome is unknown). */
  readonly output: Output | undefined;
  /** When it was called. */
  readonly call: number;
  /** When it returned (`Infinity` when the outcome is unknown). */
  readonly return: number;
  /** Whether the outcome is unknown. */
  readonly unknown: boolean;
  /** One line for humans: `#index client c: operation [call, return]`. */
  readonly description: string;
}

/** Every partition of the history is linearizable. */
export interface CheckOk {
  /** Linearizable. */
  readonly ok: true;
  /** How many partitions were checked. */
  readonly partitions: number;
  /** Search steps used, over all partitions. */
  readonly steps: number;
}

/** A partition of the history is not linearizable. */
export interface CheckViolation<Input, Output> {
  /** Not linearizable. */
  readonly ok: false;
  /** The partition's key, or `null` when the model does not partition histories. */
  readonly key: string | null;
  /** A readable explanation naming the operations involved. */
  readonly reason: string;
  /** The longest linearizable prefix the search found (most completed operations), in order. */
  readonly linearized: readonly ReportedOperation<Input, Output>[];
  /** The model state after that prefix (as `describeState` renders it). */
  readonly state: string;
  /**
   * The completed operation that could not be placed after that prefix: it returned before anything else
   * could be linearized. Absent only in degenerate cases.
   */
  readonly blocking?: ReportedOperation<Input, Output>;
  /** The operations that were pending at that point (called before `blocking` returned), `blocking` included. */
  readonly candidates: readonly ReportedOperation<Input, Output>[];
  /** Number of operations in the partition. */
  readonly partitionSize: number;
  /** Search steps used, over all partitions checked. */
  readonly steps: number;
}

/**
 * The search budget ran out on at least one partition (and no other partition is known to be violated):
 * the history may or may not be linearizable.
 */
export interface CheckUnknown {
  /** Undecided within the budget. */
  readonly ok: 'unknown';
  /** The first partition whose search was cut short (`null` when the model does not partition). */
  readonly key: string | null;
  /** Every partition whose search was cut short. */
  readonly keys: readonly (string | null)[];
  /** A readable explanation. */
  readonly reason: string;
  /** Search steps used, over all partitions. */
  readonly steps: number;
}

/** The verdict of {@link checkLinearizable}. */
export type CheckResult<Input, Output> = CheckOk | CheckViolation<Input, Output> | CheckUnknown;
