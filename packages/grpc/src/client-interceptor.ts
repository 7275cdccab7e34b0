import { InterceptingCall, type Interceptor, type Metadata, status } from '@grpc/grpc-js';
import type { NodeId } from '@tsraft/core';
import { emitMetric, type GrpcLogger, type GrpcMetrics } from './observability.js';
import { CLUSTER_ID_METADATA_KEY, NODE_ID_METADATA_KEY } from './peer-identity.js';
import { TransportError } from './transport-error.js';

/** Options of {@link createClientInterceptor}. */
export interface ClientInterceptorOptions {
  /** The caller's cluster id, sent in metadata. */
  readonly clusterId: string;
  /** The caller's node id, sent in metadata. */
  readonly nodeId: NodeId;
  /** The peer this client calls, for logs and metrics. */
  readonly peer: NodeId | null;
  readonly logger?: GrpcLogger;
  readonly metrics?: GrpcMetrics;
}

/**
 * A grpc-js client interceptor that stamps every call with the caller's cluster and node id, and logs and
 * measures its outcome (debug level for success, warn for failures other than cancellation).
 */
export function createClientInterceptor(options: ClientInterceptorOptions): Interceptor {
  const { clusterId, nodeId, peer, logger, metrics } = options;
  return (callOptions, nextCall) => {
    const started = performance.now();
    const method = callOptions.method_definition.path;
    return new InterceptingCall(nextCall(callOptions), {
      start: (metadata: Metadata, _listener, next) => {
        metadata.set(CLUSTER_ID_METADATA_KEY, clusterId);
        metadata.set(NODE_ID_METADATA_KEY, nodeId);
        next(metadata, {
          onReceiveStatus: (s, nextStatus) => {
            const durationMs = performance.now() - started;
            const outcome = s.code === status.OK ? 'OK' : TransportError.from(s).code;
            emitMetric(metrics?.onCallFinished, { side: 'client', method, peer, outcome, durationMs });
            if (outcome === 'OK') logger?.debug({ method, peer, durationMs }, 'call ok');
            else if (outcome === 'SHUTTING_DOWN') {
              // A peer shutting down ends our calls to it: expected, not a fault.
              logger?.info({ method, peer, durationMs }, 'call ended: the peer is shutting down');
            } else if (outcome !== 'CANCELLED') {
              logger?.warn({ method, peer, outcome, details: s.details, durationMs }, 'call failed');
            }
            nextStatus(s);
          },
        });
      },
    });
  };
}
