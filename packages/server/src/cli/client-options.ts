import { ConfigError } from '../config/config-error.js';
import { parseHostPort } from '../config/host-port.js';
import type { FlagOptions } from '../config/parse-flags.js';
import type { CliIo } from './cli-io.js';
import { DEFAULT_ENDPOINTS } from './usage.js';

/** Flags every client command takes. */
export const CLIENT_FLAGS: FlagOptions = {
  endpoints: { type: 'string' },
  'timeout-ms': { type: 'string' },
};

/** Where and how long a client command talks to the cluster. */
export interface ClientOptions {
  readonly endpoints: string[];
  readonly timeoutMs: number | undefined;
}

/**
 * Reads `--endpoints` (else `TSRAFT_ENDPOINTS`, else the local cluster's default) and `--timeout-ms` (else
 * `TSRAFT_TIMEOUT_MS`).
 * @throws ConfigError for a malformed endpoint or timeout.
 */
export function clientOptions(values: Readonly<Record<string, unknown>>, io: CliIo): ClientOptions {
  const [endpointsText, endpointsSource] = pick(
    values.endpoints,
    '--endpoints',
    io.env.TSRAFT_ENDPOINTS,
    'TSRAFT_ENDPOINTS',
  );
  const endpoints = (endpointsText ?? DEFAULT_ENDPOINTS)
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')
    .map((e) => parseHostPort(e, endpointsSource));
  if (endpoints.length === 0) throw new ConfigError(`${endpointsSource}: no endpoints in "${endpointsText}"`);
  const [timeoutText, timeoutSource] = pick(
    values['timeout-ms'],
    '--timeout-ms',
    io.env.TSRAFT_TIMEOUT_MS,
    'TSRAFT_TIMEOUT_MS',
  );
  let timeoutMs: number | undefined;
  if (timeoutText !== undefined) {
    timeoutMs = /^\d+$/.test(timeoutText) ? Number(timeoutText) : Number.NaN;
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
      throw new ConfigError(`${timeoutSource}: "${timeoutText}" is not a positive integer`);
    }
  }
  return { endpoints, timeoutMs };
}

function pick(
  flag: unknown,
  flagName: string,
  env: string | undefined,
  envName: string,
): [string | undefined, string] {
  if (typeof flag === 'string') return [flag, flagName];
  if (env !== undefined && env !== '') return [env, envName];
  return [undefined, flagName];
}
