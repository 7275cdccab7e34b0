import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { ConfigError } from './config-error.js';
import { parseHostPort } from './host-port.js';
import { type ConfigFileValues, loadConfigFile } from './load-config-file.js';
import { type FlagOptions, parseFlags } from './parse-flags.js';
import { parseNodeId, parsePeers } from './parse-peers.js';
import type { LogLevel, ServeConfig, ServeTlsConfig, TransportKind } from './serve-config.js';
import { SERVE_OPTIONS, type ServeOption } from './serve-options.js';

/** Flags of `tsraft serve` in parseArgs form: every option takes a value. */
export const SERVE_FLAGS: FlagOptions = Object.fromEntries([
  ...SERVE_OPTIONS.map((o) => [o.flag, { type: o.kind === 'boolean' ? 'boolean' : 'string' }] as const),
  ['config', { type: 'string' }],
]);

const CONFIG_ENV = 'TSRAFT_CONFIG';

/** A value before checking, with where it came from. */
interface RawValue {
  readonly option: ServeOption;
  readonly value: unknown;
  /** Names the origin in errors: `--id`, `TSRAFT_ID`, or `id in /etc/tsraft.yaml`. */
  readonly source: string;
  /** Directory a relative path is resolved against: `cwd`, or the config file's directory. */
  readonly base: string;
}

/**
 * Builds the configuration of `tsraft serve` from its flags, `TSRAFT_*` environment variables and a
 * config file (`--config FILE` or `TSRAFT_CONFIG`), in that order of precedence, then defaults. Creates the
 * data directory if missing and checks it is writable. Relative paths resolve against `cwd`, or against the
 * config file's directory for paths written in the file. Empty environment variables count as unset.
 * @param argv the arguments after `serve`.
 * @throws ConfigError naming the flag (or variable, or file key) and the value for anything unusable.
 */
