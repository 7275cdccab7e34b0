#!/usr/bin/env node
// The `tsraft` command: dispatches to a subcommand. Each subcommand is loaded only when run, so the client
// commands start without loading the server.
import { CONFIG_ERROR_EXIT_CODE, ConfigError } from '../config/config-error.js';
import { type CliIo, type Command, FAILURE_EXIT_CODE, processIo } from './cli-io.js';
import { COMMAND_USAGE, MAIN_USAGE } from './usage.js';

const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  serve: async () => (await import('./serve-command.js')).serveCommand,
  put: async () => (await import('./client-commands.js')).putCommand,
  get: async () => (await import('./client-commands.js')).getCommand,
  del: async () => (await import('./client-commands.js')).delCommand,
  cas: async () => (await import('./client-commands.js')).casCommand,
  status: async () => (await import('./status-command.js')).statusCommand,
  member: async () => (await import('./member-commands.js')).memberCommand,
  'transfer-leader': async () => (await import('./member-commands.js')).transferLeaderCommand,
  cluster: async () => (await import('./cluster-command.js')).clusterCommand,
  help: async () => helpCommand,
};

const helpCommand: Command = async (argv, io) => {
  const topic = argv[0];
  const usage = topic === undefined ? undefined : COMMAND_USAGE[topic];
  if (topic !== undefined && usage === undefined) {
    io.err(`tsraft: unknown command "${topic}"\n\n${MAIN_USAGE}`);
    return CONFIG_ERROR_EXIT_CODE;
  }
  io.out(usage?.() ?? MAIN_USAGE);
  return 0;
};

/** Runs `tsraft` with `argv` (the arguments after the script) and resolves with the exit status. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    (name === undefined ? io.err : io.out)(MAIN_USAGE);
    return name === undefined ? CONFIG_ERROR_EXIT_CODE : 0;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (load === undefined) {
    io.err(`tsraft: unknown command "${name}"\n\n${MAIN_USAGE}`);
    return CONFIG_ERROR_EXIT_CODE;
  }
  // Per-command help before any parsing, so it works next to otherwise invalid flags.
  if (name !== 'help' && (rest.includes('--help') || rest.includes('-h'))) {
    io.out(COMMAND_USAGE[name]!());
    return 0;
  }
  try {
    return await (await load())(rest, io);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`tsraft: ${error.message}\n`);
      return CONFIG_ERROR_EXIT_CODE;
    }
    io.err(`tsraft: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return FAILURE_EXIT_CODE;
  }
}

/**
 * Drops Node's DEP0123 warning ("Setting the TLS ServerName to an IP address is not permitted"): grpc-js
 * sets the TLS server name to the target host even when it is an IP address (grpc/grpc-node#1919), so every
 * TLS connection to `127.0.0.1:7001` would print it, though the certificate is still checked against the IP.
 * Every other warning is emitted as usual.
 */
function silenceIpServernameWarning(): void {
  const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((...args: unknown[]) => {
    const [, typeOrOptions, code] = args;
    const warningCode =
      typeof typeOrOptions === 'object' && typeOrOptions !== null
        ? (typeOrOptions as { code?: unknown }).code
        : code;
    if (warningCode === 'DEP0123') return;
    emitWarning(...args);
  }) as typeof process.emitWarning;
}

silenceIpServernameWarning();
const status = await main(process.argv.slice(2), processIo());
process.exitCode = status;
// Let pending output drain, but do not wait on handles a library left open (gRPC channels, timers).
setTimeout(() => process.exit(status), 1_000).unref();
