import { create } from '@bufbuild/protobuf';
import { type ConfState, validateConfState } from '@tsraft/core';
import { ConfStateSchema, type ConfState as ProtoConfState } from '@tsraft/proto';
import { invalidArgument } from './invalid-argument.js';
import { requireNodeId } from './node-id.js';

/**
 * Converts a core membership to its wire form.
 *
 * @throws RaftError `INVALID_ARGUMENT` when a member id is empty.
 */
export function toProtoConfState(conf: ConfState): ProtoConfState {
  return create(ConfStateSchema, {
    voters: conf.voters.map((id) => requireNodeId(id, 'confState.voters[]')),
    learners: conf.learners.map((id) => requireNodeId(id, 'confState.learners[]')),
    votersOutgoing: (conf.votersOutgoing ?? []).map((id) => requireNodeId(id, 'confState.votersOutgoing[]')),
    addresses: { ...(conf.addresses ?? {}) },
  });
}

/**
 * Converts a decoded wire membership to core's form.
 *
 * @throws RaftError `INVALID_ARGUMENT` when a member id is empty or the membership breaks its invariants
 * (a duplicate, a node both voter and learner, an address for a non-member).
 */
export function fromProtoConfState(conf: ProtoConfState): ConfState {
  const voters = conf.voters.map((id) => requireNodeId(id, 'confState.voters[]'));
  const learners = conf.learners.map((id) => requireNodeId(id, 'confState.learners[]'));
  const base: ConfState =
    Object.keys(conf.addresses).length === 0
      ? { voters, learners }
      : { voters, learners, addresses: { ...conf.addresses } };
  const out: ConfState =
    conf.votersOutgoing.length === 0
      ? base
      : {
          ...base,
          votersOutgoing: conf.votersOutgoing.map((id) => requireNodeId(id, 'confState.votersOutgoing[]')),
        };
  try {
    validateConfState(out, 'confState');
  } catch (error) {
    throw invalidArgument(error instanceof Error ? error.message : String(error), error);
  }
  return out;
}
