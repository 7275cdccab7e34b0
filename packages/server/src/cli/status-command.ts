import { createKvClient } from '@tsraft/kv-client';
import { ConfigError } from '../config/config-error.js';
import { parseFlags } from '../config/parse-flags.js';
import { type Command, FAILURE_EXIT_CODE } from './cli-io.js';
import { CLIENT_FLAGS, clientOptions, kvClientOptions } from './client-options.js';
import { kvErrorParts } from './kv-error-text.js';

type MemberStatus = Awaited<ReturnType<ReturnType<typeof createKvClient>['status']>>;

/** One endpoint's answer to `tsraft status`, or why it gave none. */
export type StatusRow =
  | ({ readonly endpoint: string } & MemberStatus)
  | { readonly endpoint: string; readonly error: { readonly code: string; readonly message: string } };

/**
 * `tsraft status [--json]`: asks every endpoint at once and prints a table (or a JSON array). Exits 1 when
 * some member did not answer, so scripts can wait for a healthy cluster with it.
 */
export const statusCommand: Command = async (argv, io) => {
  const { values, positionals } = parseFlags(
    argv,
    { ...CLIENT_FLAGS, json: { type: 'boolean' } },
    'status',
    true,
  );
  if (positionals.length > 0) throw new ConfigError(`status takes no arguments, got "${positionals[0]}"`);
  const options = clientOptions(values, io);
  const { endpoints } = options;
  const client = createKvClient(kvClientOptions(options));
  let rows: StatusRow[];
  try {
    rows = await Promise.all(
      endpoints.map(async (endpoint): Promise<StatusRow> => {
        try {
          return { endpoint, ...(await client.status(endpoint)) };
        } catch (error) {
          return { endpoint, error: kvErrorParts(error) };
        }
      }),
    );
  } finally {
    client.close();
  }
  io.out(values.json === true ? `${JSON.stringify(rows, null, 2)}\n` : formatStatusTable(rows));
  return rows.some((row) => 'error' in row) ? FAILURE_EXIT_CODE : 0;
};

/** The rows as an aligned text table; a member that did not answer shows its error across the columns. */
export function formatStatusTable(rows: readonly StatusRow[]): string {
  const header = ['ENDPOINT', 'ID', 'ROLE', 'TERM', 'LEADER', 'COMMIT', 'APPLIED', 'DIGEST'];
  const cells = rows.map((row) =>
    'error' in row
      ? [row.endpoint, `error: ${row.error.code}: ${row.error.message}`]
      : [
          row.endpoint,
          row.memberId,
          row.role,
          String(row.term),
          row.leaderId ?? '-',
          String(row.commitIndex),
          String(row.appliedIndex),
          row.stateDigest.slice(0, 12),
        ],
  );
  // Error rows span the remaining columns, so they do not widen the id column.
  const widths = header.map((h, i) =>
    Math.max(h.length, ...cells.filter((c) => c.length === header.length).map((c) => c[i]!.length)),
  );
  widths[0] = Math.max(widths[0]!, ...cells.map((c) => c[0]!.length));
  const line = (cols: readonly string[]): string =>
    cols
      .map((c, i) => (i === cols.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[header, ...cells].map(line).join('\n')}\n`;
}
