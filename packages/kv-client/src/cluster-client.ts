import { create } from '@bufbuild/protobuf';
import {
  JoinRequestSchema,
  MemberAddRequestSchema,
  MemberListRequestSchema,
  MemberPromoteRequestSchema,
  MemberRemoveRequestSchema,
  MemberReplaceRequestSchema,
  MemberRole,
  type Membership,
  TransferLeaderRequestSchema,
} from '@tsraft/proto';
import { linkAbort, sleep } from './abort.js';
import { type ClusterStub, createClusterStub } from './cluster-stub.js';
import { isTaggedByServer, KvError, type KvErrorCode } from './kv-error.js';
import type { CallOptions } from './kv-stub.js';
import type { KvTlsFiles } from './kv-tls.js';

/** What a member is in the configuration. */
export type ClusterMemberRole = 'voter' | 'learner' | 'outgoing-voter';

/** One member, as `tsraft.cluster.v1.Member` describes it. */
export interface ClusterMember {
  readonly id: string;
  /** Where it listens; `undefined` when the configuration does not say. */
  readonly address: string | undefined;
  readonly role: ClusterMemberRole;
  /** Whether it leads. */
  readonly leader: boolean;
  /** The highest log index the leader knows it holds; `undefined` when the answer is not the leader's. */
  readonly matchIndex: number | undefined;
}

/** The membership of the cluster, as one member (normally the leader) sees it. */
export interface ClusterMembership {
  readonly clusterId: string;
  /** Identifies the configuration; pass it as `expectedConfigId` to make a change conditional on it. */
  readonly configId: string;
  /** Voters first, then learners (then outgoing voters), each sorted by id. */
  readonly members: readonly ClusterMember[];
  /** Whether the configuration is joint (a change of several voters in progress). */
  readonly joint: boolean;
  readonly leaderId: string | undefined;
  readonly term: number;
  readonly commitIndex: number;
  /** The member that answered. */
  readonly answeredBy: string;
}

/** Options of {@link createClusterClient}. */
export interface ClusterClientOptions {
  /** `host:port` of any members of the cluster; at least one. */
  readonly endpoints: readonly string[];
  /** Time budget of one operation, across its retries, in milliseconds. Default 10 000. */
  readonly timeoutMs?: number;
  /** TLS material; absent means plaintext. */
  readonly tls?: KvTlsFiles;
}

/** Per-operation options. */
export interface ClusterOperationOptions {
  /** Overrides {@link ClusterClientOptions.timeoutMs} for this operation. */
  readonly timeoutMs?: number;
  /** Aborts the operation; it then rejects with `CLOSED`. */
  readonly signal?: AbortSignal;
}

/** Options of a membership change. */
export interface MemberChangeOptions extends ClusterOperationOptions {
  /** Refuse with `CONFIG_MISMATCH` unless the configuration is still this one (a `configId`). */
  readonly expectedConfigId?: string;
}

/**
 * A client of a tsraft cluster's membership service (`tsraft.cluster.v1.Cluster`). Every call is answered
 * by the leader (a follower forwards it). Every operation rejects with a {@link KvError}.
 */
