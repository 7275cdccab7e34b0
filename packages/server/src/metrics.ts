import type { NodeStatus } from '@tsraft/core';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Latency buckets in seconds, from 0.1 ms to 10 s. */
const LATENCY_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

/** What a node reports at scrape time. */
export interface MetricsSource {
  status(): NodeStatus;
  appliedIndex(): number;
}

/**
 * The server's Prometheus metrics (prom-client), all prefixed `tsraft_`. Hot-path hooks only increment
 * counters and observe histograms; gauges of the Raft state are read from the node at scrape time.
 */
export interface ServerMetrics {
  readonly registry: Registry;
  /** Reads term, role, indexes and per-peer lag from `source` on each scrape. */
  bind(source: MetricsSource): void;
  requestFinished(method: string, code: string, seconds: number): void;
  requestRejected(method: string, code: string): void;
  proposalCommitted(seconds: number): void;
  readConfirmed(seconds: number): void;
  storageSaved(seconds: number): void;
  messageSent(type: string): void;
  leaderChanged(): void;
  /** A configuration change was applied on this node. */
  membershipChanged(): void;
}

/** Creates the metrics on a registry of their own (with Node's default process metrics). */
export function createServerMetrics(nodeId: string): ServerMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ node: nodeId });
  let source: MetricsSource | null = null;
  const status = (): NodeStatus | null => source?.status() ?? null;

  new Gauge({
    name: 'tsraft_term',
    help: 'Current Raft term.',
    registers: [registry],
    collect() {
      const s = status();
      if (s !== null) this.set(s.hardState.term);
    },
  });
  new Gauge({
    name: 'tsraft_role',
    help: 'Raft role of this node: 1 for the role it is in, 0 for the others.',
    labelNames: ['role'],
    registers: [registry],
    collect() {
      const s = status();
      if (s === null) return;
      for (const role of ['follower', 'preCandidate', 'candidate', 'leader'] as const) {
        this.set({ role }, s.role === role && !s.stopped ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'tsraft_is_leader',
    help: '1 while this node is the leader.',
    registers: [registry],
    collect() {
      const s = status();
      if (s !== null) this.set(s.role === 'leader' && !s.stopped ? 1 : 0);
    },
  });
  new Gauge({
    name: 'tsraft_commit_index',
    help: 'Highest log index known committed.',
    registers: [registry],
    collect() {
      const s = status();
      if (s !== null) this.set(s.hardState.commit);
    },
  });
  new Gauge({
    name: 'tsraft_applied_index',
    help: 'Highest log index applied to the state machine.',
    registers: [registry],
    collect() {
      if (source !== null) this.set(source.appliedIndex());
    },
  });
  new Gauge({
    name: 'tsraft_last_log_index',
    help: 'Index of the last entry in the log.',
    registers: [registry],
    collect() {
      const s = status();
      if (s !== null) this.set(s.lastIndex);
    },
  });
  new Gauge({
    name: 'tsraft_peer_replication_lag_entries',
    help: "On the leader: entries between the leader's last index and each peer's match index.",
    labelNames: ['peer'],
    registers: [registry],
    collect() {
      this.reset();
      const s = status();
      if (s?.progress === null || s === null) return;
      for (const [peer, progress] of s.progress) {
        if (peer !== s.id) this.set({ peer }, Math.max(0, s.lastIndex - progress.match));
      }
    },
  });
  new Gauge({
    name: 'tsraft_members',
    help: 'Members of the configuration this node applied, by role (voter, learner, outgoing_voter).',
    labelNames: ['role'],
    registers: [registry],
    collect() {
      const s = status();
      if (s === null) return;
      const outgoing = (s.conf.votersOutgoing ?? []).filter((id) => !s.conf.voters.includes(id));
      this.set({ role: 'voter' }, s.conf.voters.length);
      this.set({ role: 'learner' }, s.conf.learners.length);
      this.set({ role: 'outgoing_voter' }, outgoing.length);
    },
  });
  const membershipChanges = new Counter({
    name: 'tsraft_membership_changes_total',
    help: 'Configuration entries (membership changes) applied by this node.',
    registers: [registry],
  });
  const leaderChanges = new Counter({
    name: 'tsraft_leader_changes_total',
    help: 'Changes of the leader this node knows of.',
    registers: [registry],
  });
  const requests = new Histogram({
    name: 'tsraft_kv_request_duration_seconds',
    help: 'KV requests served by this node, by method and outcome.',
    labelNames: ['method', 'code'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'tsraft_kv_requests_rejected_total',
    help: 'KV requests refused before any work (admission control, shutdown).',
    labelNames: ['method', 'code'],
    registers: [registry],
  });
  const proposals = new Histogram({
    name: 'tsraft_proposal_duration_seconds',
    help: 'From proposing an entry on the leader to its result from the state machine.',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const reads = new Histogram({
    name: 'tsraft_read_index_duration_seconds',
    help: 'From asking for a read index to the state machine reaching it.',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const saves = new Histogram({
    name: 'tsraft_storage_save_duration_seconds',
    help: 'One durable write of the log (write + fdatasync, group-committed).',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const messages = new Counter({
    name: 'tsraft_messages_sent_total',
    help: 'Raft messages handed to the transport, by type (type="snapshot" counts snapshot sends).',
    labelNames: ['type'],
    registers: [registry],
  });

  return {
    registry,
    bind: (s) => {
      source = s;
    },
    requestFinished: (method, code, seconds) => requests.observe({ method, code }, seconds),
    requestRejected: (method, code) => rejected.inc({ method, code }),
    proposalCommitted: (seconds) => proposals.observe(seconds),
    readConfirmed: (seconds) => reads.observe(seconds),
    storageSaved: (seconds) => saves.observe(seconds),
    messageSent: (type) => messages.inc({ type }),
    leaderChanged: () => leaderChanges.inc(),
    membershipChanged: () => membershipChanges.inc(),
  };
}
