/** What a `tsraft` command reads and writes besides its arguments; tests can substitute it. */
export interface CliIo {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Writes to standard output (the command's result). */
  out(text: string): void;
  /** Writes to standard error (diagnostics). */
  err(text: string): void;
}

/** A `tsraft` subcommand: runs with the arguments after its name, resolves with the exit status. */
export type Command = (argv: readonly string[], io: CliIo) => Promise<number>;

/** The process's own streams, environment and working directory. */
export function processIo(): CliIo {
  return {
    env: process.env,
    cwd: process.cwd(),
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  };
}

/** Exit status of a command that failed at run time (an error answer, a missing key, a failed swap). */
export const FAILURE_EXIT_CODE = 1;

/** Exit status of `tsraft serve` once the node was removed from the cluster (it shut down gracefully). */
export const REMOVED_EXIT_CODE = 3;
