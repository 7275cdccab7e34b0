import type { Operation } from './history.js';

interface Pending<Input> {
  readonly clientId: string | number;
  readonly input: Input;
  readonly call: number;
}

/**
 * Collects a client history while a simulation runs.
 *
 * Call {@link invoke} when a client issues an operation and then exactly one of: {@link complete} with its
 * response, {@link fail} if it definitely did not take effect, or nothing (or {@link abandon}) if the client
 * cannot know: such operations end up in the history with an unknown outcome.
 */
export class HistoryRecorder<Input, Output> {
  private readonly ops: (Operation<Input, Output> | Pending<Input> | undefined)[] = [];
  private readonly done: boolean[] = [];

  /** Records that `clientId` issued `input` at `time`; returns a handle for the other methods. */
  invoke(clientId: string | number, input: Input, time: number): number {
    this.ops.push({ clientId, input, call: time });
    this.done.push(false);
    return this.ops.length - 1;
  }

  /** Records the response to operation `handle`, received at `time`. */
  complete(handle: number, output: Output, time: number): void {
    const op = this.pending(handle);
    this.ops[handle] = { clientId: op.clientId, input: op.input, output, call: op.call, return: time };
    this.done[handle] = true;
  }

  /** Records that operation `handle` definitely did not take effect: it is left out of the history. */
  fail(handle: number): void {
    this.pending(handle);
    this.ops[handle] = undefined;
    this.done[handle] = true;
  }

  /** Records that the client gave up on operation `handle` without knowing whether it took effect. */
  abandon(handle: number): void {
    const op = this.pending(handle);
    this.ops[handle] = {
      clientId: op.clientId,
      input: op.input,
      call: op.call,
      return: Number.POSITIVE_INFINITY,
    };
    this.done[handle] = true;
  }

  /** The history so far; operations still in flight are included with an unknown outcome. */
  history(): Operation<Input, Output>[] {
    const out: Operation<Input, Output>[] = [];
    for (const [i, op] of this.ops.entries()) {
      if (op === undefined) continue;
      out.push(this.done[i] ? (op as Operation<Input, Output>) : { ...op, return: Number.POSITIVE_INFINITY });
    }
    return out;
  }

  private pending(handle: number): Pending<Input> {
    const op = this.ops[handle];
    if (op === undefined || this.done[handle] !== false) {
      throw new RangeError(`operation handle ${handle} is unknown or already finished`);
    }
    return op;
  }
}
