import {
  type Metadata,
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  status,
} from '@grpc/grpc-js';
import type { NodeId } from '@tsraft/core';
import type { Admission } from './admission.js';
import { emitMetric, type GrpcLogger, type GrpcMetrics } from './observability.js';
import { checkCaller, type PeerPolicy } from './peer-identity.js';
import { malformedReason, RAFT_SERVICE_NAME, wireSizeOf } from './raft-service.js';
import { TransportError } from './transport-error.js';

/** An open Raft call, as the server's shutdown sees it. */
export interface OpenCall {
  /** Whether the call is a bidirectional stream (it never ends on its own). */
  readonly bidi: boolean;
  /** Ends the call now with `error`'s status. */
  end(error: TransportError): void;
}

/** Options of {@link createServerInterceptor}. */
export interface ServerInterceptorOptions {
  readonly policy: PeerPolicy;
  readonly admission: Admission;
  readonly logger: GrpcLogger;
  readonly metrics?: GrpcMetrics;
  /** Every Raft call in progress; the interceptor adds and removes them. */
  readonly openCalls: Set<OpenCall>;
  /** Whether the server is draining: new Raft calls are answered UNAVAILABLE (`SHUTTING_DOWN`). */
  readonly draining: () => boolean;
}

/**
 * The server interceptor of every Raft call (other services pass through untouched): rejects callers
 * from another cluster (FAILED_PRECONDITION) or not in the membership (PERMISSION_DENIED), malformed
 * bytes (INVALID_ARGUMENT), and calls or bytes past the caller's admission limits (RESOURCE_EXHAUSTED);
 * logs and measures each call; tracks open calls for graceful shutdown.
 */
export function createServerInterceptor(options: ServerInterceptorOptions): ServerInterceptor {
  const { policy, admission, logger, metrics, openCalls, draining } = options;
  const prefix = `/${RAFT_SERVICE_NAME}/`;
  return (definition, call: ServerInterceptingCallInterface) => {
    const method = definition.path;
    if (!method.startsWith(prefix)) return new ServerInterceptingCall(call);
    const bidi = definition.requestStream && definition.responseStream;
    const started = performance.now();
    let peer: NodeId | null = null;
    let holdsCall = false;
    let heldBytes = 0;
    let finished = false;

    const release = (): void => {
      if (peer !== null && holdsCall) admission.releaseCall(peer);
      if (peer !== null && heldBytes > 0) admission.releaseBytes(peer, heldBytes);
      holdsCall = false;
      heldBytes = 0;
      openCalls.delete(open);
    };
    const finish = (outcome: 'OK' | TransportError): void => {
      if (finished) return;
      finished = true;
      release();
      const durationMs = performance.now() - started;
      const code = outcome === 'OK' ? 'OK' : outcome.code;
      emitMetric(metrics?.onCallFinished, { side: 'server', method, peer, outcome: code, durationMs });
      if (outcome === 'OK') logger.debug({ method, peer, durationMs }, 'call served');
      else if (code === 'SHUTTING_DOWN') {
        // This server ending its own calls on shutdown: expected, not a fault.
        logger.info({ method, peer, durationMs }, 'call ended: shutting down');
      } else if (code !== 'CANCELLED') {
        logger.warn({ method, peer, code, reason: outcome.message, durationMs }, 'call failed');
      }
    };
    const reject = (error: TransportError): void => {
      emitMetric(metrics?.onCallRejected, method, peer, error.code);
      intercepting.sendStatus(error.toStatus());
    };
    const open: OpenCall = { bidi, end: (error) => intercepting.sendStatus(error.toStatus()) };

    const intercepting: ServerInterceptingCall = new ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata: Metadata, nextMetadata) => {
            if (draining()) return reject(new TransportError('SHUTTING_DOWN', 'the node is shutting down'));
            try {
              peer = checkCaller(metadata, policy);
            } catch (error) {
              return reject(TransportError.from(error));
            }
            if (!admission.tryAcquireCall(peer)) {
              return reject(new TransportError('OVERLOADED', `too many concurrent calls from ${peer}`));
            }
            holdsCall = true;
            openCalls.add(open);
            nextMetadata(metadata);
          },
          onReceiveMessage: (message: unknown, nextMessage) => {
            if (finished) return;
            const reason = malformedReason(message);
            if (reason !== undefined) {
              return reject(new TransportError('MALFORMED', `request is not a valid message: ${reason}`));
            }
            const bytes = wireSizeOf(message);
            // A bidi stream's messages are handed on one by one; its bytes are bounded by HTTP/2 flow control.
            if (!bidi && peer !== null) {
              // A client stream holds one message at a time here: the previous one was handed on, and
              // what the handler keeps of it (a snapshot being reassembled) is bounded by the handler.
              if (definition.requestStream && heldBytes > 0) {
                admission.releaseBytes(peer, heldBytes);
                heldBytes = 0;
              }
              if (!admission.tryAcquireBytes(peer, bytes)) {
                return reject(new TransportError('OVERLOADED', `too many bytes in flight from ${peer}`));
              }
              heldBytes += bytes;
            }
            nextMessage(message);
          },
          onCancel: () => finish(new TransportError('CANCELLED', 'the caller cancelled')),
        });
      },
      sendStatus: (s: Parameters<ServerInterceptingCallInterface['sendStatus']>[0], nextStatus) => {
        finish(
          s.code === status.OK
            ? 'OK'
            : TransportError.fromStatus({
                code: s.code ?? status.UNKNOWN,
                details: s.details ?? '',
                ...(s.metadata ? { metadata: s.metadata } : {}),
              }),
        );
        nextStatus(s);
      },
    });
    return intercepting;
  };
}
