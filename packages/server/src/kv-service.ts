import { create } from '@bufbuild/protobuf';
import type { ServerUnaryCall, sendUnaryData, UntypedServiceImplementation } from '@grpc/grpc-js';
import { configId, type NodeId, RaftError, type RaftNode } from '@tsraft/core';
import {
  type CallOptions,
  createKvStub,
  KvError,
  type KvStub,
  type KvTlsFiles,
  kvMalformedReason,
} from '@tsraft/kv-client';
import {
  type CompareAndSwapRequest,
  CompareAndSwapResponseSchema,
  type DeleteRequest,
  DeleteResponseSchema,
  type GetRequest,
  GetResponseSchema,
  type OpenSessionRequest,
  OpenSessionResponseSchema,
  type PutRequest,
  PutResponseSchema,
  ReadConsistency,
  type ResponseHeader,
  ResponseHeaderSchema,
  type SessionRef,
  StatusResponseSchema,
} from '@tsraft/proto';
import {
  encodeKvCommand,
  type KvCommand,
  type KvResult,
  type KvSessionRef,
  type KvStateMachine,
} from '@tsraft/statemachine-kv';
import type { Logger } from 'pino';
import { waitForLeaderChange } from './leader-watch.js';
import type { ServerMetrics } from './metrics.js';
import { RequestAdmission } from './request-admission.js';

/** Metadata a member sets on a write it forwards to the leader; the leader never forwards it again. */
export const FORWARDED_BY_METADATA_KEY = 'tsraft-forwarded-by';

/** Largest key accepted, in bytes. */
const MAX_KEY_BYTES = 64 * 1024;
/** Longest a request waits for a leader to appear before looking again. */
const LEADER_WAIT_MS = 100;

/** What the KV service runs on. */
export interface KvServiceOptions {
  readonly node: RaftNode<KvResult>;
  readonly stateMachine: KvStateMachine;
  readonly nodeId: NodeId;
  /** The address this member dials for a peer (where writes are forwarded when it leads). */
  readonly resolvePeer: (id: NodeId) => string | undefined;
  /** Deadline of a request that names none (or a later one), in ms. */
  readonly requestTimeoutMs: number;
  /** Requests in progress at once; more are refused with RESOURCE_EXHAUSTED. */
  readonly maxInflightRequests: number;
  /** TLS for forwarding to the leader; absent means plaintext. */
  readonly tls?: KvTlsFiles;
  readonly logger: Logger;
  readonly metrics: ServerMetrics;
}

/** The `tsraft.kv.v1.KV` service of one member. */
export interface KvService {
  /** Handlers to serve with `KV_SERVICE_DEFINITION`. */
  readonly implementation: UntypedServiceImplementation;
  /** Requests in progress. */
  readonly inflight: number;
  /** Refuses new requests (UNAVAILABLE) and waits up to `maxWaitMs` for those in progress. */
  drain(maxWaitMs: number): Promise<boolean>;
  /** Closes the channels to other members. */
  close(): void;
}

