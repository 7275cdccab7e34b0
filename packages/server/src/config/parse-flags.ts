import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ConfigError } from './config-error.js';

/** Option definitions in `node:util` parseArgs form. */
export type FlagOptions = NonNullable<ParseArgsConfig['options']>;

/** What {@link parseFlags} found: option values by name, and the positional arguments. */
export interface ParsedFlags {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

/**
 * Strict `parseArgs` (both `--flag value` and `--flag=value`) whose failures are {@link ConfigError}s
 * naming the flag, in our words rather than Node's.
 * @param command names the command in the hint, e.g. `serve` for `tsraft serve --help`.
 */
export function parseFlags(
  argv: readonly string[],
  options: FlagOptions,
  command: string,
  allowPositionals = false,
): ParsedFlags {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, strict: true, allowPositionals });
    return { values: values as ParsedFlags['values'], positionals };
  } catch (error) {
    throw new ConfigError(`${describeParseError(error, argv)} (see tsraft ${command} --help)`);
  }
}

function describeParseError(error: unknown, argv: readonly string[]): string {
  const { code, message } = error as { code?: string; message: string };
  // Node quotes the offending argument: "Unknown option '--x'", "Option '--id <value>' argument missing".
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? '';
  const flag = quoted.split(' ')[0] ?? quoted;
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown flag ${flag}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument "${quoted}"`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      if (message.includes('does not take an argument')) return `${flag} takes no value`;
      // parseArgs will not take a value starting with "-" after a space: it may be a forgotten value.
      const next = argv[argv.indexOf(flag) + 1];
      if (message.includes('ambiguous') && next !== undefined) {
        return `${flag}: "${next}" looks like a flag; write ${flag}=${next} if it is the value`;
      }
      return `${flag} needs a value`;
    }
    default:
      return message;
  }
}
