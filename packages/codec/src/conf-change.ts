import { create } from '@bufbuild/protobuf';
import type { ConfChange, MemberChange } from '@tsraft/core';
import {
  ConfChangeSchema,
  ConfChangeType,
  MemberChangeSchema,
  type ConfChange as ProtoConfChange,
  type MemberChange as ProtoMemberChange,
} from '@tsraft/proto';
import { fromProtoConfState, toProtoConfState } from './conf-state.js';
import { invalidArgument } from './invalid-argument.js';
import { requireNodeId } from './node-id.js';

// The bytes of a `config` entry are written and read by @tsraft/core itself (core's encodeConfChange and
// decodeConfChange, re-exported from this package's index); these conversions serve code that handles
// the protobuf message directly. The tests check that both agree.

/**
 * Converts a core membership change to its wire form.
 *
 * @throws RaftError `INVALID_ARGUMENT` when a node id is empty.
 */
export function toProtoConfChange(change: ConfChange): ProtoConfChange {
  return create(ConfChangeSchema, {
    changes: change.changes.map(toProtoMemberChange),
    conf: toProtoConfState(change.conf),
  });
}

/**
 * Converts a decoded wire membership change to core's form.
 *
 * @throws RaftError `INVALID_ARGUMENT` when a type is unspecified or unknown, a node id is empty, or the
 * configuration is missing or breaks its invariants.
 */
export function fromProtoConfChange(change: ProtoConfChange): ConfChange {
  if (change.conf === undefined) throw invalidArgument('confChange.conf is missing');
  return { changes: change.changes.map(fromProtoMemberChange), conf: fromProtoConfState(change.conf) };
}

function toProtoMemberChange(change: MemberChange): ProtoMemberChange {
  return create(MemberChangeSchema, {
    type: toProtoConfChangeType(change.type),
    nodeId: requireNodeId(change.nodeId, 'memberChange.nodeId'),
    address: change.address ?? '',
  });
}

function fromProtoMemberChange(change: ProtoMemberChange): MemberChange {
  const type = fromProtoConfChangeType(change.type);
  const nodeId = requireNodeId(change.nodeId, 'memberChange.nodeId');
  return change.address === '' ? { type, nodeId } : { type, nodeId, address: change.address };
}

function toProtoConfChangeType(type: MemberChange['type']): ConfChangeType {
  switch (type) {
    case 'addVoter':
      return ConfChangeType.ADD_VOTER;
    case 'addLearner':
      return ConfChangeType.ADD_LEARNER;
    case 'removeNode':
      return ConfChangeType.REMOVE_NODE;
    default:
      throw invalidArgument(`unknown member change type ${String(type satisfies never)}`);
  }
}

function fromProtoConfChangeType(type: ConfChangeType): MemberChange['type'] {
  switch (type) {
    case ConfChangeType.ADD_VOTER:
      return 'addVoter';
    case ConfChangeType.ADD_LEARNER:
      return 'addLearner';
    case ConfChangeType.REMOVE_NODE:
      return 'removeNode';
    default:
      throw invalidArgument(`memberChange.type ${type} is unspecified or unknown`);
  }
}
