import type { NodeId } from '@tsraft/core';
import { ConfigError } from './config-error.js';
import { parseHostPort } from './host-port.js';

const NODE_ID = /^[A-Za-z0-9_.-]+$/;

/**
 * Checks a node id: letters, digits, `_`, `.` and `-` (no `=` or `,`, which the peers syntax reserves).
 * @throws ConfigError naming `source` and the value.
 */
export function parseNodeId(value: string, source: string): NodeId {
  if (!NODE_ID.test(value)) {
    throw new ConfigError(
      `${source}: "${value}" is not a valid node id (use letters, digits, "_", "." and "-")`,
    );
  }
  return value;
}

/**
 * Parses the members of a cluster from the flag's form `n1=host:port,n2=host:port` or a config file's
 * object `{ n1: "host:port" }`.
 * @throws ConfigError naming `source` for a malformed entry, id or address, or an id given twice.
 */
export function parsePeers(value: unknown, source: string): ReadonlyMap<NodeId, string> {
  const pairs: [string, unknown][] = [];
  if (typeof value === 'string') {
    for (const item of value.split(',')) {
      const entry = item.trim();
      if (entry === '') continue;
      const eq = entry.indexOf('=');
      if (eq < 0) {
        throw new ConfigError(`${source}: "${entry}" in "${value}" is not id=host:port`);
      }
      pairs.push([entry.slice(0, eq).trim(), entry.slice(eq + 1).trim()]);
    }
  } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    // An object holds each key once: the YAML parser refuses a repeated key, JSON.parse keeps the last.
    pairs.push(...Object.entries(value));
  } else {
    throw new ConfigError(
      `${source}: expected "id=host:port,..." or an object of id: "host:port", got ${JSON.stringify(value)}`,
    );
  }
  const peers = new Map<NodeId, string>();
  for (const [id, address] of pairs) {
    parseNodeId(id, `${source} (${id})`);
    if (typeof address !== 'string') {
      throw new ConfigError(`${source}: the address of ${id} must be a "host:port" string`);
    }
    if (peers.has(id))
      throw new ConfigError(`${source}: node id "${id}" appears twice in "${value as string}"`);
    peers.set(id, parseHostPort(address, `${source} (${id})`));
  }
  if (peers.size === 0) throw new ConfigError(`${source}: no members in ${JSON.stringify(value)}`);
  return peers;
}
