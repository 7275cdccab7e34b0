import type { ServerUnaryCall, sendUnaryData, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { NodeId, RaftNode } from '@tsraft/core';
import { KvError, type KvTlsFiles, kvMalformedReason } from '@tsraft/kv-client';
import type { KvResult, KvStateMachine } from '@tsraft/statemachine-kv';
import type { Logger } from 'pino';
import {
  createKvOperations,
  deadlineMsOf,
  FORWARDED_BY_METADATA_KEY,
  type RequestContext,
  type RequestRunner,
  requestDeadline,
} from './kv-operations.js';
import type { ServerMetrics } from './metrics.js';
import { RequestAdmission } from './request-admission.js';
import { createSessionStreams } from './session-streams.js';

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
  /** Requests in progress at once on one Session stream; more are refused with RESOURCE_EXHAUSTED. */
  readonly maxStreamInflightRequests: number;
  /** TLS for forwarding to the leader; absent means plaintext. */
  readonly tls?: KvTlsFiles;
  readonly logger: Logger;
  readonly metrics: ServerMetrics;
}

/** The `tsraft.kv.v1.KV` service of one member. */
export interface KvService {
  /** Handlers to serve with `KV_SERVICE_DEFINITION`. */
  readonly implementation: UntypedServiceImplementation;
  /** Requests in progress (unary calls and requests on Session streams). */
  readonly inflight: number;
  /**
   * Refuses new requests (UNAVAILABLE), waits up to `maxWaitMs` for those in progress, then ends every
   * Session stream (see `createSessionStreams`); whether everything in progress finished.
   */
  drain(maxWaitMs: number): Promise<boolean>;
  /** Closes the channels to other members. */
  close(): void;
}

type Handler<Req, Res> = (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void;

/**
 * Creates the KV service of a member: the unary methods and the Session stream, both running each request
 * through the same operations (`createKvOperations`) and the same {@link RequestRunner}. Every request ends
 * by its deadline.
 */
export function createKvService(options: KvServiceOptions): KvService {
  const { nodeId, logger, metrics } = options;
  const admission = new RequestAdmission(options.maxInflightRequests);
  const operations = createKvOperations(options);

  const run: RequestRunner = <Req, Res>(
    method: string,
    request: Req,
    context: RequestContext,
    operation: (request: Req, context: RequestContext) => Promise<Res>,
  ): Promise<Res> => {
    const malformed = kvMalformedReason(request);
    if (malformed !== undefined) {
      return Promise.reject(new KvError('INVALID_ARGUMENT', `malformed ${method} request: ${malformed}`));
    }
    const error = admission.enter(nodeId);
    if (error !== undefined) {
      metrics.requestRejected(method, error.code);
      return Promise.reject(error);
    }
    const started = performance.now();
    let running: Promise<Res>;
    try {
      running = operation(request, context);
    } catch (error) {
      // An operation that throws before its first await (a bad key, say) fails like one that rejects.
      running = Promise.reject(error);
    }
    return running
      .then(
        (response) => {
          metrics.requestFinished(method, 'OK', (performance.now() - started) / 1000);
          return response;
        },
        (error: unknown) => {
          const kvError = KvError.from(error);
          if (kvError.code === 'INTERNAL') logger.error({ err: error, method }, 'request failed');
          metrics.requestFinished(method, kvError.code, (performance.now() - started) / 1000);
          throw kvError;
        },
      )
      .finally(() => admission.leave());
  };

  /** The unary handler of `method`: one request, its deadline and forwarding mark from the call. */
  const serve =
    <Req, Res>(
      method: string,
      operation: (request: Req, context: RequestContext) => Promise<Res>,
    ): Handler<Req, Res> =>
    (call, callback) => {
      const context: RequestContext = {
        deadlineMs: requestDeadline(deadlineMsOf(call.getDeadline()), options.requestTimeoutMs),
        forwarded: call.metadata.get(FORWARDED_BY_METADATA_KEY).length > 0,
      };
      run(method, call.request, context, operation).then(
        (response) => callback(null, response),
        (error: KvError) => callback(error.toStatus()),
      );
    };

  const sessions = createSessionStreams({
    nodeId,
    operations,
    run,
    requestTimeoutMs: options.requestTimeoutMs,
    maxInflightPerStream: options.maxStreamInflightRequests,
    metrics,
  });

  const implementation: UntypedServiceImplementation = {
    Put: serve('Put', operations.put),
    Get: serve('Get', operations.get),
    Delete: serve('Delete', operations.delete),
    CompareAndSwap: serve('CompareAndSwap', operations.compareAndSwap),
    OpenSession: serve('OpenSession', operations.openSession),
    Status: serve('Status', () => operations.status()),
    Session: sessions.handle,
  };

  return {
    implementation,
    get inflight() {
      return admission.size;
    },
    drain: async (maxWaitMs) => {
      admission.stop();
      const drained = await admission.drain(maxWaitMs);
      await sessions.close();
      return drained;
    },
    close: () => operations.close(),
  };
}
