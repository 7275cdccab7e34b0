import { createKvClient } from '@tsraft/kv-client';
import { ConfigError } from '../config/config-error.js';
import { type FlagOptions, parseFlags } from '../config/parse-flags.js';
import { type CliIo, type Command, FAILURE_EXIT_CODE } from './cli-io.js';
import { CLIENT_FLAGS, clientOptions, kvClientOptions } from './client-options.js';
import { describeKvError } from './kv-error-text.js';

type KvClient = ReturnType<typeof createKvClient>;

const CONSISTENCIES = ['linearizable', 'lease', 'stale'] as const;
type Consistency = (typeof CONSISTENCIES)[number];

/** `tsraft put KEY VALUE`: prints `OK`. */
export const putCommand: Command = (argv, io) =>
  withClient('put', argv, io, {}, ['KEY', 'VALUE'], async (client, [key, value]) => {
    await client.put(key!, value!);
    io.out('OK\n');
    return 0;
  });

/**
 * `tsraft get KEY [--consistency MODE]`: prints the value (UTF-8) and a newline. A missing key prints
 * nothing on stdout and `tsraft: key not found` on stderr, and exits 1, so scripts can tell it from an empty
 * value.
 */
export const getCommand: Command = (argv, io) =>
  withClient('get', argv, io, { consistency: { type: 'string' } }, ['KEY'], async (client, [key], values) => {
    const consistency = (values.consistency as string | undefined) ?? 'linearizable';
    if (!(CONSISTENCIES as readonly string[]).includes(consistency)) {
      throw new ConfigError(`--consistency: "${consistency}" is not one of ${CONSISTENCIES.join(', ')}`);
    }
    const value = await client.get(key!, { consistency: consistency as Consistency });
    if (value === undefined) {
      io.err('tsraft: key not found\n');
      return FAILURE_EXIT_CODE;
    }
    io.out(`${utf8(value)}\n`);
    return 0;
  });

/** `tsraft del KEY`: prints `deleted`, or `not found` when there was no such key (both exit 0). */
export const delCommand: Command = (argv, io) =>
  withClient('del', argv, io, {}, ['KEY'], async (client, [key]) => {
    io.out((await client.delete(key!)) ? 'deleted\n' : 'not found\n');
    return 0;
  });

/**
 * `tsraft cas KEY EXPECTED VALUE` or `tsraft cas --absent KEY VALUE`: prints `OK`, or
 * `FAILED (current: ...)` and exits 1.
 */
export const casCommand: Command = (argv, io) =>
  withClient(
    'cas',
    argv,
    io,
    { absent: { type: 'boolean' } },
    (values) => (values.absent === true ? ['KEY', 'VALUE'] : ['KEY', 'EXPECTED', 'VALUE']),
    async (client, args, values) => {
      const [key, expected, value] = values.absent === true ? [args[0], undefined, args[1]] : args;
      const result = await client.compareAndSwap(key!, expected, value!);
      if (result.succeeded) {
        io.out('OK\n');
        return 0;
      }
      io.out(`FAILED (current: ${result.value === undefined ? '(absent)' : utf8(result.value)})\n`);
      return FAILURE_EXIT_CODE;
    },
  );

/**
 * Parses a client command's flags and exactly the positionals it names, runs `body` with a client, and
 * turns a {@link KvError} into `tsraft: CODE: message` and exit 1.
 */
async function withClient(
  command: string,
  argv: readonly string[],
  io: CliIo,
  flags: FlagOptions,
  positionals: readonly string[] | ((values: Readonly<Record<string, unknown>>) => readonly string[]),
  body: (
    client: KvClient,
    args: readonly string[],
    values: Readonly<Record<string, unknown>>,
  ) => Promise<number>,
): Promise<number> {
  const { values, positionals: args } = parseFlags(argv, { ...CLIENT_FLAGS, ...flags }, command, true);
  const names = typeof positionals === 'function' ? positionals(values) : positionals;
  if (args.length !== names.length) {
    throw new ConfigError(
      `${command} takes ${names.join(' ')}, got ${args.length} argument${args.length === 1 ? '' : 's'} (see tsraft ${command} --help)`,
    );
  }
  const client = createKvClient(kvClientOptions(clientOptions(values, io)));
  try {
    return await body(client, args, values);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    io.err(`${describeKvError(error)}\n`);
    return FAILURE_EXIT_CODE;
  } finally {
    client.close();
  }
}

function utf8(value: Uint8Array): string {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
}
