import { type History, isUnknownOutcome, type Operation } from './history.js';
import type { RegisterInput, RegisterOutput } from './register-model.js';

type Op = Operation<RegisterInput, RegisterOutput>;

/**
 * The value that {@link simplifyRegisterHistory} substitutes for values no operation can tell apart
 * (see there). Starts with a NUL character so it does not clash with ordinary values.
 */
export const UNOBSERVED_VALUE = '\u0000unobserved';

/** A rewritten single-register history and where each of its operations came from. */
export interface SimplifiedHistory {
  /** The operations to search. */
  readonly operations: History<RegisterInput, RegisterOutput>;
  /** For each operation, its position in the original history. */
  readonly origins: readonly number[];
}

/**
 * Rewrites the history of one register (the operations at `indices` of `history`, all on one key) into an
 * equivalent one, linearizable if and only if the original is, that is much cheaper to search when many
 * operations have an unknown outcome. Completed operations are never changed; unknown-outcome ones are:
 *
 * 1. **Resolved** when their effect was observed: if an unknown write (or cas) is the only operation that
 *    can write `v`, and a completed read returned `v` (or a completed successful cas expected `v`), it
 *    certainly took effect, before that observer returned. It becomes a completed write (a successful cas)
 *    returning just after the earliest such observer returned. Applied to a fixed point (a resolved cas is itself
 *    an observer of its expected value). Writing unique values makes this apply whenever it can.
 * 2. **Dropped** when they cannot matter: unknown reads (no effect, no constraint), and unknown writes or
 *    cas of a value no completed operation needed, unless a completed failed cas returned after the
 *    operation was called (any value different from the expected one can explain a failed cas).
 * 3. **Renamed**: a value that no read returned and no cas expected is indistinguishable from any other such
 *    value, so the ones written by remaining unknown operations become {@link UNOBSERVED_VALUE}. Unknown
 *    operations with equal inputs are interchangeable, which the search exploits through `inputKey`.
 */
export function simplifyRegisterHistory(
  history: History<RegisterInput, RegisterOutput>,
  indices: readonly number[],
): SimplifiedHistory {
  const ops: Op[] = indices.map((i) => history[i]!);
  const unknown = ops.map(isUnknownOutcome);
  if (!unknown.includes(true)) return { operations: ops, origins: indices };

  // 1. Resolve observed unknown writes.
  const writers = new Map<string, number>();
  for (const [i, op] of ops.entries()) {
    const { input, output } = op;
    if (input.kind === 'read') continue;
    if (input.kind === 'cas' && !unknown[i] && output?.kind === 'cas' && !output.ok) continue;
    writers.set(input.value, (writers.get(input.value) ?? 0) + 1);
  }
  const deadline = new Map<string, number>();
  const observe = (value: string | null, time: number): void => {
    if (value !== null && time < (deadline.get(value) ?? Number.POSITIVE_INFINITY)) deadline.set(value, time);
  };
  for (const [i, { input, output, return: ret }] of ops.entries()) {
    if (unknown[i]) continue;
    if (input.kind === 'read' && output?.kind === 'read') observe(output.value, ret);
    if (input.kind === 'cas' && output?.kind === 'cas' && output.ok) observe(input.expected, ret);
  }
  const resolvedBy = ops.map(() => Number.POSITIVE_INFINITY);
  for (let changed = true; changed; ) {
    changed = false;
    for (const [i, { input, call }] of ops.entries()) {
      if (!unknown[i] || input.kind === 'read' || writers.get(input.value) !== 1) continue;
      const by = deadline.get(input.value);
      // An observer that returned before the write was called is a violation the search will report.
      if (by === undefined || by < call || by >= resolvedBy[i]!) continue;
      resolvedBy[i] = by;
      if (input.kind === 'cas') observe(input.expected, by);
      changed = true;
    }
  }
  // The observer took effect by `by`, and the write before it; but the write may still tie with calls made at
  // `by` itself, so it returns just after: at the next instant anything happens (any later time would do,
  // since the model already forces the write before its observer; the return only makes it mandatory).
  const times = [...new Set(ops.flatMap((op) => [op.call, op.return]))]
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  for (const [i, op] of ops.entries()) {
    const by = resolvedBy[i]!;
    if (by === Number.POSITIVE_INFINITY) continue;
    const output: RegisterOutput = op.input.kind === 'write' ? { kind: 'write' } : { kind: 'cas', ok: true };
    ops[i] = { clientId: op.clientId, input: op.input, output, call: op.call, return: nextTime(times, by) };
  }
  const settled = ops.map((op) => !isUnknownOutcome(op));

  // 2. Drop unknown operations that cannot matter.
  const needed = new Set<string>();
  let lastFailedCas = Number.NEGATIVE_INFINITY;
  for (const [i, { input, output, return: ret }] of ops.entries()) {
    if (!settled[i]) continue;
    if (input.kind === 'read' && output?.kind === 'read' && output.value !== null) needed.add(output.value);
    if (input.kind === 'cas' && output?.kind === 'cas') {
      if (output.ok && input.expected !== null) needed.add(input.expected);
      if (!output.ok) lastFailedCas = Math.max(lastFailedCas, ret);
    }
  }
  const keep = (i: number): boolean => {
    const op = ops[i]!;
    if (settled[i]) return true;
    return op.input.kind !== 'read' && (needed.has(op.input.value) || op.call <= lastFailedCas);
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (const [i, { input }] of ops.entries()) {
      if (input.kind === 'cas' && input.expected !== null && !needed.has(input.expected) && keep(i)) {
        needed.add(input.expected);
        changed = true;
      }
    }
  }
  const kept = ops.map((_, i) => i).filter(keep);

  // 3. Rename values nobody can distinguish.
  const referenced = new Set<string>();
  for (const i of kept) {
    const { input, output } = ops[i]!;
    if (input.kind === 'read' && output?.kind === 'read' && output.value !== null)
      referenced.add(output.value);
    if (input.kind === 'cas' && input.expected !== null) referenced.add(input.expected);
  }
  let token = UNOBSERVED_VALUE;
  while (referenced.has(token)) token += '\u0000';
  for (const i of kept) {
    const op = ops[i]!;
    if (settled[i] || op.input.kind === 'read' || referenced.has(op.input.value)) continue;
    const input: RegisterInput = { ...op.input, value: token };
    ops[i] = { clientId: op.clientId, input, call: op.call, return: op.return, unknown: true };
  }
  return { operations: kept.map((i) => ops[i]!), origins: kept.map((i) => indices[i]!) };
}

/** The smallest of the sorted `times` greater than `t` (`t + 1` if there is none: nothing happens later). */
function nextTime(times: readonly number[], t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo < times.length ? times[lo]! : t + 1;
}
