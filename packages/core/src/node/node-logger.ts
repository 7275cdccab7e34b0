/**
 * A hook for a node's diagnostics: every method is optional, so `console`, a pino/winston logger or
 * `{ error: report }` all fit. Fields are plain data (ids, indexes, terms, the error).
 *
 * Levels: `debug` for per-event detail (a dropped message), `info` for role and leader changes,
 * `warn` for peer faults the node survives (a malformed message), `error` for the fault that stopped it.
 */
export interface NodeLogger {
  debug?(message: string, fields?: Readonly<Record<string, unknown>>): void;
  info?(message: string, fields?: Readonly<Record<string, unknown>>): void;
  warn?(message: string, fields?: Readonly<Record<string, unknown>>): void;
  error?(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

/** A level of {@link NodeLogger}. */
export type NodeLogLevel = keyof NodeLogger;

/** Calls `logger[level]` if present; a logger that throws never breaks the node. */
export function logTo(
  logger: NodeLogger,
  level: NodeLogLevel,
  message: string,
  fields?: Readonly<Record<string, unknown>>,
): void {
  try {
    logger[level]?.(message, fields);
  } catch {
    // Diagnostics are best effort.
  }
}
