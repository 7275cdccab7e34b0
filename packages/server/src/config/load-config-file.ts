import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './config-error.js';

/** The top-level keys of a config file, as written (values not yet checked). */
export type ConfigFileValues = Readonly<Record<string, unknown>>;

/**
 * Reads a `tsraft serve` config file: JSON for `.json`, YAML for `.yaml` and `.yml`. A nested
 * `tls: { certFile, keyFile, caFile }` (the shape of `ServeConfig`) is flattened to `tlsCert`, `tlsKey`,
 * `tlsCa`, the keys of the flags.
 * @param file absolute path.
 * @param source names the file's origin in errors (`--config` or `TSRAFT_CONFIG`).
 * @throws ConfigError when the file is missing, unreadable, does not parse or is not a mapping.
 */
export async function loadConfigFile(file: string, source: string): Promise<ConfigFileValues> {
  const extension = path.extname(file).toLowerCase();
  if (extension !== '.json' && extension !== '.yaml' && extension !== '.yml') {
    throw new ConfigError(
      `${source}: "${file}" must end in .yaml, .yml or .json (the extension picks the format)`,
    );
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error);
    throw new ConfigError(`${source}: cannot read config file "${file}": ${reason}`);
  }
  let parsed: unknown;
  try {
    parsed = extension === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ConfigError(
      `${source}: config file "${file}" is not valid ${extension === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message}`,
    );
  }
  // An empty YAML document is null: a file with every option commented out configures nothing.
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`${source}: config file "${file}" must hold a mapping of option names to values`);
  }
  const { tls, ...rest } = parsed as Record<string, unknown>;
  if (tls === undefined) return rest;
  if (typeof tls !== 'object' || tls === null || Array.isArray(tls)) {
    throw new ConfigError(`${file}: tls must be a mapping of certFile, keyFile and caFile`);
  }
  const { certFile, keyFile, caFile, ...unknownTls } = tls as Record<string, unknown>;
  const extra = Object.keys(unknownTls)[0];
  if (extra !== undefined) {
    throw new ConfigError(`${file}: unknown key tls.${extra} (expected certFile, keyFile, caFile)`);
  }
  const flattened: Record<string, unknown> = { ...rest };
  for (const [key, value] of [
    ['tlsCert', certFile],
    ['tlsKey', keyFile],
    ['tlsCa', caFile],
  ] as const) {
    if (value === undefined) continue;
    if (key in rest) throw new ConfigError(`${file}: both tls and ${key} are set`);
    flattened[key] = value;
  }
  return flattened;
}
