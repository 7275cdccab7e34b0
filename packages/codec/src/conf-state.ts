import { create } from '@bufbuild/protobuf';
import type { ConfState } from '@tsraft/core';
import { ConfStateSchema, type ConfState as ProtoConfState } from '@tsraft/proto';
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
  });
}

/**
 * Converts a decoded wire membership to core's form.
 *
 * @throws RaftError `INVALID_ARGUMENT` when a member id is empty.
 */
export function fromProtoConfState(conf: ProtoConfState): ConfState {
  return {
    voters: conf.voters.map((id) => requireNodeId(id, 'confState.voters[]')),
    learners: conf.learners.map((id) => requireNodeId(id, 'confState.learners[]')),
  };
}
