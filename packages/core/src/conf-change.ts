import type { ConfState, MemberChange } from './conf-state.js';
import type { NodeId } from './entry.js';
import { RaftError } from './errors.js';

/** Whether `conf` is a joint configuration (thesis §4.3): decisions need both majorities. */
export function isJoint(conf: ConfState): boolean {
  return (conf.votersOutgoing?.length ?? 0) > 0;
}

/** Every node that votes in `conf`: the incoming voters and, while joint, the outgoing ones. */
export function allVoters(conf: ConfState): NodeId[] {
  const out = [...conf.voters];
  for (const id of conf.votersOutgoing ?? []) if (!out.includes(id)) out.push(id);
  return out;
}

/** Whether `id` is in `conf` at all: voter (incoming or outgoing) or learner. */
export function isMember(conf: ConfState, id: NodeId): boolean {
  return conf.voters.includes(id) || conf.learners.includes(id) || (conf.votersOutgoing ?? []).includes(id);
}

/** Whether `id` votes in `conf` (incoming or outgoing voters). */
export function isVoterIn(conf: ConfState, id: NodeId): boolean {
  return conf.voters.includes(id) || (conf.votersOutgoing ?? []).includes(id);
}

/**
 * A short identifier of `conf`'s content (voters, outgoing voters, learners and addresses), for
 * compare-and-set membership changes: two configurations have the same id exactly when they are equal
 * as sets. 16 hex digits of FNV-1a over a canonical form.
 */
export function configId(conf: ConfState): string {
  const sorted = (ids: readonly NodeId[] | undefined) => [...(ids ?? [])].sort();
  const addresses = conf.addresses ?? {};
  const parts = [
    sorted(conf.voters).join(','),
    sorted(conf.votersOutgoing).join(','),
    sorted(conf.learners).join(','),
    Object.keys(addresses)
      .sort()
      .map((id) => `${id}=${addresses[id]}`)
      .join(','),
  ];
  return fnv1a64Hex(parts.join('|'));
}

/**
 * The configuration after `changes` (validated against `conf`, the latest configuration in the leader's
 * log). When the changes alter the voters by at most one node, the result takes effect directly (a
 * single-server change, thesis §4.1); otherwise the result is joint (§4.3): the new voters in `voters`,
 * the current ones in `votersOutgoing`, until the leader appends the entry that leaves it.
 * @throws RaftError `INVALID_ARGUMENT` for a change that makes no sense against `conf` (adding a voter
 * twice, demoting a voter, removing a non-member, touching one node twice, leaving no voter), or
 * `CONF_CHANGE_IN_PROGRESS` when `conf` is joint.
 */