export interface ClusterClient {
  /** The members as the leader sees them. */
  list(options?: ClusterOperationOptions): Promise<ClusterMembership>;
  /** Adds `nodeId` listening at `address`, as a voter, or as a learner with `learner: true`. */
  add(
    nodeId: string,
    address: string,
    options?: MemberChangeOptions & { readonly learner?: boolean },
  ): Promise<ClusterMembership>;
  /**
   * Makes the learner `nodeId` a voter; with `maxLagEntries`, only if its log is at most that many entries
   * behind the leader's commit index (else `NOT_CAUGHT_UP`).
   */
  promote(
    nodeId: string,
    options?: MemberChangeOptions & { readonly maxLagEntries?: number },
  ): Promise<ClusterMembership>;
  /** Removes `nodeId` (voter or learner). */
  remove(nodeId: string, options?: MemberChangeOptions): Promise<ClusterMembership>;
  /**
   * Replaces the voter `oldId` by the learner `newId` in one change (through a joint configuration, which
   * the leader leaves by itself); resolves once it is left. `maxLagEntries` as for {@link promote}.
   */
  replace(
    oldId: string,
    newId: string,
    options?: MemberChangeOptions & { readonly maxLagEntries?: number },
  ): Promise<ClusterMembership>;
  /** Hands leadership to the voter `nodeId`; resolves with the leader afterwards. */
  transferLeader(
    nodeId: string,
    options?: ClusterOperationOptions,
  ): Promise<{ leaderId: string; term: number }>;
  /** What a new node (`tsraft serve --join`) asks: to be added as a learner at `address`. */
  join(
    nodeId: string,
    address: string,
    clusterId: string,
    options?: ClusterOperationOptions,
  ): Promise<ClusterMembership>;
  /** Closes every channel. Idempotent. */
  close(): void;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const BACKOFF_BASE_MS = 50;
const BACKOFF_MAX_MS = 1_000;

/** Errors of a read (MemberList) retried on the next endpoint. */
const READ_RETRY: ReadonlySet<KvErrorCode> = new Set<KvErrorCode>([
  'UNAVAILABLE',
  'NOT_LEADER',
  'DEADLINE_EXCEEDED',
  'RESOURCE_EXHAUSTED',
  'OUTCOME_UNKNOWN',
  'CONF_CHANGE_IN_PROGRESS',
]);

/** Whether a failed change certainly was not applied, so that trying it again is safe. */
function notApplied(error: KvError): boolean {
  switch (error.code) {
    case 'NOT_LEADER':
    case 'RESOURCE_EXHAUSTED':
    case 'CONF_CHANGE_IN_PROGRESS':
      return true;
    case 'UNAVAILABLE':
      return isTaggedByServer(error) || error.reason.includes('No connection established');
    default:
      return false;
  }
}

/**
 * Creates a {@link ClusterClient} over `options.endpoints`. Each operation starts at the endpoint that
 * answered last and moves to the next one on a retryable failure, with a jittered backoff, until its
 * deadline. A change is retried only while it certainly was not applied (no leader, another change in
 * progress, an endpoint that cannot be reached); a change whose fate is unknown (a deadline, a lost
 * connection) is reported with `outcomeUnknown` set: list the members to learn whether it was applied.
 */
export function createClusterClient(options: ClusterClientOptions): ClusterClient {
  const endpoints = [...options.endpoints];
  if (endpoints.length === 0) throw new TypeError('createClusterClient: at least one endpoint is needed');
  const defaultTimeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const stubs = new Map<string, ClusterStub>();
  const closing = new AbortController();
  let preferred = 0;

  const stubFor = (address: string): ClusterStub => {
    let stub = stubs.get(address);
    if (stub === undefined) {
      stub = createClusterStub(address, options.tls === undefined ? {} : { tls: options.tls });
      stubs.set(address, stub);
    }
    return stub;
  };

  async function run<R>(
    opOptions: ClusterOperationOptions | undefined,
    change: boolean,
    call: (stub: ClusterStub, opts: CallOptions) => Promise<R>,
  ): Promise<R> {
    const timeoutMs = opOptions?.timeoutMs ?? defaultTimeoutMs;
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
      throw new KvError('INVALID_ARGUMENT', `timeoutMs must be a positive number, not ${timeoutMs}`);
    }
    if (closing.signal.aborted) throw new KvError('CLOSED', 'the client is closed');
    const linked = linkAbort([closing.signal, opOptions?.signal]);
    const deadlineMs = Date.now() + timeoutMs;
    const timer = setTimeout(() => linked.abort(), timeoutMs);
    let mayHaveApplied = false;
    let last: KvError | undefined;
    let backoffCapMs = BACKOFF_BASE_MS;
    try {
      for (let index = preferred; ; index++) {
        if (linked.signal.aborted || Date.now() >= deadlineMs) {
          if (closing.signal.aborted || opOptions?.signal?.aborted) {
            throw new KvError('CLOSED', 'the operation was aborted', { outcomeUnknown: mayHaveApplied });
          }
          const detail = last === undefined ? '' : ` (last error: ${last.message})`;
          throw new KvError('DEADLINE_EXCEEDED', `no answer within ${timeoutMs} ms${detail}`, {
            outcomeUnknown: mayHaveApplied,
            ...(last === undefined ? {} : { cause: last }),
          });
        }
        const endpoint = index % endpoints.length;
        try {
          const result = await call(stubFor(endpoints[endpoint]!), { deadlineMs, signal: linked.signal });
          preferred = endpoint;
          return result;
        } catch (thrown) {
          const error = KvError.from(thrown);
          if (linked.signal.aborted) {
            mayHaveApplied ||= change;
            continue;
          }
          if (change) {
            if (!notApplied(error)) {
              const unknown = mayHaveApplied || error.outcomeUnknown || error.retryable;
              throw unknown && !error.outcomeUnknown
                ? new KvError(error.code, error.reason, { cause: error, outcomeUnknown: true })
                : error;
            }
          } else if (!READ_RETRY.has(error.code)) {
            throw error;
          }
          last = error;
        }
        const delayMs = backoffCapMs / 2 + (Math.random() * backoffCapMs) / 2;
        backoffCapMs = Math.min(BACKOFF_MAX_MS, backoffCapMs * 2);
        await sleep(Math.min(delayMs, deadlineMs - Date.now()), linked.signal);
      }
    } finally {
      clearTimeout(timer);
      linked.dispose();
    }
  }

