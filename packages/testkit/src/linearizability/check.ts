import type { EqualTimes } from './event-list.js';
import { type History, isUnknownOutcome, type Operation, validateHistory } from './history.js';
import type { HistoryPartition, Model } from './model.js';
import type { CheckResult, CheckViolation, ReportedOperation } from './result.js';
import { type ExhaustedLimit, type FailurePoint, searchLinearization } from './search.js';

/** Default of {@link CheckOptions.maxSteps}: on the order of a second of search. */
export const DEFAULT_MAX_STEPS = 10_000_000;

/** Default of {@link CheckOptions.maxCacheBytes}: 256 MiB. */
export const DEFAULT_MAX_CACHE_BYTES = 256 * 1024 * 1024;

/** Options of {@link checkLinearizable}. */
export interface CheckOptions {
  /**
   * Search budget per partition, in steps (one step visits one call or return event; a few million steps
   * take about a second). When a partition's search runs out, its verdict is unknown. Default
   * {@link DEFAULT_MAX_STEPS}; `Infinity` removes the bound. The whole check takes at most this many steps
   * per partition: use `timeoutMs` to bound it as a whole.
   */
  readonly maxSteps?: number;
  /**
   * Memory budget per partition for the memo of explored configurations, in bytes (about
   * `4 * ceil(n / 32) + 20` per configuration for `n` operations). Default {@link DEFAULT_MAX_CACHE_BYTES}.
   */
  readonly maxCacheBytes?: number;
  /**
   * Wall-clock budget for the whole check, in milliseconds. Default: none. Makes the verdict depend on the
   * machine's speed, so prefer `maxSteps` for reproducible runs.
   */
  readonly timeoutMs?: number;
  /** How a return and a call at the same instant are ordered. Default `'concurrent'`. */
  readonly equalTimes?: EqualTimes;
}

/**
 * Checks that a client history is linearizable with respect to a sequential model.
 *
 * The history is split with `model.partition` (if any) and each part is searched on its own; the first
 * violated part is reported. Operations whose outcome is unknown (`return: Infinity` or `unknown: true`) may
 * take effect at any point after their call, or never. Operations that definitely failed must not be in the
 * history.
 *
 * The search is bounded: a part that exhausts `maxSteps` (or the whole check passing `timeoutMs`) makes the
 * verdict `{ ok: 'unknown' }` unless another part is violated. It never runs unbounded unless asked to.
 *
 * @throws RangeError or TypeError if the history is malformed (see {@link validateHistory}).
 */
export function checkLinearizable<State, Input, Output>(
  history: History<Input, Output>,
  model: Model<State, Input, Output>,
  options: CheckOptions = {},
): CheckResult<Input, Output> {
  validateHistory(history);
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
  const maxCacheBytes = options.maxCacheBytes ?? DEFAULT_MAX_CACHE_BYTES;
  if (!(maxSteps >= 0)) throw new RangeError(`maxSteps must be >= 0, got ${maxSteps}`);
  if (!(maxCacheBytes >= 0)) throw new RangeError(`maxCacheBytes must be >= 0, got ${maxCacheBytes}`);
  const deadline =
    options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeoutMs;
  const equalTimes = options.equalTimes ?? 'concurrent';

  const parts: readonly Part<Input, Output>[] =
    model.partition === undefined ? [{ key: null, operations: history }] : model.partition(history);
  let indexOf: Map<Operation<Input, Output>, number> | undefined;
  /** The original operation behind operation `id` of `part`, and its position in the history. */
  const locate = (part: Part<Input, Output>, id: number): Located<Input, Output> => {
    const origin = part.origins?.[id];
    const original = origin === undefined ? undefined : history[origin];
    if (original !== undefined) return { op: original, index: origin! };
    const op = part.operations[id]!;
    indexOf ??= new Map(history.map((o, i) => [o, i]));
    return { op, index: indexOf.get(op) ?? -1 };
  };

  let steps = 0;
  const exhausted: (string | null)[] = [];
  const limits = new Set<ExhaustedLimit>();
  for (const part of parts) {
    if (part.operations.length === 0) continue;
    const outcome = searchLinearization(part.operations, model, {
      maxSteps,
      maxCacheBytes,
      deadline,
      equalTimes,
    });
    steps += outcome.steps;
    if (outcome.kind === 'exhausted') {
      exhausted.push(part.key);
      limits.add(outcome.limit);
    } else if (outcome.kind === 'violation') {
      return violation(part, model, outcome.failure, (id) => locate(part, id), steps);
    }
  }
  if (exhausted.length > 0) {
    const names = exhausted.map(keyName).join(', ');
    return {
      ok: 'unknown',
      key: exhausted[0]!,
      keys: exhausted,
      reason: `search budget exhausted (${[...limits].map((l) => LIMIT_NAMES[l]).join(', ')}) on ${names}; no violation found elsewhere`,
      steps,
    };
  }
  return { ok: true, partitions: parts.length, steps };
}