export function applyMemberChanges(conf: ConfState, changes: readonly MemberChange[]): ConfState {
  if (isJoint(conf)) {
    throw new RaftError(
      'CONF_CHANGE_IN_PROGRESS',
      'the cluster is in a joint configuration; wait until it leaves it',
    );
  }
  if (changes.length === 0)
    throw new RaftError('INVALID_ARGUMENT', 'a membership change needs at least one change');
  const voters = [...conf.voters];
  const learners = [...conf.learners];
  const addresses: Record<NodeId, string> = { ...(conf.addresses ?? {}) };
  const touched = new Set<NodeId>();
  for (const change of changes) {
    const { type, nodeId } = change;
    if (typeof nodeId !== 'string' || nodeId.length === 0) {
      throw new RaftError('INVALID_ARGUMENT', 'a membership change needs a non-empty nodeId');
    }
    if (change.address !== undefined && (typeof change.address !== 'string' || change.address.length === 0)) {
      throw new RaftError('INVALID_ARGUMENT', `the address of ${nodeId} must be a non-empty string`);
    }
    if (touched.has(nodeId)) throw new RaftError('INVALID_ARGUMENT', `${nodeId} appears twice in one change`);
    touched.add(nodeId);
    const voter = voters.indexOf(nodeId);
    const learner = learners.indexOf(nodeId);
    switch (type) {
      case 'addVoter':
        if (voter >= 0) throw new RaftError('INVALID_ARGUMENT', `${nodeId} is already a voter`);
        if (learner >= 0) learners.splice(learner, 1);
        voters.push(nodeId);
        break;
      case 'addLearner':
        if (voter >= 0) {
          throw new RaftError('INVALID_ARGUMENT', `${nodeId} is a voter; remove it instead of demoting it`);
        }
        if (learner >= 0) throw new RaftError('INVALID_ARGUMENT', `${nodeId} is already a learner`);
        learners.push(nodeId);
        break;
      case 'removeNode':
        if (voter < 0 && learner < 0) throw new RaftError('INVALID_ARGUMENT', `${nodeId} is not a member`);
        if (voter >= 0) voters.splice(voter, 1);
        if (learner >= 0) learners.splice(learner, 1);
        delete addresses[nodeId];
        break;
      default:
        throw new RaftError('INVALID_ARGUMENT', `unknown membership change type ${String(type)}`);
    }
    if (type !== 'removeNode' && change.address !== undefined) addresses[nodeId] = change.address;
  }
  if (voters.length === 0) throw new RaftError('INVALID_ARGUMENT', 'a change must leave at least one voter');
  let changedVoters = 0;
  for (const id of voters) if (!conf.voters.includes(id)) changedVoters++;
  for (const id of conf.voters) if (!voters.includes(id)) changedVoters++;
  const next = withAddresses({ voters, learners }, addresses);
  if (changedVoters <= 1) return next;
  return { ...next, votersOutgoing: [...conf.voters] };
}

/**
 * The configuration after leaving the joint configuration `conf`: the incoming voters alone. Addresses of
 * nodes that are no longer members are dropped.
 * @throws RaftError `INVALID_ARGUMENT` when `conf` is not joint.
 */
export function leaveJoint(conf: ConfState): ConfState {
  if (!isJoint(conf)) throw new RaftError('INVALID_ARGUMENT', 'the configuration is not joint');
  const addresses: Record<NodeId, string> = {};
  for (const [id, address] of Object.entries(conf.addresses ?? {})) {
    if (conf.voters.includes(id) || conf.learners.includes(id)) addresses[id] = address;
  }
  return withAddresses({ voters: [...conf.voters], learners: [...conf.learners] }, addresses);
}

/** `conf` with `addresses`, left out when empty (so configurations without addresses stay plain). */
function withAddresses(conf: ConfState, addresses: Record<NodeId, string>): ConfState {
  return Object.keys(addresses).length === 0 ? conf : { ...conf, addresses };
}

/**
 * Checks the invariants of a {@link ConfState} (from a snapshot or a decoded entry).
 * @throws RaftError `INVALID_ARGUMENT` naming the first violation.
 */
export function validateConfState(conf: ConfState, what = 'configuration'): void {
  const check = (ids: readonly NodeId[], name: string) => {
    const seen = new Set<NodeId>();
    for (const id of ids) {
      if (typeof id !== 'string' || id.length === 0) {
        throw new RaftError('INVALID_ARGUMENT', `${what}: ${name} holds an empty node id`);
      }
      if (seen.has(id)) throw new RaftError('INVALID_ARGUMENT', `${what}: ${name} lists ${id} twice`);
      seen.add(id);
    }
  };
  check(conf.voters, 'voters');
  check(conf.learners, 'learners');
  check(conf.votersOutgoing ?? [], 'votersOutgoing');
  for (const id of conf.learners) {
    if (isVoterIn(conf, id))
      throw new RaftError('INVALID_ARGUMENT', `${what}: ${id} is both voter and learner`);
  }
  for (const id of Object.keys(conf.addresses ?? {})) {
    if (!isMember(conf, id))
      throw new RaftError('INVALID_ARGUMENT', `${what}: address given for non-member ${id}`);
  }
}

function fnv1a64Hex(text: string): string {
  // Two 32-bit FNV-1a lanes with different offsets: enough to tell configurations apart, no BigInt.
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193) >>> 0;
    b = (b ^ (b >>> 13)) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}
