import type { NodeId } from '@tsraft/core';
import { invalidArgument } from './invalid-argument.js';

/**
 * Checks that a node id read from or written to the wire is present.
 *
 * @param field - the field's name, for the error message.
 * @throws RaftError `INVALID_ARGUMENT` when `id` is the empty string, which the wire uses for "none".
 */
export function requireNodeId(id: string, field: string): NodeId {
  if (id === '') throw invalidArgument(`${field} must be a non-empty node id`);
  return id;
}
