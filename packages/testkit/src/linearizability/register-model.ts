import { isUnknownOutcome, type Operation } from './history.js';
import type { HistoryPartition, Model, StepResult } from './model.js';
import { simplifyRegisterHistory, UNOBSERVED_VALUE } from './register-simplify.js';

/**
 * An operation on the simulator's key-value workload. Values are strings (record numbers as `String(n)`);
 * `null` means "the key does not exist".
 * - `read`: returns the current value, or `null`.
 * - `write`: sets the value.
 * - `cas`: sets `value` if the current value is `expected` (`expected: null` means "only if the key does
 *   not exist") and reports whether it did.
 *
 * Give every write and cas a value never written before (for example `"<client>-<counter>"`): the checker
 * can then tell which write a read saw, which makes violations easier to read and lets it settle most
 * unknown outcomes before searching (see {@link simplifyRegisterHistory}). Repeated values are correct too,
 * only slower to check.
 */
export type RegisterInput =
  | { readonly kind: 'read'; readonly key: string }
  | { readonly kind: 'write'; readonly key: string; readonly value: string }
  | { readonly kind: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string };

/**
 * The response to a {@link RegisterInput} of the same `kind`.
 * A `cas` answered `{ ok: false }` did happen (it compared and found a different value) and must be recorded;
 * a request rejected before it could take effect (for example `NOT_LEADER`) must not be.
 */
export type RegisterOutput =
  | { readonly kind: 'read'; readonly value: string | null }
  | { readonly kind: 'write' }
  | { readonly kind: 'cas'; readonly ok: boolean };

/** The state of one key's register: its value, or `null` if it does not exist. */
export type RegisterState = string | null;

/** Builders for {@link RegisterInput}s. */
export const registerInput = {
  /** `read(key)`. */
  read: (key: string): RegisterInput => ({ kind: 'read', key }),
  /** `write(key, value)`. */
  write: (key: string, value: string): RegisterInput => ({ kind: 'write', key, value }),
  /** `cas(key, expected, value)`; `expected: null` means "must not exist". */
  cas: (key: string, expected: string | null, value: string): RegisterInput => ({
    kind: 'cas',
    key,
    expected,
    value,
  }),
} as const;

/** Builders for {@link RegisterOutput}s. */
export const registerOutput = {
  /** A read's result: the value, or `null` if the key did not exist. */
  read: (value: string | null): RegisterOutput => ({ kind: 'read', value }),
  /** A write's acknowledgement. */
  write: (): RegisterOutput => ({ kind: 'write' }),
  /** A cas's result. */
  cas: (ok: boolean): RegisterOutput => ({ kind: 'cas', ok }),
} as const;

/** Options of {@link createRegisterModel}. */
export interface RegisterModelOptions {
  /**
   * Rewrite each key's history into an equivalent one before searching ({@link simplifyRegisterHistory}):
   * resolve unknown outcomes that other operations prove, drop unknown-outcome operations that cannot matter
   * and merge values nobody observed. Never changes the verdict; keeps histories with many timeouts fast.
   * Default `true`.
   */
  readonly simplify?: boolean;
}

/**
 * The sequential specification of the simulator's workload: a map of independent registers. Histories are
 * partitioned by key (each key is checked on its own) and each partition's state is one register's value,
 * starting at `null` (absent).
 */
export function createRegisterModel(
  options: RegisterModelOptions = {},
): Model<RegisterState, RegisterInput, RegisterOutput> {
  const simplify = options.simplify ?? true;
  return {
    name: 'register',
    init: () => null,
    step: registerStep,
    key: (state) => (state === null ? '\u0000' : `=${state}`),
    inputKey: (input) =>
      JSON.stringify(
        input.kind === 'read' ? ['r'] : [input.kind, input.value, input.kind === 'cas' ? input.expected : 0],
      ),
    partition(history) {
      const byKey = new Map<string, number[]>();
      for (const [i, op] of history.entries()) {
        checkShape(op, i);
        const indices = byKey.get(op.input.key);
        if (indices === undefined) byKey.set(op.input.key, [i]);
        else indices.push(i);
      }
      const parts: HistoryPartition<RegisterInput, RegisterOutput>[] = [];
      for (const [key, indices] of byKey) {
        parts.push(
          simplify
            ? { key, ...simplifyRegisterHistory(history, indices) }
            : { key, operations: indices.map((i) => history[i]!), origins: indices },
        );
      }
      return parts;
    },
    describeOperation: describeRegisterOperation,
    describeState: (state) =>
      state === null
        ? 'absent'
        : state.startsWith(UNOBSERVED_VALUE)
          ? '(a value nobody read)'
          : JSON.stringify(state),
  };
}

/** The register model with default options. */
export const registerModel: Model<RegisterState, RegisterInput, RegisterOutput> = createRegisterModel();

function registerStep(
  state: RegisterState,
  input: RegisterInput,
  output: RegisterOutput | undefined,
): StepResult<RegisterState> {
  switch (input.kind) {
    case 'read':
      if (output === undefined) return { ok: true, state };
      return { ok: output.kind === 'read' && output.value === state, state };
    case 'write':
      return { ok: output === undefined || output.kind === 'write', state: input.value };
    case 'cas': {
      const matches = state === input.expected;
      if (output === undefined) return { ok: true, state: matches ? input.value : state };
      if (output.kind !== 'cas') return { ok: false, state };
      return output.ok ? { ok: matches, state: input.value } : { ok: !matches, state };
    }
  }
}

function checkShape(op: Operation<RegisterInput, RegisterOutput>, index: number): void {
  const kind = (op.input as { kind?: unknown } | null)?.kind;
  if (kind !== 'read' && kind !== 'write' && kind !== 'cas') {
    throw new TypeError(`operation #${index}: unknown register input ${JSON.stringify(op.input)}`);
  }
  const { input, output } = op;
  if (typeof input.key !== 'string') throw new TypeError(`operation #${index}: key must be a string`);
  const isValue = (v: unknown, nullable: boolean): boolean =>
    typeof v === 'string' || (nullable && v === null);
  if (
    (input.kind !== 'read' && !isValue(input.value, false)) ||
    (input.kind === 'cas' && !isValue(input.expected, true)) ||
    (!isUnknownOutcome(op) && output?.kind === 'read' && !isValue(output.value, true))
  ) {
    throw new TypeError(`operation #${index}: register values must be strings (or null where allowed)`);
  }
  if (!isUnknownOutcome(op) && output?.kind !== kind) {
    throw new TypeError(
      `operation #${index}: a ${kind} must have a ${kind} output, got ${JSON.stringify(output)}`,
    );
  }
}

/** Renders a register operation, e.g. `read("x") -> "1"` or `cas("x", null -> "2") -> ok`. */
export function describeRegisterOperation(input: RegisterInput, output: RegisterOutput | undefined): string {
  const v = (value: string | null): string => (value === null ? 'absent' : JSON.stringify(value));
  const key = JSON.stringify(input.key);
  switch (input.kind) {
    case 'read':
      return `read(${key}) -> ${output?.kind === 'read' ? v(output.value) : '?'}`;
    case 'write':
      return `write(${key}, ${v(input.value)})${output === undefined ? ' -> ?' : ''}`;
    case 'cas':
      return `cas(${key}, ${v(input.expected)} -> ${v(input.value)}) -> ${output?.kind === 'cas' ? (output.ok ? 'ok' : 'failed') : '?'}`;
  }
}