  const membership = (response: { membership?: Membership | undefined }): ClusterMembership => {
    if (response.membership === undefined) {
      throw new KvError('INTERNAL', 'the answer carries no membership');
    }
    return toClusterMembership(response.membership);
  };

  return {
    list: async (opts) =>
      membership(await run(opts, false, (stub, o) => stub.memberList(create(MemberListRequestSchema), o))),
    add: async (nodeId, address, opts) => {
      const request = create(MemberAddRequestSchema, {
        nodeId,
        address,
        learner: opts?.learner === true,
        expectedConfigId: opts?.expectedConfigId ?? '',
      });
      return membership(await run(opts, true, (stub, o) => stub.memberAdd(request, o)));
    },
    promote: async (nodeId, opts) => {
      const request = create(MemberPromoteRequestSchema, {
        nodeId,
        expectedConfigId: opts?.expectedConfigId ?? '',
        ...(opts?.maxLagEntries === undefined ? {} : { maxLagEntries: BigInt(opts.maxLagEntries) }),
      });
      return membership(await run(opts, true, (stub, o) => stub.memberPromote(request, o)));
    },
    remove: async (nodeId, opts) => {
      const request = create(MemberRemoveRequestSchema, {
        nodeId,
        expectedConfigId: opts?.expectedConfigId ?? '',
      });
      return membership(await run(opts, true, (stub, o) => stub.memberRemove(request, o)));
    },
    replace: async (oldId, newId, opts) => {
      const request = create(MemberReplaceRequestSchema, {
        oldNodeId: oldId,
        newNodeId: newId,
        expectedConfigId: opts?.expectedConfigId ?? '',
        ...(opts?.maxLagEntries === undefined ? {} : { maxLagEntries: BigInt(opts.maxLagEntries) }),
      });
      return membership(await run(opts, true, (stub, o) => stub.memberReplace(request, o)));
    },
    transferLeader: async (nodeId, opts) => {
      const request = create(TransferLeaderRequestSchema, { nodeId });
      const response = await run(opts, true, (stub, o) => stub.transferLeader(request, o));
      return { leaderId: response.leaderId, term: Number(response.term) };
    },
    join: async (nodeId, address, clusterId, opts) => {
      const request = create(JoinRequestSchema, { nodeId, address, clusterId });
      return membership(await run(opts, true, (stub, o) => stub.join(request, o)));
    },
    close: () => {
      if (closing.signal.aborted) return;
      closing.abort();
      for (const stub of stubs.values()) stub.close();
    },
  };
}

/** The friendlier form of a `tsraft.cluster.v1.Membership`. */
export function toClusterMembership(m: Membership): ClusterMembership {
  return {
    clusterId: m.clusterId,
    configId: m.configId,
    members: m.members.map((member) => ({
      id: member.id,
      address: member.address === '' ? undefined : member.address,
      role: roleName(member.role),
      leader: member.leader,
      matchIndex: member.matchIndex === undefined ? undefined : Number(member.matchIndex),
    })),
    joint: m.joint,
    leaderId: m.leaderId === '' ? undefined : m.leaderId,
    term: Number(m.term),
    commitIndex: Number(m.commitIndex),
    answeredBy: m.answeredBy,
  };
}

function roleName(role: MemberRole): ClusterMemberRole {
  switch (role) {
    case MemberRole.LEARNER:
      return 'learner';
    case MemberRole.OUTGOING_VOTER:
      return 'outgoing-voter';
    default:
      return 'voter';
  }
}
