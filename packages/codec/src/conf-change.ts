import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { ConfChange } from '@tsraft/core';
import { ConfChangeSchema, ConfChangeType, type ConfChange as ProtoConfChange } from '@tsraft/proto';
import { invalidArgument } from './invalid-argument.js';
import { requireNodeId } from './node-id.js';

/**
 * Converts a core membership change to its wire form.
 *
 * @throws RaftError `INVALID_ARGUMENT` when `nodeId` is empty.
 */
export function toProtoConfChange(change: ConfChange): ProtoConfChange {
  return create(ConfChangeSchema, {
    type: toProtoConfChangeType(change.type),
    nodeId: requireNodeId(change.nodeId, 'confChange.nodeId'),
  });
}

/**
 * Converts a decoded wire membership change to core's form.
 *
 * @throws RaftError `INVALID_ARGUMENT` when the type is unspecified or unknown, or `node_id` is empty.
 */
export function fromProtoConfChange(change: ProtoConfChange): ConfChange {
  return {
    type: fromProtoConfChangeType(change.type),
    nodeId: requireNodeId(change.nodeId, 'confChange.nodeId'),
  };
}

/**
 * Encodes a membership change as the `data` of a `config` entry.
 *
 * @throws RaftError `INVALID_ARGUMENT` when `nodeId` is empty.
 */
export function encodeConfChange(change: ConfChange): Uint8Array {
  return toBinary(ConfChangeSchema, toProtoConfChange(change));
}

/**
 * Decodes the `data` of a `config` entry.
 *
 * @throws RaftError `INVALID_ARGUMENT` when `bytes` is not a valid encoded ConfChange.
 */
export function decodeConfChange(bytes: Uint8Array): ConfChange {
  let change: ProtoConfChange;
  try {
    change = fromBinary(ConfChangeSchema, bytes);
  } catch (error) {
    throw invalidArgument('bytes are not a valid tsraft.raft.v1.ConfChange', error);
  }
  return fromProtoConfChange(change);
}

function toProtoConfChangeType(type: ConfChange['type']): ConfChangeType {
  switch (type) {
    case 'addVoter':
      return ConfChangeType.ADD_VOTER;
    case 'addLearner':
      return ConfChangeType.ADD_LEARNER;
    case 'removeNode':
      return ConfChangeType.REMOVE_NODE;
    default:
      throw invalidArgument(`unknown conf change type ${String(type satisfies never)}`);
  }
}

function fromProtoConfChangeType(type: ConfChangeType): ConfChange['type'] {
  switch (type) {
    case ConfChangeType.ADD_VOTER:
      return 'addVoter';
    case ConfChangeType.ADD_LEARNER:
      return 'addLearner';
    case ConfChangeType.REMOVE_NODE:
      return 'removeNode';
    default:
      throw invalidArgument(`confChange.type ${type} is unspecified or unknown`);
  }
}
