import { create } from '@bufbuild/protobuf';
import type { Deadline } from '@grpc/grpc-js';
import { configId, type NodeId, RaftError, type RaftNode } from '@tsraft/core';
import {
  type CallOptions,
  createKvStub,
  KvError,
  type KvStub,
  type KvTlsFiles,
  type SessionKind,
  type SessionRequestOf,
  type SessionResponseOf,
} from '@tsraft/kv-client';
import {
  CompareAndSwapResponseSchema,
  DeleteResponseSchema,
  GetResponseSchema,
  OpenSessionResponseSchema,
  PutResponseSchema,
  ReadConsistency,
  type ResponseHeader,
  ResponseHeaderSchema,
  type SessionRef,
  type StatusResponse,
  StatusResponseSchema,
} from '@tsraft/proto';
import {
  encodeKvCommand,
  type KvCommand,
  type KvResult,
  type KvSessionRef,
  type KvStateMachine,
} from '@tsraft/statemachine-kv';
import { waitForLeaderChange } from './leader-watch.js';
import type { ServerMetrics } from './metrics.js';

/** Metadata a member sets on a write it forwards to the leader; the leader never forwards it again. */
export const FORWARDED_BY_METADATA_KEY = 'tsraft-forwarded-by';

/** Largest key accepted, in bytes. */
const MAX_KEY_BYTES = 64 * 1024;
/** Longest a request waits for a leader to appear before looking again. */
const LEADER_WAIT_MS = 100;

/** What one request runs under, whichever way it arrived (a unary call, or a request on a Session stream). */
export interface RequestContext {
  /** When the request must be over (`Date.now()` ms), already capped by the member's request timeout. */
  readonly deadlineMs: number;
  /** Whether another member forwarded this request: a write is then never forwarded again. */
  readonly forwarded: boolean;
  /** Aborted once nobody awaits the answer (its stream ended): the request stops at its next wait. */
  readonly signal?: AbortSignal;
}

/**
 * Runs one request, arrived either way (a unary call or a request on a Session stream), under the member's admission
 * control and metrics: rejects with the {@link KvError} to answer (a malformed request INVALID_ARGUMENT,
 * past the in-flight bound RESOURCE_EXHAUSTED, while draining UNAVAILABLE, a failure as `KvError.from` maps
 * it).
 */
export type RequestRunner = <Req, Res>(
  method: string,
  request: Req,
  context: RequestContext,
  operation: (request: Req, context: RequestContext) => Promise<Res>,
) => Promise<Res>;

/** One KV operation: the same function serves the unary call and the Session stream's request. */
export type KvOperation<K extends SessionKind> = (
  request: SessionRequestOf<K>,
  context: RequestContext,
) => Promise<SessionResponseOf<K>>;

/** The KV operations of one member, by the name of their case in `SessionRequest.request`. */
export type KvOperations = { readonly [K in SessionKind]: KvOperation<K> } & {
  /** This member's own view of the cluster (never forwarded). */
  readonly status: () => Promise<StatusResponse>;
  /** Closes the channels to other members. */
  close(): void;
};

/** What the operations run on. */
export interface KvOperationsOptions {
  readonly node: RaftNode<KvResult>;
  readonly stateMachine: KvStateMachine;
  readonly nodeId: NodeId;
  /** The address this member dials for a peer (where writes are forwarded when it leads). */
  readonly resolvePeer: (id: NodeId) => string | undefined;
  /** TLS for forwarding to the leader; absent means plaintext. */
  readonly tls?: KvTlsFiles;
  readonly metrics: ServerMetrics;
}

/** A grpc-js call's deadline in `Date.now()` ms (infinite when it has none). */
export function deadlineMsOf(deadline: Deadline): number {
  return deadline instanceof Date ? deadline.getTime() : Number(deadline);
}

/**
 * The deadline of a request whose caller set `ownMs` (`Date.now()` ms; not finite: none), capped at
 * `requestTimeoutMs` from now.
 */
export function requestDeadline(ownMs: number, requestTimeoutMs: number): number {
  return Math.min(Number.isFinite(ownMs) ? ownMs : Number.POSITIVE_INFINITY, Date.now() + requestTimeoutMs);
}

/**
 * Creates the operations of the KV service of a member. Writes go through the log on the leader; a follower
 * forwards them to the leader it knows (one hop: a forwarded write that finds no leader there is answered
 * NOT_LEADER and the first member retries). Reads are served where they arrive: linearizable by ReadIndex
 * (the default), by the leader's lease, or stale from local state. Every operation ends by its context's
 * deadline, or earlier once its context's signal aborts. Failures are thrown as they come; the caller maps
 * them (`KvError.from`).
 */