const MAX_LISTED = 8;

const LIMIT_NAMES: Record<ExhaustedLimit, string> = {
  steps: 'maxSteps',
  time: 'timeoutMs',
  memory: 'maxCacheBytes',
};

type Part<Input, Output> = Omit<HistoryPartition<Input, Output>, 'key'> & { readonly key: string | null };

interface Located<Input, Output> {
  readonly op: Operation<Input, Output>;
  readonly index: number;
}

function violation<State, Input, Output>(
  part: Part<Input, Output>,
  model: Model<State, Input, Output>,
  failure: FailurePoint<State>,
  locate: (id: number) => Located<Input, Output>,
  steps: number,
): CheckViolation<Input, Output> {
  const { key, operations: ops } = part;
  const report = (id: number): ReportedOperation<Input, Output> => reportOperation(locate(id), model);
  const linearized = failure.linearized.map(report);
  const candidates = failure.candidates.map(report);
  const state = describeState(model, failure.state);
  const known = ops.filter((op) => !isUnknownOutcome(op)).length;
  const done = linearized.filter((op) => !op.unknown).length;

  const lines: string[] = [];
  lines.push(
    `${keyName(key)} is not linearizable (${ops.length} operations${model.name ? `, model ${model.name}` : ''}).`,
  );
  if (linearized.length === 0) {
    lines.push(`No operation can be linearized first from the initial state ${state}.`);
  } else {
    lines.push(
      `Longest linearizable prefix found: ${done} of ${known} completed operations` +
        `${linearized.length > done ? ` (plus ${linearized.length - done} with unknown outcome)` : ''}, leaving state ${state}; its last operations:`,
    );
    for (const op of linearized.slice(-MAX_LISTED)) lines.push(`  ${op.description}`);
  }
  const blocking = failure.blocking === undefined ? undefined : report(failure.blocking);
  if (failure.blocking !== undefined && blocking !== undefined) {
    // The searched operation's return: an unknown outcome proven by an observer gets the observer's.
    const by = ops[failure.blocking]!.return;
    lines.push(`Then ${blocking.description} must take effect by time ${by}, but no pending operation fits:`);
  }
  for (const [i, op] of candidates.slice(0, MAX_LISTED).entries()) {
    const searched = ops[failure.candidates[i]!]!;
    const unknown = isUnknownOutcome(searched);
    const accepted = model.step(failure.state, searched.input, unknown ? undefined : searched.output).ok;
    const verdict = !accepted
      ? `not allowed in state ${state}`
      : unknown
        ? 'could take effect here, but nothing consistent follows'
        : 'allowed here, but nothing consistent follows';
    lines.push(`  ${op.description}: ${verdict}`);
  }
  if (candidates.length > MAX_LISTED) lines.push(`  ... and ${candidates.length - MAX_LISTED} more`);

  return {
    ok: false,
    key,
    reason: lines.join('\n'),
    linearized,
    state,
    ...(blocking === undefined ? {} : { blocking }),
    candidates,
    partitionSize: ops.length,
    steps,
  };
}

function reportOperation<State, Input, Output>(
  { op, index }: Located<Input, Output>,
  model: Model<State, Input, Output>,
): ReportedOperation<Input, Output> {
  const unknown = isUnknownOutcome(op);
  const output = unknown ? undefined : op.output;
  const text = model.describeOperation
    ? model.describeOperation(op.input, output)
    : defaultDescribe(op.input, output);
  const end = op.return === Number.POSITIVE_INFINITY ? '∞' : String(op.return);
  return {
    index,
    clientId: op.clientId,
    input: op.input,
    output,
    call: op.call,
    return: op.return,
    unknown,
    description: `#${index} client ${String(op.clientId)}: ${text} [${op.call}, ${end}]${unknown ? ' (outcome unknown)' : ''}`,
  };
}

function describeState<State>(model: Model<State, unknown, unknown>, state: State): string {
  return model.describeState ? model.describeState(state) : safeJson(state);
}

function defaultDescribe(input: unknown, output: unknown): string {
  return `${safeJson(input)} -> ${output === undefined ? '?' : safeJson(output)}`;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function keyName(key: string | null): string {
  return key === null ? 'the history' : `key ${JSON.stringify(key)}`;
}
