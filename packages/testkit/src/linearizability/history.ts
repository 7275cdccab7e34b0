/**
 * One client operation as the checker sees it: what was asked (`input`), what came back (`output`),
 * and when, in the simulator's virtual time.
 *
 * - A **completed** operation has a finite `return` and an `output`. It took effect exactly once,
 *   at some instant between `call` and `return`.
 * - An operation with an **unknown outcome** (the client timed out, lost its connection or crashed, so the
 *   operation may or may not have taken effect) has `return: Infinity` or `unknown: true`. Its `output` is
 *   ignored: the checker may place it anywhere after `call`, or leave it out entirely.
 * - An operation that **definitely failed** (rejected before it could take effect, for example `NOT_LEADER`)
 *   must not be recorded at all.
 *
 * `undefined` is reserved to mean "no output"; models must use another value (such as `null`) for real outputs.
 */
export interface Operation<Input, Output> {
  /** The client that issued the operation; used only in reports. */
  readonly clientId: string | number;
  /** What the client asked for. */
  readonly input: Input;
  /** What the client got back. Required for completed operations; ignored when the outcome is unknown. */
  readonly output?: Output | undefined;
  /** When the client issued the operation (finite). */
  readonly call: number;
  /** When the client got the response (`>= call`), or `Infinity` if it never did. */
  readonly return: number;
  /** `true` marks the outcome as unknown even if `return` is finite (the time the client gave up). */
  readonly unknown?: boolean | undefined;
}

/** A client history: operations in any order. Positions in this array are the ids used in reports. */
export type History<Input, Output> = readonly Operation<Input, Output>[];

/** Whether the operation's outcome is unknown: it may have taken effect at any time after its call, or never. */
export function isUnknownOutcome(op: Operation<unknown, unknown>): boolean {
  return op.unknown === true || op.return === Number.POSITIVE_INFINITY;
}

/**
 * Checks the shape of a history and throws on the first malformed operation:
 * `call` must be a finite number, `return` a number `>= call` (or `Infinity`), and a completed operation
 * must have an `output`.
 * @throws RangeError for bad times, TypeError for a completed operation without an output.
 */
export function validateHistory(history: History<unknown, unknown>): void {
  for (let i = 0; i < history.length; i++) {
    const op = history[i]!;
    if (typeof op.call !== 'number' || !Number.isFinite(op.call)) {
      throw new RangeError(`operation #${i}: call time must be a finite number, got ${String(op.call)}`);
    }
    if (typeof op.return !== 'number' || Number.isNaN(op.return) || op.return < op.call) {
      throw new RangeError(
        `operation #${i}: return time must be a number >= call (${op.call}) or Infinity, got ${String(op.return)}`,
      );
    }
    if (!isUnknownOutcome(op) && op.output === undefined) {
      throw new TypeError(`operation #${i}: a completed operation needs an output (or mark it unknown)`);
    }
  }
}
