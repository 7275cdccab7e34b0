import { KvError } from '@tsraft/kv-client';

/** An error's code and message for display; anything that is not a {@link KvError} gets code `ERROR`. */
export function kvErrorParts(error: unknown): { code: string; message: string } {
  if (!(error instanceof KvError)) {
    return { code: 'ERROR', message: error instanceof Error ? error.message : String(error) };
  }
  // KvError's message starts with its code; do not print it twice.
  const prefix = `${error.code}: `;
  const message = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  return { code: error.code, message };
}

/** `tsraft: CODE: message`, plus a warning when a write may or may not have been applied. */
export function describeKvError(error: unknown): string {
  const { code, message } = kvErrorParts(error);
  const unknown =
    error instanceof KvError && error.outcomeUnknown ? ' (the write may or may not have been applied)' : '';
  return `tsraft: ${code}: ${message}${unknown}`;
}
