/**
 * A linearizability checker for client histories (Wing & Gong's search with Lowe's memoization, as in
 * Porcupine), with a ready-made model of the simulator's key-value workload.
 *
 * ```ts
 * const recorder = new HistoryRecorder<RegisterInput, RegisterOutput>();
 * const op = recorder.invoke('client-1', registerInput.write('x', 'c1-1'), now);
 * recorder.complete(op, registerOutput.write(), later); // or fail(op) / abandon(op)
 * const result = checkLinearizable(recorder.history(), registerModel);
 * if (result.ok === false) throw new Error(result.reason);
 * ```
 *
 * @module
 */
export { type CheckOptions, checkLinearizable, DEFAULT_MAX_CACHE_BYTES, DEFAULT_MAX_STEPS } from './check.js';
export type { EqualTimes } from './event-list.js';
export { type History, isUnknownOutcome, type Operation, validateHistory } from './history.js';
export type { HistoryPartition, Model, StepResult } from './model.js';
export { HistoryRecorder } from './recorder.js';
export {
  createRegisterModel,
  describeRegisterOperation,
  type RegisterInput,
  type RegisterModelOptions,
  type RegisterOutput,
  type RegisterState,
  registerInput,
  registerModel,
  registerOutput,
} from './register-model.js';
export { type SimplifiedHistory, simplifyRegisterHistory, UNOBSERVED_VALUE } from './register-simplify.js';
export type { CheckOk, CheckResult, CheckUnknown, CheckViolation, ReportedOperation } from './result.js';
export {
  type ExhaustedLimit,
  type FailurePoint,
  type SearchLimits,
  type SearchOutcome,
  searchLinearization,
} from './search.js';
