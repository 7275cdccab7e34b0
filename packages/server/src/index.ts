/**
 * The tsraft KV server: one member of a replicated key-value cluster, composed only from the public
 * exports of `@tsraft/core`, `@tsraft/log-storage`, a transport, `@tsraft/statemachine-kv` and
 * `@tsraft/kv-client`. The `tsraft` command (`tsraft serve`, `tsraft cluster`, `tsraft put|get|del|cas|status`)
 * is built on it. See docs/kv.md.
 *
 * @packageDocumentation
 */

export { FAILURE_EXIT_CODE, REMOVED_EXIT_CODE } from './cli/cli-io.js';
export { CONFIG_ERROR_EXIT_CODE, ConfigError } from './config/config-error.js';
export { resolveServeConfig } from './config/resolve-serve-config.js';
export type { LogLevel, ServeConfig, ServeTlsConfig, TransportKind } from './config/serve-config.js';
export { type KvServer, type KvServerOptions, startKvServer } from './kv-server.js';
