import { accessSync, constants } from 'node:fs';
import * as path from 'node:path';
import type { KvClientOptions, KvTlsFiles } from '@tsraft/kv-client';
import { ConfigError } from '../config/config-error.js';
import { parseHostPort } from '../config/host-port.js';
import type { FlagOptions } from '../config/parse-flags.js';
import type { CliIo } from './cli-io.js';
import { DEFAULT_ENDPOINTS } from './usage.js';

/** Flags every client command takes. */
export const CLIENT_FLAGS: FlagOptions = {
  endpoints: { type: 'string' },
  'timeout-ms': { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
};

/** Where and how long a client command talks to the cluster. */
export interface ClientOptions {
  readonly endpoints: string[];
  readonly timeoutMs: number | undefined;
  /** TLS material (absolute paths, readable when checked); undefined means plaintext. */
  readonly tls: KvTlsFiles | undefined;
}

/**
 * Reads `--endpoints` (else `TSRAFT_ENDPOINTS`, else the local cluster's default), `--timeout-ms` (else
 * `TSRAFT_TIMEOUT_MS`) and `--tls-ca`, `--tls-cert`, `--tls-key` (else `TSRAFT_TLS_CA`, `TSRAFT_TLS_CERT`,
 * `TSRAFT_TLS_KEY`). Relative TLS paths resolve against the working directory.
 * @throws ConfigError for a malformed endpoint or timeout, or unusable TLS files.
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
  return { endpoints, timeoutMs, tls: tlsOptions(values, io) };
}

/** The options of `createKvClient` for {@link ClientOptions} (no property set to `undefined`). */
export function kvClientOptions(options: ClientOptions): KvClientOptions {
  return {
    endpoints: options.endpoints,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.tls === undefined ? {} : { tls: options.tls }),
  };
}

/**
 * The client's TLS files: none (plaintext); a CA only (the members' certificates are verified, none is
 * presented); or a CA, a certificate and its key (mutual TLS).
 */
function tlsOptions(values: Readonly<Record<string, unknown>>, io: CliIo): KvTlsFiles | undefined {
  const file = (flag: string, env: string): { file: string; source: string } | undefined => {
    const [text, source] = pick(values[flag], `--${flag}`, io.env[env], env);
    if (text === undefined) return undefined;
    if (text.trim() === '') throw new ConfigError(`${source}: must not be empty`);
    const resolved = path.resolve(io.cwd, text);
    try {
      accessSync(resolved, constants.R_OK);
    } catch (error) {
      throw new ConfigError(`${source}: cannot read "${resolved}": ${(error as NodeJS.ErrnoException).code}`);
    }
    return { file: resolved, source };
  };
  const ca = file('tls-ca', 'TSRAFT_TLS_CA');
  const cert = file('tls-cert', 'TSRAFT_TLS_CERT');
  const key = file('tls-key', 'TSRAFT_TLS_KEY');
  if (ca === undefined && cert === undefined && key === undefined) return undefined;
  if ((cert === undefined) !== (key === undefined)) {
    const given = (cert ?? key)!.source;
    throw new ConfigError(`${given}: a client certificate needs both --tls-cert and --tls-key`);
  }
  if (ca === undefined) {
    throw new ConfigError(
      `${cert!.source}, ${key!.source}: TLS needs --tls-ca, the CA that verifies the members' certificates`,
    );
  }
  return cert === undefined || key === undefined
    ? { caFile: ca.file }
    : { caFile: ca.file, certFile: cert.file, keyFile: key.file };
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