type Handler<Req, Res> = (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void;

/**
 * Creates the KV service of a member. Writes go through the log on the leader; a follower forwards them to
 * the leader it knows (one hop: a forwarded write that finds no leader there is answered NOT_LEADER and the
 * first member retries). Reads are served where they arrive: linearizable by ReadIndex (the default), by
 * the leader's lease, or stale from local state. Every request ends by its deadline.
 */
export function createKvService(options: KvServiceOptions): KvService {
  const { node, stateMachine, nodeId, logger, metrics } = options;
  const admission = new RequestAdmission(options.maxInflightRequests);
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

  /** The absolute deadline of a call: its own, capped by the configured request timeout. */
  const deadlineOf = (call: ServerUnaryCall<unknown, unknown>): number => {
    const own = call.getDeadline();
    const ownMs = own instanceof Date ? own.getTime() : Number(own);
    return Math.min(
      Number.isFinite(ownMs) ? ownMs : Number.POSITIVE_INFINITY,
      Date.now() + options.requestTimeoutMs,
    );
  };

  /** Runs one request under admission control and answers it, mapping every failure to a status. */
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
      const admitted = admission.tryEnter();
      if (admitted !== 'ok') {
        const error =
          admitted === 'full'
            ? new KvError(
                'RESOURCE_EXHAUSTED',
                `${nodeId} has ${options.maxInflightRequests} requests in progress; retry later`,
              )
            : new KvError('UNAVAILABLE', `${nodeId} is shutting down`);
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
            const kvError = KvError.from(error);
            if (kvError.code === 'INTERNAL') logger.error({ err: error, method }, 'request failed');
            metrics.requestFinished(method, kvError.code, (performance.now() - started) / 1000);
            callback(kvError.toStatus());
          },
        )
        .finally(() => admission.leave());
    };

  /**
   * Replicates `command` and returns the state machine's result: proposes it here when this member
   * leads, else forwards the whole request to the leader with `forward`. Retries while the write certainly
   * was not applied (or, under a session, always: the session makes a retry apply at most once).
   */
  const write = async <Res>(
    command: KvCommand,
    session: SessionRef | undefined,
    call: ServerUnaryCall<unknown, Res>,
    forward: (stub: KvStub, options: CallOptions) => Promise<Res>,
    answer: (result: KvResult) => Res,
  ): Promise<Res> => {
    const deadline = deadlineOf(call);
    const sessionRef = toSessionRef(session);
    const forwarded = call.metadata.get(FORWARDED_BY_METADATA_KEY).length > 0;
    let mayHaveApplied = false;
    for (;;) {
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) {
        throw new KvError('DEADLINE_EXCEEDED', 'the write did not complete before its deadline', {
          outcomeUnknown: mayHaveApplied,
        });
      }
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
      if (forwarded) {
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
  const readBarrier = async (call: ServerUnaryCall<unknown, unknown>, lease: boolean): Promise<void> => {
    const deadline = deadlineOf(call);
    const started = performance.now();
    for (;;) {
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0)
        throw new KvError('DEADLINE_EXCEEDED', 'the read did not complete before its deadline');
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

  const implementation: UntypedServiceImplementation = {
    Put: serve<PutRequest, unknown>('Put', (request, call) =>
      write(
        { type: 'put', key: checkKey(request.key), value: request.value },
        request.session,
        call,
        (stub, callOptions) => stub.put(request, callOptions),
        () => create(PutResponseSchema, { header: header(stateMachine.appliedIndex) }),
      ),
    ),
    Delete: serve<DeleteRequest, unknown>('Delete', (request, call) =>
      write(
        { type: 'delete', key: checkKey(request.key) },
        request.session,
        call,
        (stub, callOptions) => stub.delete(request, callOptions),
        (result) =>
          create(DeleteResponseSchema, {
            header: header(stateMachine.appliedIndex),
            deleted: result.type === 'delete' && result.deleted,
          }),
      ),
    ),
    CompareAndSwap: serve<CompareAndSwapRequest, unknown>('CompareAndSwap', (request, call) =>
      write(
        {
          type: 'compareAndSwap',
          key: checkKey(request.key),
          expected: request.expected,
          value: request.value,
        },
        request.session,
        call,
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
    ),
    OpenSession: serve<OpenSessionRequest, unknown>('OpenSession', (request, call) =>
      write(
        { type: 'openSession' },
        undefined,
        call,
        (stub, callOptions) => stub.openSession(request, callOptions),
        (result) => {
          if (result.type !== 'openSession') throw unexpected(result);
          return create(OpenSessionResponseSchema, {
            header: header(result.sessionId),
            sessionId: BigInt(result.sessionId),
          });
        },
      ),
    ),
    Get: serve<GetRequest, unknown>('Get', async (request, call) => {
      const key = checkKey(request.key);
      if (request.consistency !== ReadConsistency.STALE) {
        await readBarrier(call, request.consistency === ReadConsistency.LEASE);
      }
      const value = stateMachine.get(key);
      return create(GetResponseSchema, {
        header: header(stateMachine.appliedIndex),
        found: value !== undefined,
        value: value ?? new Uint8Array(0),
      });
    }),
    Status: serve<unknown, unknown>('Status', async () => {
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
    }),
  };

  return {
    implementation,
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