export function createKvOperations(options: KvOperationsOptions): KvOperations {
  const { node, stateMachine, nodeId, metrics } = options;
  const stubs = new Map<string, KvStub>();

  const stubFor = (address: string): KvStub => {
    let stub = stubs.get(address);
    if (stub === undefined) {
      stub = createKvStub(address, options.tls === undefined ? {} : { tls: options.tls });
      stubs.set(address, stub);
    }
    return stub;
  };

  const header = (index: number): ResponseHeader =>
    create(ResponseHeaderSchema, {
      memberId: nodeId,
      term: BigInt(node.basicStatus().term),
      index: BigInt(index),
    });

  /**
   * Replicates `command` and returns the state machine's result: proposes it here when this member
   * leads, else forwards the whole request to the leader with `forward`. Retries while the write certainly
   * was not applied (or, under a session, always: the session makes a retry apply at most once).
   */
  const write = async <Res>(
    command: KvCommand,
    session: SessionRef | undefined,
    context: RequestContext,
    forward: (stub: KvStub, options: CallOptions) => Promise<Res>,
    answer: (result: KvResult) => Res,
  ): Promise<Res> => {
    const deadline = context.deadlineMs;
    const sessionRef = toSessionRef(session);
    let mayHaveApplied = false;
    for (;;) {
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) {
        throw new KvError('DEADLINE_EXCEEDED', 'the write did not complete before its deadline', {
          outcomeUnknown: mayHaveApplied,
        });
      }
      throwIfGone(context, mayHaveApplied);
      const { role, leader } = node.basicStatus();
      if (role === 'leader') {
        const started = performance.now();
        try {
          const data = encodeKvCommand({
            command,
            ...(sessionRef === undefined ? {} : { session: sessionRef }),
            proposedAtMs: Date.now(),
          });
          mayHaveApplied = true;
          const result = await node.propose(data, { timeoutMs: remainingMs });
          metrics.proposalCommitted((performance.now() - started) / 1000);
          return answer(rejectIfRefused(result));
        } catch (error) {
          if (!(error instanceof RaftError)) throw error;
          if (error.code === 'NOT_LEADER' || error.code === 'TRANSFER_IN_PROGRESS') {
            // Refused before it entered the log: nothing was applied.
            await waitForLeaderChange(node, nodeId, Math.min(LEADER_WAIT_MS, remainingMs));
            continue;
          }
          if (error.code === 'PROPOSAL_DROPPED') continue; // a newer leader replaced the entry
          throw raftToKvError(error, true);
        }
      }
      if (context.forwarded) {
        throw new KvError('NOT_LEADER', `${nodeId} is not the leader`, { outcomeUnknown: false });
      }
      const address = leader === null ? undefined : options.resolvePeer(leader);
      if (leader === null || address === undefined) {
        await waitForLeaderChange(node, leader, Math.min(LEADER_WAIT_MS, remainingMs));
        continue;
      }
      try {
        return await forward(stubFor(address), {
          deadlineMs: deadline,
          metadata: { [FORWARDED_BY_METADATA_KEY]: nodeId },
          ...(context.signal === undefined ? {} : { signal: context.signal }),
        });
      } catch (error) {
        const kvError = KvError.from(error);
        mayHaveApplied ||= kvError.outcomeUnknown;
        const retry =
          kvError.code === 'NOT_LEADER' ||
          (kvError.retryable && (!kvError.outcomeUnknown || sessionRef !== undefined));
        if (!retry || kvError.code === 'RESOURCE_EXHAUSTED') throw kvError;
        await waitForLeaderChange(node, leader, Math.min(LEADER_WAIT_MS, deadline - Date.now()));
      }
    }
  };

  /** Waits until a read of local state is linearizable (or lease-safe); retries while no leader is known. */
  const readBarrier = async (context: RequestContext, lease: boolean): Promise<void> => {
    const deadline = context.deadlineMs;
    const started = performance.now();
    for (;;) {
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0)
        throw new KvError('DEADLINE_EXCEEDED', 'the read did not complete before its deadline');
      throwIfGone(context, false);
      try {
        await node.read({ timeoutMs: remainingMs, lease });
        metrics.readConfirmed((performance.now() - started) / 1000);
        return;
      } catch (error) {
        if (error instanceof RaftError && error.code === 'NOT_LEADER') {
          await waitForLeaderChange(node, node.basicStatus().leader, Math.min(LEADER_WAIT_MS, remainingMs));
          continue;
        }
        throw error instanceof RaftError ? raftToKvError(error, false) : error;
      }
    }
  };

  return {
    put: (request, context) =>
      write(
        { type: 'put', key: checkKey(request.key), value: request.value },
        request.session,
        context,
        (stub, callOptions) => stub.put(request, callOptions),
        () => create(PutResponseSchema, { header: header(stateMachine.appliedIndex) }),
      ),
    delete: (request, context) =>
      write(
        { type: 'delete', key: checkKey(request.key) },
        request.session,
        context,
        (stub, callOptions) => stub.delete(request, callOptions),
        (result) =>
          create(DeleteResponseSchema, {
            header: header(stateMachine.appliedIndex),
            deleted: result.type === 'delete' && result.deleted,
          }),
      ),
    compareAndSwap: (request, context) =>
      write(
        {
          type: 'compareAndSwap',
          key: checkKey(request.key),
          expected: request.expected,
          value: request.value,
        },
        request.session,
        context,
        (stub, callOptions) => stub.compareAndSwap(request, callOptions),
        (result) => {
          if (result.type !== 'compareAndSwap') throw unexpected(result);
          return create(CompareAndSwapResponseSchema, {
            header: header(stateMachine.appliedIndex),
            succeeded: result.succeeded,
            found: result.value !== undefined,
            value: result.value ?? new Uint8Array(0),
          });
        },
      ),
    openSession: (request, context) =>
      write(
        { type: 'openSession' },
        undefined,
        context,
        (stub, callOptions) => stub.openSession(request, callOptions),
        (result) => {
          if (result.type !== 'openSession') throw unexpected(result);
          return create(OpenSessionResponseSchema, {
            header: header(result.sessionId),
            sessionId: BigInt(result.sessionId),
          });
        },
      ),
    get: async (request, context) => {
      const key = checkKey(request.key);
      if (request.consistency !== ReadConsistency.STALE) {
        await readBarrier(context, request.consistency === ReadConsistency.LEASE);
      }
      const value = stateMachine.get(key);
      return create(GetResponseSchema, {
        header: header(stateMachine.appliedIndex),
        found: value !== undefined,
        value: value ?? new Uint8Array(0),
      });
    },
    status: async () => {
      const status = node.status();
      return create(StatusResponseSchema, {
        memberId: nodeId,
        role: status.stopped ? 'stopped' : status.role,
        term: BigInt(status.hardState.term),
        leaderId: status.leader ?? '',
        commitIndex: BigInt(status.hardState.commit),
        appliedIndex: BigInt(stateMachine.appliedIndex),
        stateDigest: stateMachine.digest(),
        voters: [...status.conf.voters],
        learners: [...status.conf.learners],
        configId: configId(status.conf),
      });
    },
    close: () => {
      for (const stub of stubs.values()) stub.close();
      stubs.clear();
    },
  };
}

