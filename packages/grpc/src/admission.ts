import type { NodeId } from '@tsraft/core';

/** Bounds the server puts on each peer's traffic: the RPC side of tsraft's rate limiting. */
export interface AdmissionLimits {
  /** Calls one peer may have open at once; the next is answered RESOURCE_EXHAUSTED. Default 64. */
  readonly maxConcurrentCallsPerPeer?: number;
  /**
   * Request bytes one peer may have in flight: the requests of its open unary calls, plus the message
   * being received on each of its client streams (a reassembled snapshot is bounded by the transport's
   * `maxSnapshotBytes` instead). A message past it is answered RESOURCE_EXHAUSTED. Default 64 MiB.
   */
  readonly maxInflightBytesPerPeer?: number;
}

/** Per-peer accounting of open calls and in-flight bytes. Made by {@link createAdmission}. */
export interface Admission {
  /** Takes a call slot for `peer`; false when the peer is at its limit (nothing is taken then). */
  tryAcquireCall(peer: NodeId): boolean;
  /** Returns a call slot taken by {@link Admission.tryAcquireCall}. */
  releaseCall(peer: NodeId): void;
  /** Reserves `bytes` for `peer`; false when that would pass its limit (nothing is reserved then). */
  tryAcquireBytes(peer: NodeId, bytes: number): boolean;
  /** Returns bytes reserved by {@link Admission.tryAcquireBytes}. */
  releaseBytes(peer: NodeId, bytes: number): void;
  /** Open calls and reserved bytes of `peer`, for metrics and tests. */
  usage(peer: NodeId): { readonly calls: number; readonly bytes: number };
}

/** Default of {@link AdmissionLimits.maxConcurrentCallsPerPeer}. */
export const DEFAULT_MAX_CONCURRENT_CALLS_PER_PEER = 64;
/** Default of {@link AdmissionLimits.maxInflightBytesPerPeer}: 64 MiB. */
export const DEFAULT_MAX_INFLIGHT_BYTES_PER_PEER = 64 * 1024 * 1024;

/** Creates the per-peer {@link Admission} accounting for `limits`. */
export function createAdmission(limits: AdmissionLimits = {}): Admission {
  const maxCalls = limits.maxConcurrentCallsPerPeer ?? DEFAULT_MAX_CONCURRENT_CALLS_PER_PEER;
  const maxBytes = limits.maxInflightBytesPerPeer ?? DEFAULT_MAX_INFLIGHT_BYTES_PER_PEER;
  /** Invariant: an entry exists only while calls > 0 or bytes > 0. */
  const peers = new Map<NodeId, { calls: number; bytes: number }>();
  const get = (peer: NodeId) => {
    let usage = peers.get(peer);
    if (usage === undefined) {
      usage = { calls: 0, bytes: 0 };
      peers.set(peer, usage);
    }
    return usage;
  };
  const tidy = (peer: NodeId, usage: { calls: number; bytes: number }) => {
    if (usage.calls <= 0 && usage.bytes <= 0) peers.delete(peer);
  };
  return {
    tryAcquireCall: (peer) => {
      const usage = get(peer);
      if (usage.calls >= maxCalls) {
        tidy(peer, usage);
        return false;
      }
      usage.calls++;
      return true;
    },
    releaseCall: (peer) => {
      const usage = get(peer);
      usage.calls = Math.max(0, usage.calls - 1);
      tidy(peer, usage);
    },
    tryAcquireBytes: (peer, bytes) => {
      const usage = get(peer);
      // One message larger than the whole budget is still admitted when nothing else is in flight.
      if (usage.bytes > 0 && usage.bytes + bytes > maxBytes) {
        tidy(peer, usage);
        return false;
      }
      usage.bytes += bytes;
      return true;
    },
    releaseBytes: (peer, bytes) => {
      const usage = get(peer);
      usage.bytes = Math.max(0, usage.bytes - bytes);
      tidy(peer, usage);
    },
    usage: (peer) => {
      const usage = peers.get(peer);
      return { calls: usage?.calls ?? 0, bytes: usage?.bytes ?? 0 };
    },
  };
}
