import { create } from '@bufbuild/protobuf';
import type { ServerUnaryCall, sendUnaryData, UntypedServiceImplementation } from '@grpc/grpc-js';
import {
  type ConfState,
  configId,
  isJoint,
  isMember,
  isVoterIn,
  type MemberChange,
  type NodeId,
  RaftError,
  type RaftNode,
} from '@tsraft/core';
import {
  type CallOptions,
  type ClusterStub,
  createClusterStub,
  isTaggedByServer,
  KvError,
  type KvTlsFiles,
  kvMalformedReason,
} from '@tsraft/kv-client';
import {
  type JoinRequest,
  JoinResponseSchema,
  type MemberAddRequest,
  MemberAddResponseSchema,
  MemberListRequestSchema,
  MemberListResponseSchema,
  type MemberPromoteRequest,
  MemberPromoteRequestSchema,
  MemberPromoteResponseSchema,
  type MemberRemoveRequest,
  MemberRemoveResponseSchema,
  type MemberReplaceRequest,
  MemberReplaceResponseSchema,
  MemberRole,
  MemberSchema,
  type Membership,
  MembershipSchema,
  type TransferLeaderRequest,
  TransferLeaderRequestSchema,
  TransferLeaderResponseSchema,
} from '@tsraft/proto';
import type { Logger } from 'pino';
import { ConfigError } from './config/config-error.js';
import { parseHostPort } from './config/host-port.js';
import { parseNodeId } from './config/parse-peers.js';
import { FORWARDED_BY_METADATA_KEY } from './kv-operations.js';
import { waitForLeaderChange } from './leader-watch.js';
import type { ServerMetrics } from './metrics.js';
import { RequestAdmission } from './request-admission.js';

/** Longest a request waits for a leader to appear (or a change in progress to finish) before looking again. */
const RETRY_WAIT_MS = 100;

/** What the cluster service runs on. */
export interface ClusterServiceOptions {
  readonly node: RaftNode<unknown>;
  readonly nodeId: NodeId;
  /** This member's `--cluster-id`: a node joining must name the same. */
  readonly clusterId: string;
  /** The address this member dials for a peer: where calls are forwarded to the leader. */
  readonly resolvePeer: (id: NodeId) => string | undefined;
  /** Deadline of a request that names none (or a later one), in ms. */
  readonly requestTimeoutMs: number;
  /** The node's election timeout, in ms: how long a leadership transfer gets per attempt. */
  readonly electionTimeoutMs: number;
  /** Requests in progress at once; more are refused with RESOURCE_EXHAUSTED. */
  readonly maxInflightRequests: number;
  /** TLS for forwarding to the leader; absent means plaintext. */
  readonly tls?: KvTlsFiles;
  readonly logger: Logger;
  readonly metrics: ServerMetrics;
}

/** How a call to the leader's service is made: its deadline, and whether it came forwarded by a member. */
interface LeaderCall {
  readonly deadlineMs: number;
  readonly forwarded: boolean;
}

/** The `tsraft.cluster.v1.Cluster` service of one member, plus the same calls for the server itself. */
export interface ClusterService {
  /** Handlers to serve with `CLUSTER_SERVICE_DEFINITION`. */
  readonly implementation: UntypedServiceImplementation;
  /** The membership as the leader sees it (forwarded there when this member does not lead). */
  list(deadlineMs: number): Promise<Membership>;
  /** Promotes `nodeId` if its log is within `maxLagEntries` of the leader's commit index. */
  promote(nodeId: NodeId, maxLagEntries: number | undefined, deadlineMs: number): Promise<Membership>;
  /** Requests in progress. */
  readonly inflight: number;
  /** Refuses new requests (UNAVAILABLE) and waits up to `maxWaitMs` for those in progress. */
  drain(maxWaitMs: number): Promise<boolean>;
  /** Closes the channels to other members. */
  close(): void;
}

