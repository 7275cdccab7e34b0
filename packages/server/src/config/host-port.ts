import { ConfigError } from './config-error.js';

// A DNS name or IPv4 address, or an IPv6 address in brackets. Names are not resolved here: a member may not
// be resolvable yet when its peers start (containers come up in any order).
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?):([0-9]{1,5})$/;

/**
 * Checks that `value` is `host:port` and returns it unchanged.
 * @param source names where the value came from in the error (`--listen`, `TSRAFT_LISTEN`, a file key).
 * @param allowPortZero accept port 0 (let the system pick), for addresses this node binds.
 * @throws ConfigError naming `source` and the value when it is malformed.
 */
export function parseHostPort(value: string, source: string, allowPortZero = false): string {
  const match = HOST_PORT.exec(value);
  const port = match === null ? Number.NaN : Number(match[3]);
  const lowest = allowPortZero ? 0 : 1;
  if (match === null || !(port >= lowest && port <= 65_535)) {
    throw new ConfigError(
      `${source}: "${value}" is not a valid host:port (expected e.g. 127.0.0.1:7001, node1.example:7001 or [::1]:7001, port ${lowest}-65535)`,
    );
  }
  return value;
}
