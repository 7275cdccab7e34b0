/**
 * A configuration the server cannot run with: an unknown flag, a duplicate id, this node missing from its
 * peers, an unusable data directory, a port in use. The `tsraft` command prints `message` and exits with
 * {@link CONFIG_ERROR_EXIT_CODE}.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Exit status of `tsraft` for a {@link ConfigError} (2, as for a usage error). */
export const CONFIG_ERROR_EXIT_CODE = 2;