type Handler<Req, Res> = (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void;

/**
 * Creates the membership service of a member. Every call is answered by the leader: a follower forwards it
 * to the leader it knows (one hop; a forwarded call that finds no leader there is answered NOT_LEADER).
 * Changes that find another one in progress wait for it (CONF_CHANGE_IN_PROGRESS is retried until the
 * deadline); a change whose deadline passes may or may not have been applied (DEADLINE_EXCEEDED, outcome
 * unknown).
 */
export function createClusterService(options: ClusterServiceOptions): ClusterService {
  const { node, nodeId, logger, metrics } = options;
  const admission = new RequestAdmission(options.maxInflightRequests);
  const stubs = new Map<string, ClusterStub>();

  const stubFor = (address: string): ClusterStub => {
    let stub = stubs.get(address);
    if (stub === undefined) {
      stub = createClusterStub(address, options.tls === undefined ? {} : { tls: options.tls });
      stubs.set(address, stub);
    }
    return stub;
  };

  const deadlineOf = (call: ServerUnaryCall<unknown, unknown>): number => {
    const own = call.getDeadline();
    const ownMs = own instanceof Date ? own.getTime() : Number(own);
    return Math.min(
      Number.isFinite(ownMs) ? ownMs : Number.POSITIVE_INFINITY,
      Date.now() + options.requestTimeoutMs,
    );
  };

  const leaderCall = (call: ServerUnaryCall<unknown, unknown>): LeaderCall => ({
    deadlineMs: deadlineOf(call),
    forwarded: call.metadata.get(FORWARDED_BY_METADATA_KEY).length > 0,
  });

  /** The membership as this member sees it, after `conf` (default: the configuration in force). */
  const membership = (conf?: ConfState): Membership => {
    const status = node.status();
    const current = conf ?? status.conf;
    const outgoing = (current.votersOutgoing ?? []).filter((id) => !current.voters.includes(id));
    const member = (id: NodeId, role: MemberRole) => {
      const progress = status.progress?.get(id);
      const match = id === nodeId && status.role === 'leader' ? status.lastIndex : progress?.match;
      return create(MemberSchema, {
        id,
        address: current.addresses?.[id] ?? options.resolvePeer(id) ?? '',
        role,
        leader: status.leader === id,
        ...(status.role === 'leader' && match !== undefined ? { matchIndex: BigInt(match) } : {}),
      });
    };
    const sorted = (ids: readonly NodeId[]) => [...ids].sort();
    return create(MembershipSchema, {
      clusterId: options.clusterId,
      configId: configId(current),
      members: [
        ...sorted(current.voters).map((id) => member(id, MemberRole.VOTER)),
        ...sorted(current.learners).map((id) => member(id, MemberRole.LEARNER)),
        ...sorted(outgoing).map((id) => member(id, MemberRole.OUTGOING_VOTER)),
      ],
      joint: isJoint(current),
      leaderId: status.leader ?? '',
      term: BigInt(status.hardState.term),
      commitIndex: BigInt(status.hardState.commit),
      answeredBy: nodeId,
    });
  };

  /**
   * Runs `local` on the leader: here when this member leads, else forwarded to the leader it knows with
   * `forward`. Retries while the call certainly had no effect (no leader, a leader change, another change in
   * progress) until the deadline.
   */
  const onLeader = async <Res>(
    lc: LeaderCall,
    local: (remainingMs: number) => Promise<Res>,
    forward: ((stub: ClusterStub, callOptions: CallOptions) => Promise<Res>) | null,
    change: boolean,
  ): Promise<Res> => {
    for (;;) {
      const remainingMs = lc.deadlineMs - Date.now();
      if (remainingMs <= 0) {
        throw new KvError('DEADLINE_EXCEEDED', 'the call did not complete before its deadline');
      }
      const { role, leader } = node.basicStatus();
      if (role === 'leader') {
        try {
          return await local(remainingMs);
        } catch (error) {
          if (!(error instanceof RaftError)) throw error;
          if (error.code === 'NOT_LEADER' || error.code === 'TRANSFER_IN_PROGRESS') {
            await waitForLeaderChange(node, nodeId, Math.min(RETRY_WAIT_MS, remainingMs));
            continue;
          }
          if (error.code === 'CONF_CHANGE_IN_PROGRESS' || error.code === 'PROPOSAL_DROPPED') {
            await sleep(Math.min(RETRY_WAIT_MS, remainingMs));
            continue;
          }
          throw raftToKvError(error, change);
        }
      }
      if (lc.forwarded || forward === null) {
        throw new KvError('NOT_LEADER', `${nodeId} is not the leader`);
      }
      const address = leader === null ? undefined : options.resolvePeer(leader);
      if (leader === null || address === undefined) {
        await waitForLeaderChange(node, leader, Math.min(RETRY_WAIT_MS, remainingMs));
        continue;
      }
      try {
        return await forward(stubFor(address), {
          deadlineMs: lc.deadlineMs,
          metadata: { [FORWARDED_BY_METADATA_KEY]: nodeId },
        });
      } catch (error) {
        const kvError = KvError.from(error);
        if (!(change ? certainlyNotApplied(kvError) : kvError.retryable)) {
          // The answer travels tagged with its code: a change whose fate is unknown must not look "not applied".
          throw change && mayHaveApplied(kvError)
            ? new KvError(
                'OUTCOME_UNKNOWN',
                `${kvError.message}; the change may or may not have been applied`,
              )
            : kvError;
        }
        await waitForLeaderChange(node, leader, Math.min(RETRY_WAIT_MS, lc.deadlineMs - Date.now()));
      }
    }
  };

  /** Applies `changes` on this member, the leader, and answers with the membership after them. */
  const changeHere = async (
    changes: readonly MemberChange[],
    expectedConfigId: string,
    remainingMs: number,
  ): Promise<Membership> => {
    const conf = await node.changeMembership(changes, {
      timeoutMs: remainingMs,
      ...(expectedConfigId === '' ? {} : { expectedConfigId }),
    });
    logger.info({ changes, voters: conf.voters, learners: conf.learners }, 'membership change applied');
    return membership(conf);
  };

  /**
   * Checks, on the leader, that `id` is a learner whose log is at most `maxLagEntries` behind the commit
   * index (when given).
   */
  const checkPromotable = (id: NodeId, maxLagEntries: number | undefined): void => {
    const status = node.status();
    if (!status.conf.learners.includes(id)) {
      throw new KvError(
        'INVALID_ARGUMENT',
        isVoterIn(status.conf, id)
          ? `${id} is already a voter`
          : `${id} is not a member; add it as a learner first ("tsraft serve --join ..." or "tsraft member add ${id} HOST:PORT --learner")`,
      );
    }
    if (maxLagEntries === undefined) return;
    const match = status.progress?.get(id)?.match ?? 0;
    const lag = Math.max(0, status.hardState.commit - match);
    if (lag > maxLagEntries) {
      throw new KvError(
        'NOT_CAUGHT_UP',
        `${id} holds the log up to ${match}, ${lag} entries behind the leader's commit index ${status.hardState.commit} (at most ${maxLagEntries} allowed)`,
      );
    }
  };

  /** The configuration once it is no longer joint, or the one in force after `maxWaitMs`. */
  const leftJoint = (maxWaitMs: number): Promise<ConfState> =>
    new Promise((resolve) => {
      const current = node.status().conf;
      if (!isJoint(current)) {
        resolve(current);
        return;
      }
      let unsubscribe: () => void = () => {};
      const timer = setTimeout(
        () => {
          unsubscribe();
          resolve(node.status().conf);
        },
        Math.max(0, maxWaitMs),
      );
      unsubscribe = node.onMembershipChange((conf) => {
        if (isJoint(conf)) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(conf);
      });
    });

  const list = (lc: LeaderCall): Promise<Membership> =>
    onLeader(
      lc,
      async () => membership(),
      async (stub, o) => requireMembership(await stub.memberList(create(MemberListRequestSchema), o)),
      false,
    );

  const promote = (
    lc: LeaderCall,
    id: NodeId,
    maxLagEntries: number | undefined,
    expectedConfigId: string,
  ): Promise<Membership> =>
    onLeader(
      lc,
      async (remainingMs) => {
        checkPromotable(id, maxLagEntries);
        return changeHere([{ type: 'addVoter', nodeId: id }], expectedConfigId, remainingMs);
      },
      async (stub, o) =>
        requireMembership(
          await stub.memberPromote(
            create(MemberPromoteRequestSchema, {
              nodeId: id,
              expectedConfigId,
              ...(maxLagEntries === undefined ? {} : { maxLagEntries: BigInt(maxLagEntries) }),
            }),
            o,
          ),
        ),
      true,
    );

  /**
   * Hands leadership to `target`: asks the leader (forwarding there) and waits until `target` leads. A
   * transfer that does not complete within an election timeout is asked again, until the deadline.
   */
  const transfer = async (lc: LeaderCall, target: NodeId): Promise<{ leaderId: string; term: number }> => {
    for (;;) {
      const remainingMs = lc.deadlineMs - Date.now();
      if (remainingMs <= 0) {
        throw new KvError('DEADLINE_EXCEEDED', `leadership did not move to ${target} before the deadline`);
      }
      const { role, leader, term } = node.basicStatus();
      if (leader === target && (role === 'leader' || target !== nodeId)) return { leaderId: target, term };
      if (role === 'leader') {
        if (!isVoterIn(node.status().conf, target)) {
          throw new KvError('INVALID_ARGUMENT', `${target} is not a voter; only a voter can lead`);
        }
        try {
          node.transferLeadership(target);
        } catch (error) {
          if (!(error instanceof RaftError)) throw error;
          if (error.code !== 'NOT_LEADER') throw raftToKvError(error, false);
        }
        await waitForLeaderChange(node, nodeId, Math.min(remainingMs, 2 * options.electionTimeoutMs));
        continue;
      }
      if (lc.forwarded) throw new KvError('NOT_LEADER', `${nodeId} is not the leader`);
      const address = leader === null ? undefined : options.resolvePeer(leader);
      if (leader === null || address === undefined) {
        await waitForLeaderChange(node, leader, Math.min(RETRY_WAIT_MS, remainingMs));
        continue;
      }
      try {
        const answer = await stubFor(address).transferLeader(
          create(TransferLeaderRequestSchema, { nodeId: target }),
          {
            deadlineMs: lc.deadlineMs,
            metadata: { [FORWARDED_BY_METADATA_KEY]: nodeId },
          },
        );
        return { leaderId: answer.leaderId, term: Number(answer.term) };
      } catch (error) {
        const kvError = KvError.from(error);
        if (!kvError.retryable) throw kvError;
        await waitForLeaderChange(node, leader, Math.min(RETRY_WAIT_MS, lc.deadlineMs - Date.now()));
      }
    }
  };

  const serve =
    <Req, Res>(
      method: string,
      run: (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>,
    ): Handler<Req, Res> =>
    (call, callback) => {
      const malformed = kvMalformedReason(call.request);
      if (malformed !== undefined) {
        callback(new KvError('INVALID_ARGUMENT', `malformed ${method} request: ${malformed}`).toStatus());
        return;
      }
      const error = admission.enter(nodeId);
      if (error !== undefined) {
        metrics.requestRejected(method, error.code);
        callback(error.toStatus());
        return;
      }
      const started = performance.now();
      run(call.request, call)
        .then(
          (response) => {
            metrics.requestFinished(method, 'OK', (performance.now() - started) / 1000);
            callback(null, response);
          },
          (error: unknown) => {
            const kvError =
              error instanceof ConfigError
                ? new KvError('INVALID_ARGUMENT', error.message)
                : KvError.from(error);
            if (kvError.code === 'INTERNAL') logger.error({ err: error, method }, 'request failed');
            metrics.requestFinished(method, kvError.code, (performance.now() - started) / 1000);
            callback(kvError.toStatus());
          },
        )
        .finally(() => admission.leave());
    };

  const implementation: UntypedServiceImplementation = {
    MemberList: serve<unknown, unknown>('MemberList', async (_request, call) =>
      create(MemberListResponseSchema, { membership: await list(leaderCall(call)) }),
    ),
    MemberAdd: serve<MemberAddRequest, unknown>('MemberAdd', async (request, call) => {
      const id = checkNodeId(request.nodeId);
      if (request.address === '') throw new KvError('INVALID_ARGUMENT', `adding ${id} needs its address`);
      const address = parseHostPort(request.address, 'address');
      const change: MemberChange = { type: request.learner ? 'addLearner' : 'addVoter', nodeId: id, address };
      const result = await onLeader(
        leaderCall(call),
        (remainingMs) => {
          const conf = node.status().conf;
          if (isMember(conf, id)) {
            const what = isVoterIn(conf, id) ? 'a voter' : 'a learner';
            throw new KvError(
              'INVALID_ARGUMENT',
              `${id} is already ${what}${request.learner || isVoterIn(conf, id) ? '' : `; promote it with "tsraft member promote ${id}"`}`,
            );
          }
          return changeHere([change], request.expectedConfigId, remainingMs);
        },
        async (stub, o) => requireMembership(await stub.memberAdd(request, o)),
        true,
      );
      return create(MemberAddResponseSchema, { membership: result });
    }),
    MemberPromote: serve<MemberPromoteRequest, unknown>('MemberPromote', async (request, call) => {
      const id = checkNodeId(request.nodeId);
      const maxLag = request.maxLagEntries === undefined ? undefined : Number(request.maxLagEntries);
      const result = await promote(leaderCall(call), id, maxLag, request.expectedConfigId);
      return create(MemberPromoteResponseSchema, { membership: result });
    }),
    MemberRemove: serve<MemberRemoveRequest, unknown>('MemberRemove', async (request, call) => {
      const id = checkNodeId(request.nodeId);
      const result = await onLeader(
        leaderCall(call),
        (remainingMs) => {
          if (!isMember(node.status().conf, id))
            throw new KvError('INVALID_ARGUMENT', `${id} is not a member`);
          return changeHere([{ type: 'removeNode', nodeId: id }], request.expectedConfigId, remainingMs);
        },
        async (stub, o) => requireMembership(await stub.memberRemove(request, o)),
        true,
      );
      return create(MemberRemoveResponseSchema, { membership: result });
    }),
    MemberReplace: serve<MemberReplaceRequest, unknown>('MemberReplace', async (request, call) => {
      const oldId = checkNodeId(request.oldNodeId);
      const newId = checkNodeId(request.newNodeId);
      const maxLag = request.maxLagEntries === undefined ? undefined : Number(request.maxLagEntries);
      const lc = leaderCall(call);
      const result = await onLeader(
        lc,
        async (remainingMs) => {
          if (!isVoterIn(node.status().conf, oldId)) {
            throw new KvError('INVALID_ARGUMENT', `${oldId} is not a voter`);
          }
          checkPromotable(newId, maxLag);
          const joint = await node.changeMembership(
            [
              { type: 'addVoter', nodeId: newId },
              { type: 'removeNode', nodeId: oldId },
            ],
            {
              timeoutMs: remainingMs,
              ...(request.expectedConfigId === '' ? {} : { expectedConfigId: request.expectedConfigId }),
            },
          );
          logger.info({ replaced: oldId, by: newId, voters: joint.voters }, 'membership change applied');
          // The leader leaves the joint configuration by itself, with the next entry.
          const conf = isJoint(joint) ? await leftJoint(lc.deadlineMs - Date.now()) : joint;
          return membership(conf);
        },
        async (stub, o) => requireMembership(await stub.memberReplace(request, o)),
        true,
      );
      return create(MemberReplaceResponseSchema, { membership: result });
    }),
    TransferLeader: serve<TransferLeaderRequest, unknown>('TransferLeader', async (request, call) => {
      const id = checkNodeId(request.nodeId);
      const { leaderId, term } = await transfer(leaderCall(call), id);
      return create(TransferLeaderResponseSchema, { leaderId, term: BigInt(term) });
    }),
    Join: serve<JoinRequest, unknown>('Join', async (request, call) => {
      const id = checkNodeId(request.nodeId);
      if (request.clusterId !== options.clusterId) {
        throw new KvError(
          'INVALID_ARGUMENT',
          `this is cluster "${options.clusterId}"; ${id} was started with --cluster-id "${request.clusterId}"`,
        );
      }
      if (request.address === '') throw new KvError('INVALID_ARGUMENT', `joining needs the address of ${id}`);
      const address = parseHostPort(request.address, 'address');
      const result = await onLeader(
        leaderCall(call),
        (remainingMs) => {
          const conf = node.status().conf;
          if (isVoterIn(conf, id)) {
            throw new KvError(
              'INVALID_ARGUMENT',
              `${id} is already a voter of this cluster, and a node that joins starts with an empty log: if ${id} lost its data directory, it must not come back as the same voter (it could vote twice in a term, or forget entries it acknowledged). Remove it first ("tsraft member remove ${id}"), then join again, or join under a new id`,
            );
          }
          if (conf.learners.includes(id)) {
            const known = conf.addresses?.[id];
            if (known === undefined || known === address) return Promise.resolve(membership(conf));
            throw new KvError(
              'INVALID_ARGUMENT',
              `${id} is already a learner at ${known}, not ${address}; remove it first ("tsraft member remove ${id}")`,
            );
          }
          return changeHere([{ type: 'addLearner', nodeId: id, address }], '', remainingMs);
        },
        async (stub, o) => requireMembership(await stub.join(request, o)),
        true,
      );
      logger.info({ joined: id, address }, 'a node joined as a learner');
      return create(JoinResponseSchema, { membership: result });
    }),
  };

  return {
    implementation,
    list: (deadlineMs) => list({ deadlineMs, forwarded: false }),
    promote: (id, maxLag, deadlineMs) => promote({ deadlineMs, forwarded: false }, id, maxLag, ''),
    get inflight() {
      return admission.size;
    },
    drain: (maxWaitMs) => {
      admission.stop();
      return admission.drain(maxWaitMs);
    },
    close: () => {
      for (const stub of stubs.values()) stub.close();
      stubs.clear();
    },
  };
}

/** Whether a forwarded change that failed so certainly had no effect, so that trying again is safe. */
function certainlyNotApplied(error: KvError): boolean {
  switch (error.code) {
    case 'NOT_LEADER':
    case 'CONF_CHANGE_IN_PROGRESS':
    case 'RESOURCE_EXHAUSTED':
      return true;
    case 'UNAVAILABLE':
      return isTaggedByServer(error) || error.reason.includes('No connection established');
    default:
      return false;
  }
}

/** Whether a forwarded change that failed so may have been applied by the leader. */
function mayHaveApplied(error: KvError): boolean {
  switch (error.code) {
    case 'INVALID_ARGUMENT':
    case 'CONFIG_MISMATCH':
    case 'NOT_CAUGHT_UP':
    case 'RESOURCE_EXHAUSTED':
      return false;
    default:
      return (
        !isTaggedByServer(error) || error.code === 'DEADLINE_EXCEEDED' || error.code === 'OUTCOME_UNKNOWN'
      );
  }
}

function checkNodeId(id: string): NodeId {
  try {
    return parseNodeId(id, 'node id');
  } catch (error) {
    throw new KvError('INVALID_ARGUMENT', (error as Error).message);
  }
}

function requireMembership(response: { membership?: Membership | undefined }): Membership {
  if (response.membership === undefined)
    throw new KvError('INTERNAL', 'the leader answered without a membership');
  return response.membership;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Maps the driver's refusal of a membership change (`change`) or another call to the client's error. */
function raftToKvError(error: RaftError, change: boolean): KvError {
  switch (error.code) {
    case 'CONFIG_MISMATCH':
      return new KvError('CONFIG_MISMATCH', error.message.replace(/^CONFIG_MISMATCH: /, ''));
    case 'CONF_CHANGE_IN_PROGRESS':
      return new KvError('CONF_CHANGE_IN_PROGRESS', error.message.replace(/^CONF_CHANGE_IN_PROGRESS: /, ''));
    case 'INVALID_ARGUMENT':
      return new KvError('INVALID_ARGUMENT', error.message.replace(/^INVALID_ARGUMENT: /, ''));
    case 'NOT_LEADER':
    case 'TRANSFER_IN_PROGRESS':
      return new KvError('NOT_LEADER', error.message);
    case 'TIMEOUT':
      return new KvError(
        'DEADLINE_EXCEEDED',
        `${error.message}; list the members to see whether it was applied`,
        {
          outcomeUnknown: change,
        },
      );
    default:
      return change
        ? new KvError('OUTCOME_UNKNOWN', `${error.message}; the change may or may not have been applied`)
        : new KvError('UNAVAILABLE', error.message);
  }
}