export async function resolveServeConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<ServeConfig> {
  const flags = parseFlags(argv, SERVE_FLAGS, 'serve').values;
  const envValue = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };

  const configFlag = flags.config as string | undefined;
  const configEnv = envValue(CONFIG_ENV);
  let file: ConfigFileValues = {};
  let fileName = '';
  if (configFlag !== undefined || configEnv !== undefined) {
    const source = configFlag !== undefined ? '--config' : CONFIG_ENV;
    fileName = path.resolve(cwd, (configFlag ?? configEnv)!);
    file = await loadConfigFile(fileName, source);
    const known = new Set(SERVE_OPTIONS.map((o) => o.key));
    const unknown = Object.keys(file).find((key) => !known.has(key));
    if (unknown !== undefined) {
      throw new ConfigError(`${fileName}: unknown key "${unknown}" (keys are camelCase flags, e.g. dataDir)`);
    }
  }

  const raw = (o: ServeOption): RawValue | undefined => {
    const flag = flags[o.flag];
    if (typeof flag === 'string' || typeof flag === 'boolean') {
      return { option: o, value: flag, source: `--${o.flag}`, base: cwd };
    }
    const fromEnv = envValue(o.env);
    if (fromEnv !== undefined) return { option: o, value: fromEnv, source: o.env, base: cwd };
    // null is how YAML writes "no value": treat it as unset so a template can list every key.
    if (file[o.key] !== undefined && file[o.key] !== null) {
      return {
        option: o,
        value: file[o.key],
        source: `${o.key} in ${fileName}`,
        base: path.dirname(fileName),
      };
    }
    return undefined;
  };
  const get = (flag: string): RawValue | undefined => raw(SERVE_OPTIONS.find((o) => o.flag === flag)!);

  const joinRaw = get('join');
  const missing = SERVE_OPTIONS.filter(
    (o) =>
      ['id', 'listen', 'peers', 'data-dir'].includes(o.flag) &&
      raw(o) === undefined &&
      !(o.flag === 'peers' && joinRaw !== undefined),
  );
  if (missing.length > 0) {
    const names = missing.map((o) => `--${o.flag}`).join(', ');
    const alternatives = missing.map((o) => o.env).join(', ');
    const joinHint = missing.some((o) => o.flag === 'peers')
      ? '; a node joining a running cluster gives --join instead of --peers'
      : '';
    throw new ConfigError(
      `missing required ${missing.length === 1 ? 'flag' : 'flags'} ${names} (or ${alternatives}, or the camelCase keys in a --config file)${joinHint}`,
    );
  }

  const id = parseNodeId(text(get('id')!), get('id')!.source);
  const listen = parseHostPort(text(get('listen')!), get('listen')!.source, true);
  const peersRaw = get('peers');
  if (peersRaw !== undefined && joinRaw !== undefined) {
    throw new ConfigError(
      `${peersRaw.source} and ${joinRaw.source}: give --peers to bootstrap a new cluster, or --join to join a running one, not both`,
    );
  }
  let peers: ReadonlyMap<string, string> = new Map();
  if (peersRaw !== undefined) {
    peers = parsePeers(peersRaw.value, peersRaw.source);
    if (!peers.has(id)) {
      throw new ConfigError(
        `${peersRaw.source}: this node's id "${id}" is not among the peers (${[...peers.keys()].join(', ')}); list every member, this node included`,
      );
    }
    for (const flag of ['advertise', 'learner', 'promote-within']) {
      const given = get(flag);
      if (given !== undefined) throw new ConfigError(`${given.source}: only applies with --join`);
    }
  }
  const join = joinRaw === undefined ? undefined : endpoints(joinRaw);
  const advertiseRaw = get('advertise');
  const advertise =
    advertiseRaw === undefined ? undefined : parseHostPort(text(advertiseRaw), advertiseRaw.source);
  if (join !== undefined && advertise === undefined && /^(0\.0\.0\.0|\[::0?\]):/.test(listen)) {
    throw new ConfigError(
      `${get('listen')!.source} ${listen}: the other members cannot dial this address; give --advertise HOST:PORT, where they reach this node`,
    );
  }
  const metrics = get('metrics-listen');
  const electionTicks = integer(get('election-ticks'), 10);
  const heartbeatTicks = integer(get('heartbeat-ticks'), 1);
  if (heartbeatTicks >= electionTicks) {
    const source = get('heartbeat-ticks')?.source ?? get('election-ticks')!.source;
    throw new ConfigError(
      `${source}: heartbeat-ticks (${heartbeatTicks}) must be less than election-ticks (${electionTicks})`,
    );
  }

  const settings = {
    transport: choice(get('transport'), 'streaming') as TransportKind,
    batching: choice(get('batching'), 'on') === 'on',
    clusterId: nonEmpty(get('cluster-id')) ?? 'tsraft',
    metricsListen: metrics === undefined ? undefined : parseHostPort(text(metrics), metrics.source, true),
    logLevel: choice(get('log-level'), 'info') as LogLevel,
    tickIntervalMs: integer(get('tick-interval-ms'), 100),
    electionTicks,
    heartbeatTicks,
    snapshotIntervalEntries: integer(get('snapshot-interval-entries'), 10_000),
    snapshotIntervalBytes: integer(get('snapshot-interval-bytes'), 64 * 1024 * 1024),
    maxInflightRequests: integer(get('max-inflight-requests'), 1_024),
    maxStreamInflightRequests: integer(get('max-stream-inflight-requests'), 512),
    requestTimeoutMs: integer(get('request-timeout-ms'), 5_000),
    tls: await tlsFiles(get('tls-cert'), get('tls-key'), get('tls-ca')),
    join,
    advertise,
    learner: boolean(get('learner'), false),
    promoteWithin: integer(get('promote-within'), 1_000),
  };
  // Last, so that a configuration refused for another reason leaves no directory behind.
  const dataDir = await usableDataDir(get('data-dir')!);
  return { id, listen, peers, dataDir, ...settings };
}

