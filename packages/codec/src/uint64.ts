import { invalidArgument } from './invalid-argument.js';

const MAX_SAFE_BIGINT = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Converts a core term, index or id (a JavaScript number) to the wire's `uint64` (a bigint).
 *
 * @param value - must be a non-negative safe integer.
 * @param field - the field's name, for the error message.
 * @throws RaftError `INVALID_ARGUMENT` when `value` is negative, fractional, not finite or above
 *   `Number.MAX_SAFE_INTEGER`.
 */
export function toUint64(value: number, field: string): bigint {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw invalidArgument(`${field} must be a non-negative safe integer, got ${value}`);
  }
  return BigInt(value);
}

/**
 * Converts a wire `uint64` (a bigint) to the number core uses.
 *
 * @param value - a decoded `uint64`; protobuf-es never yields a negative one.
 * @param field - the field's name, for the error message.
 * @throws RaftError `INVALID_ARGUMENT` when `value` is above `Number.MAX_SAFE_INTEGER` (2^53 - 1), where a
 *   number can no longer represent every integer and comparisons of terms or indexes would be wrong.
 */
export function fromUint64(value: bigint, field: string): number {
  if (value > MAX_SAFE_BIGINT || value < 0n) {
    throw invalidArgument(`${field} ${value} is outside 0..Number.MAX_SAFE_INTEGER`);
  }
  return Number(value);
}
