import { create } from '@bufbuild/protobuf';
import type { HardState } from '@tsraft/core';
import { HardStateSchema, type HardState as ProtoHardState } from '@tsraft/proto';
import { fromUint64, toUint64 } from './uint64.js';

/**
 * Converts a core hard state to its wire form; a `null` vote becomes the empty string.
 *
 * @throws RaftError `INVALID_ARGUMENT` when `term` or `commit` is not a non-negative safe integer.
 */
export function toProtoHardState(state: HardState): ProtoHardState {
  return create(HardStateSchema, {
    term: toUint64(state.term, 'hardState.term'),
    vote: state.vote ?? '',
    commit: toUint64(state.commit, 'hardState.commit'),
  });
}

/**
 * Converts a decoded wire hard state to core's form; an empty vote becomes `null`.
 *
 * @throws RaftError `INVALID_ARGUMENT` when `term` or `commit` exceeds `Number.MAX_SAFE_INTEGER`.
 */
export function fromProtoHardState(state: ProtoHardState): HardState {
  return {
    term: fromUint64(state.term, 'hardState.term'),
    vote: state.vote === '' ? null : state.vote,
    commit: fromUint64(state.commit, 'hardState.commit'),
  };
}