/** A string value (numbers in a config file, such as `id: 1`, are taken as written). */
function text(value: RawValue): string {
  if (typeof value.value === 'string') return value.value;
  if (typeof value.value === 'number') return String(value.value);
  throw new ConfigError(`${value.source}: expected a string, got ${JSON.stringify(value.value)}`);
}

function choice(value: RawValue | undefined, fallback: string): string {
  if (value === undefined) return fallback;
  const chosen = text(value);
  const choices = value.option.choices ?? [];
  if (!choices.includes(chosen)) {
    throw new ConfigError(`${value.source}: "${chosen}" is not one of ${choices.join(', ')}`);
  }
  return chosen;
}

function boolean(value: RawValue | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value.value === 'boolean') return value.value;
  const chosen = text(value).trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(chosen)) return true;
  if (['false', '0', 'no', 'off'].includes(chosen)) return false;
  throw new ConfigError(`${value.source}: "${text(value)}" is not one of true, false`);
}

/** A list of `host:port`, comma-separated (or a list in a config file); at least one. */
function endpoints(value: RawValue): string[] {
  const items = Array.isArray(value.value)
    ? value.value.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)))
    : text(value).split(',');
  const list = items.map((item) => item.trim()).filter((item) => item !== '');
  if (list.length === 0)
    throw new ConfigError(`${value.source}: no host:port in ${JSON.stringify(value.value)}`);
  return list.map((item) => parseHostPort(item, value.source));
}

function nonEmpty(value: RawValue | undefined): string | undefined {
  if (value === undefined) return undefined;
  const result = text(value);
  if (result.trim() === '') throw new ConfigError(`${value.source}: must not be empty`);
  return result;
}

function integer(value: RawValue | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n =
    typeof value.value === 'number'
      ? value.value
      : /^\s*\d+\s*$/.test(text(value))
        ? Number(text(value))
        : Number.NaN;
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new ConfigError(`${value.source}: ${JSON.stringify(value.value)} is not a positive integer`);
  }
  return n;
}

/** Creates the data directory (mkdir -p) and checks that this process may write into it. */
async function usableDataDir(value: RawValue): Promise<string> {
  const dir = path.resolve(value.base, nonEmpty(value)!);
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    const reason =
      code === 'EEXIST' || code === 'ENOTDIR' ? 'a file is in the way' : (error as Error).message;
    throw new ConfigError(`${value.source}: cannot create data directory "${dir}": ${reason}`);
  }
  try {
    await access(dir, constants.W_OK | constants.X_OK);
  } catch {
    throw new ConfigError(`${value.source}: data directory "${dir}" is not writable by this process`);
  }
  return dir;
}

/** All three TLS files, or none; each must be readable now rather than at the first connection. */
async function tlsFiles(
  cert: RawValue | undefined,
  key: RawValue | undefined,
  ca: RawValue | undefined,
): Promise<ServeTlsConfig | undefined> {
  if (cert === undefined && key === undefined && ca === undefined) return undefined;
  if (cert === undefined || key === undefined || ca === undefined) {
    const given = [cert, key, ca].filter((v) => v !== undefined).map((v) => v!.source);
    throw new ConfigError(
      `${given.join(', ')}: TLS needs all of --tls-cert, --tls-key and --tls-ca (or none, for plaintext)`,
    );
  }
  const readable = async (value: RawValue): Promise<string> => {
    const file = path.resolve(value.base, nonEmpty(value)!);
    try {
      await access(file, constants.R_OK);
    } catch (error) {
      throw new ConfigError(
        `${value.source}: cannot read "${file}": ${(error as NodeJS.ErrnoException).code}`,
      );
    }
    return file;
  };
  return { certFile: await readable(cert), keyFile: await readable(key), caFile: await readable(ca) };
}
