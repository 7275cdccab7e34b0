import type { Metadata } from '@grpc/grpc-js';
import type { NodeId } from '@tsraft/core';
import type { RaftMessage } from '@tsraft/proto';
import { TransportError } from './transport-error.js';

/** Metadata key carrying the caller's cluster id on every Raft call. */
export const CLUSTER_ID_METADATA_KEY = 'tsraft-cluster-id';
/** Metadata key carrying the caller's node id on every Raft call. */
export const NODE_ID_METADATA_KEY = 'tsraft-node-id';

/** Who may talk to a node: its cluster id and a membership test. */
export interface PeerPolicy {
  /** The cluster this node belongs to. */
  readonly clusterId: string;
  /** This node's id: the only valid `to` of a message it receives. */
  readonly nodeId: NodeId;
  /** Whether `id` is a member of the cluster (a voter or learner this node knows). */
  isMember(id: NodeId): boolean;
}

/** Builds a {@link PeerPolicy.isMember} test from a fixed list of ids, or passes a function through. */
export function membershipTest(
  members: readonly NodeId[] | ((id: NodeId) => boolean),
): (id: NodeId) => boolean {
  if (typeof members === 'function') return members;
  const set = new Set(members);
  return (id) => set.has(id);
}

function first(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}

/** The node id a caller put in its metadata, or `undefined`. */
export function callerIdOf(metadata: Metadata): NodeId | undefined {
  return first(metadata, NODE_ID_METADATA_KEY);
}

/**
 * Checks a call's metadata against `policy`.
 *
 * @returns the caller's node id.
 * @throws TransportError `WRONG_CLUSTER` (FAILED_PRECONDITION) when the cluster id is missing or differs;
 *   `UNKNOWN_NODE` (PERMISSION_DENIED) when the node id is missing or not a member.
 */
export function checkCaller(metadata: Metadata, policy: PeerPolicy): NodeId {
  const clusterId = first(metadata, CLUSTER_ID_METADATA_KEY);
  if (clusterId !== policy.clusterId) {
    throw new TransportError(
      'WRONG_CLUSTER',
      `caller belongs to cluster ${JSON.stringify(clusterId ?? null)}, this node to ${JSON.stringify(policy.clusterId)}`,
    );
  }
  const caller = callerIdOf(metadata);
  if (caller === undefined || caller === policy.nodeId || !policy.isMember(caller)) {
    throw new TransportError(
      'UNKNOWN_NODE',
      `caller ${JSON.stringify(caller ?? null)} is not a peer member of cluster ${policy.clusterId}`,
    );
  }
  return caller;
}

/**
 * Checks one received envelope: it must name this cluster, come from the caller that sent it, and be
 * addressed to this node.
 *
 * @throws TransportError `WRONG_CLUSTER` or `UNKNOWN_NODE`.
 */
export function checkEnvelope(message: RaftMessage, caller: NodeId, policy: PeerPolicy): void {
  if (message.clusterId !== policy.clusterId) {
    throw new TransportError(
      'WRONG_CLUSTER',
      `message for cluster ${JSON.stringify(message.clusterId)}, this node belongs to ${JSON.stringify(policy.clusterId)}`,
    );
  }
  if (message.from !== caller) {
    throw new TransportError(
      'UNKNOWN_NODE',
      `message from ${message.from} arrived on a call made by ${caller}`,
    );
  }
  if (message.to !== policy.nodeId) {
    throw new TransportError('UNKNOWN_NODE', `message for ${message.to} arrived at ${policy.nodeId}`);
  }
}
