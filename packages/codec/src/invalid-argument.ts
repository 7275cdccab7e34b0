import { RaftError } from '@tsraft/core';

/** Builds the `INVALID_ARGUMENT` error the codec throws for anything it cannot convert. */
export function invalidArgument(message: string, cause?: unknown): RaftError {
  return new RaftError('INVALID_ARGUMENT', message, cause === undefined ? {} : { cause });
}
