import { type ClusterClient, type ClusterMembership, createClusterClient, KvError } from '@tsraft/kv-client';
import { ConfigError } from '../config/config-error.js';
import { parseHostPort } from '../config/host-port.js';
import { type FlagOptions, parseFlags } from '../config/parse-flags.js';
import { parseNodeId } from '../config/parse-peers.js';
import { type CliIo, type Command, FAILURE_EXIT_CODE } from './cli-io.js';
import { CLIENT_FLAGS, clientOptions } from './client-options.js';
import { kvErrorParts } from './kv-error-text.js';
import { DEFAULT_PROMOTE_MAX_LAG } from './usage.js';

const SUBCOMMANDS = ['list', 'add', 'promote', 'remove', 'replace'] as const;

/**
 * `tsraft member list|add|promote|remove|replace ...`: lists the members (as the leader sees them) or changes them
 * one at a time. Each change prints one line and the configuration id after it; `--json` prints the
 * membership instead.
 */
export const memberCommand: Command = async (argv, io) => {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'list':
      return withCluster('member list', rest, io, {}, [], async (client, _args, values) => {
        const membership = await client.list();
        io.out(values.json === true ? json(membership) : formatMembership(membership));
        return 0;
      });
    case 'add':
      return withCluster(
        'member add',
        rest,
        io,
        { learner: { type: 'boolean' }, 'expect-config': { type: 'string' } },
        ['ID', 'ADDRESS'],
        async (client, [id, address], values) => {
          const learner = values.learner === true;
          const membership = await client.add(id!, address!, { learner, ...expected(values) });
          io.out(
            values.json === true
              ? json(membership)
              : `added ${id} as a ${learner ? 'learner' : 'voter'} at ${address}; config ${membership.configId}\n`,
          );
          return 0;
        },
        (args) => {
          parseNodeId(args[0]!, 'ID');
          parseHostPort(args[1]!, 'ADDRESS');
        },
      );
    case 'promote':
      return withCluster(
        'member promote',
        rest,
        io,
        { 'max-lag': { type: 'string' }, force: { type: 'boolean' }, 'expect-config': { type: 'string' } },
        ['ID'],
        async (client, [id], values) => {
          const maxLag = values.force === true ? undefined : maxLagOf(values['max-lag']);
          const membership = await client.promote(id!, {
            ...(maxLag === undefined ? {} : { maxLagEntries: maxLag }),
            ...expected(values),
          });
          io.out(
            values.json === true
              ? json(membership)
              : `promoted ${id} to voter; config ${membership.configId}\n`,
          );
          return 0;
        },
        (args) => parseNodeId(args[0]!, 'ID'),
      );
    case 'remove':
      return withCluster(
        'member remove',
        rest,
        io,
        { 'expect-config': { type: 'string' } },
        ['ID'],
        async (client, [id], values) => {
          const membership = await client.remove(id!, expected(values));
          io.out(values.json === true ? json(membership) : `removed ${id}; config ${membership.configId}\n`);
          return 0;
        },
        (args) => parseNodeId(args[0]!, 'ID'),
      );
    case 'replace':
      return withCluster(
        'member replace',
        rest,
        io,
        { 'max-lag': { type: 'string' }, force: { type: 'boolean' }, 'expect-config': { type: 'string' } },
        ['OLD', 'NEW'],
        async (client, [oldId, newId], values) => {
          const maxLag = values.force === true ? undefined : maxLagOf(values['max-lag']);
          const membership = await client.replace(oldId!, newId!, {
            ...(maxLag === undefined ? {} : { maxLagEntries: maxLag }),
            ...expected(values),
          });
          const still = membership.joint ? ' (still joint: the leader is leaving it)' : '';
          io.out(
            values.json === true
              ? json(membership)
              : `replaced ${oldId} by ${newId}; config ${membership.configId}${still}\n`,
          );
          return 0;
        },
        (args) => {
          parseNodeId(args[0]!, 'OLD');
          parseNodeId(args[1]!, 'NEW');
          if (args[0] === args[1]) throw new ConfigError(`member replace: OLD and NEW are both ${args[0]}`);
        },
      );
    default:
      throw new ConfigError(
        sub === undefined
          ? `member needs a subcommand: ${SUBCOMMANDS.join(', ')} (see tsraft member --help)`
          : `member: unknown subcommand "${sub}" (expected ${SUBCOMMANDS.join(', ')})`,
      );
  }
};