/** Stops a request nobody awaits any more (nobody reads this error: it only ends the work). */
function throwIfGone(context: RequestContext, mayHaveApplied: boolean): void {
  if (context.signal?.aborted) {
    throw new KvError('CLOSED', 'the caller is gone', { outcomeUnknown: mayHaveApplied });
  }
}

function checkKey(key: Uint8Array): Uint8Array {
  if (key.byteLength === 0) throw new KvError('INVALID_ARGUMENT', 'the key must not be empty');
  if (key.byteLength > MAX_KEY_BYTES) {
    throw new KvError(
      'INVALID_ARGUMENT',
      `the key is ${key.byteLength} bytes; at most ${MAX_KEY_BYTES} are allowed`,
    );
  }
  return key;
}

function toSessionRef(session: SessionRef | undefined): KvSessionRef | undefined {
  if (session === undefined) return undefined;
  const sessionId = safeNumber(session.sessionId, 'session_id');
  const sequence = safeNumber(session.sequence, 'sequence');
  const firstIncomplete = safeNumber(session.firstIncomplete, 'first_incomplete');
  if (sessionId === 0 || sequence === 0) {
    throw new KvError('INVALID_ARGUMENT', 'a session reference needs a session_id and a sequence >= 1');
  }
  return { sessionId, sequence, firstIncomplete };
}

function safeNumber(value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new KvError('INVALID_ARGUMENT', `${field} ${value} is larger than 2^53 - 1`);
  }
  return Number(value);
}

/** Turns a state machine refusal into the error the client sees. */
function rejectIfRefused(result: KvResult): KvResult {
  if (result.type !== 'rejected') return result;
  switch (result.code) {
    case 'SESSION_EXPIRED':
      throw new KvError('SESSION_EXPIRED', result.message);
    case 'STALE_REQUEST':
      throw new KvError('STALE_REQUEST', result.message);
    default:
      throw new KvError('INVALID_ARGUMENT', result.message);
  }
}

/** Maps the driver's refusal of a proposal (`write`) or a read to the client's error. */
function raftToKvError(error: RaftError, write: boolean): KvError {
  switch (error.code) {
    case 'TOO_MANY_UNCOMMITTED':
      return new KvError('RESOURCE_EXHAUSTED', error.message);
    case 'TIMEOUT':
      return new KvError('DEADLINE_EXCEEDED', error.message, { outcomeUnknown: write });
    case 'INVALID_ARGUMENT':
      return new KvError('INVALID_ARGUMENT', error.message);
    case 'NOT_LEADER':
      return new KvError('NOT_LEADER', error.message);
    case 'REMOVED':
      // Stopping: another member serves the request. A write in progress may have been committed.
      return write
        ? new KvError('OUTCOME_UNKNOWN', `${error.message}; the write may or may not have been applied`)
        : new KvError('UNAVAILABLE', `${error.message}; ask another member`);
    case 'STOPPED':
    case 'STORAGE_FAILED':
      return write
        ? new KvError('OUTCOME_UNKNOWN', `${error.message}; the write may or may not have been applied`)
        : new KvError('UNAVAILABLE', error.message);
    default:
      return write
        ? new KvError('OUTCOME_UNKNOWN', `${error.message}; the write may or may not have been applied`)
        : new KvError('UNAVAILABLE', error.message);
  }
}

function unexpected(result: KvResult): KvError {
  return new KvError('INTERNAL', `the state machine answered ${result.type} to another operation`);
}