/** `tsraft transfer-leader ID`: hands leadership to the voter ID and prints the leader afterwards. */
export const transferLeaderCommand: Command = (argv, io) =>
  withCluster(
    'transfer-leader',
    argv,
    io,
    {},
    ['ID'],
    async (client, [id], values) => {
      const { leaderId, term } = await client.transferLeader(id!);
      io.out(values.json === true ? json({ leaderId, term }) : `leader is now ${leaderId} (term ${term})\n`);
      return 0;
    },
    (args) => parseNodeId(args[0]!, 'ID'),
  );

/** The membership as an aligned table under a one-line summary. */
export function formatMembership(m: ClusterMembership): string {
  const summary = [
    `cluster ${m.clusterId}`,
    `config ${m.configId}${m.joint ? ' (joint)' : ''}`,
    `leader ${m.leaderId ?? '(none)'}`,
    `term ${m.term}`,
    `commit ${m.commitIndex}`,
  ].join(', ');
  const header = ['ID', 'ROLE', 'LEADER', 'ADDRESS', 'MATCH', 'LAG'];
  const rows = m.members.map((member) => [
    member.id,
    member.role,
    member.leader ? 'yes' : '-',
    member.address ?? '-',
    member.matchIndex === undefined ? '-' : String(member.matchIndex),
    member.matchIndex === undefined ? '-' : String(Math.max(0, m.commitIndex - member.matchIndex)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cols: readonly string[]): string =>
    cols
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return `${summary}\n${[header, ...rows].map(line).join('\n')}\n`;
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function expected(values: Readonly<Record<string, unknown>>): { expectedConfigId?: string } {
  const id = values['expect-config'];
  if (id === undefined) return {};
  if (typeof id !== 'string' || !/^[0-9a-f]{16}$/.test(id)) {
    throw new ConfigError(
      `--expect-config: "${String(id)}" is not a configuration id (16 hex digits, as "tsraft member list" shows)`,
    );
  }
  return { expectedConfigId: id };
}

function maxLagOf(value: unknown): number {
  if (value === undefined) return DEFAULT_PROMOTE_MAX_LAG;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new ConfigError(`--max-lag: "${String(value)}" is not an integer >= 0`);
  return n;
}

/**
 * Parses a membership command's flags and exactly the positionals it names, runs `body` with a cluster
 * client, and turns a {@link KvError} into `tsraft: CODE: message` and exit 1 (noting when a change may or
 * may not have been applied).
 */
async function withCluster(
  command: string,
  argv: readonly string[],
  io: CliIo,
  flags: FlagOptions,
  positionals: readonly string[],
  body: (
    client: ClusterClient,
    args: readonly string[],
    values: Readonly<Record<string, unknown>>,
  ) => Promise<number>,
  check: (args: readonly string[]) => void = () => {},
): Promise<number> {
  const { values, positionals: args } = parseFlags(
    argv,
    { ...CLIENT_FLAGS, json: { type: 'boolean' }, ...flags },
    command,
    true,
  );
  if (args.length !== positionals.length) {
    const takes = positionals.length === 0 ? 'no arguments' : positionals.join(' ');
    throw new ConfigError(
      `${command} takes ${takes}, got ${args.length} argument${args.length === 1 ? '' : 's'} (see tsraft ${command} --help)`,
    );
  }
  check(args);
  const options = clientOptions(values, io);
  const client = createClusterClient({
    endpoints: options.endpoints,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.tls === undefined ? {} : { tls: options.tls }),
  });
  try {
    return await body(client, args, values);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const { code, message } = kvErrorParts(error);
    const unknown =
      error instanceof KvError && error.outcomeUnknown
        ? ' (the change may or may not have been applied: see "tsraft member list")'
        : '';
    io.err(`tsraft: ${code}: ${message}${unknown}\n`);
    return FAILURE_EXIT_CODE;
  } finally {
    client.close();
  }
}
