import type { NodeId } from '@tsraft/core';
import type { NodeRequest, RequestOutcome } from './node-request.js';
import type { Simulation } from './simulation.js';
import type { ClientOperation, SimRequest, SimWorkload } from './workload.js';

/** Options of {@link ClientPool}. Times are virtual milliseconds. */
export interface ClientOptions {
  /** Number of concurrent clients. Default 3. */
  readonly count?: number;
  /** A request not answered within this long gets an unknown outcome. Default 1000. */
  readonly requestTimeoutMs?: number;
  /** Pause between a client's requests, uniform in `[min, max]`. Default `[0, 20]`. */
  readonly thinkTimeMs?: readonly [number, number];
  /** One-way latency between a client and a node, uniform in `[min, max]`. Default `[1, 3]`. */
  readonly latencyMs?: readonly [number, number];
}

/** The liveness probe's progress: a fresh write retried until it is acknowledged. */
export interface ProbeState {
  /** The acknowledged operation, once there is one. */
  readonly succeeded: ClientOperation | null;
  /** Attempts so far. */
  readonly attempts: number;
}

const CODE_ISSUE = 200;
const CODE_REPLY = 201;
const CODE_TIMEOUT = 202;
const CODE_PROBE = 203;

/**
 * Simulated clients running a {@link SimWorkload} against the cluster, recording the history that is checked
 * at the end. Each client has one request in flight; it sends to the node it believes leads (learned from
 * `NOT_LEADER` answers), gives up after a deadline (outcome unknown) and then tries another node.
 * A proposal is answered when its entry is applied on the node it was sent to; a read once that node's
 * state machine reaches the read index.
 */
export class ClientPool {
  /** Every operation issued, in issue order. */
  readonly history: ClientOperation[] = [];
  private readonly count: number;
  private readonly timeoutMs: number;
  private readonly think: readonly [number, number];
  private readonly latency: readonly [number, number];
  private readonly target: number[];
  private issuing = false;
  private inFlight = 0;

  constructor(
    private readonly sim: Simulation,
    private readonly workload: SimWorkload,
    options: ClientOptions = {},
  ) {
    this.count = options.count ?? 3;
    this.timeoutMs = options.requestTimeoutMs ?? 1000;
    this.think = options.thinkTimeMs ?? [0, 20];
    this.latency = options.latencyMs ?? [1, 3];
    this.target = Array.from({ length: this.count }, () => this.randomNode());
  }

  /** Operations still waiting for an answer. */
  get pending(): number {
    return this.inFlight;
  }

  /** Starts every client. */
  start(): void {
    this.issuing = true;
    for (let c = 0; c < this.count; c++) this.scheduleIssue(c);
  }

  /** Stops issuing new requests; those in flight still finish (answered or timed out). */
  stop(): void {
    this.issuing = false;
  }

  /**
   * Starts the liveness probe: one fresh write, retried (at the leader a refusal names, else at the next node)
   * until a node acknowledges it. Each attempt is part of the history. Returns its progress, updated in place.
   */
  startProbe(timeoutMs: number): ProbeState {
    const probe = { succeeded: null as ClientOperation | null, attempts: 0 };
    let node = this.randomNode();
    const attempt = (): void => {
      probe.attempts++;
      if (!this.sim.isPresent(this.sim.nodeIds[node]!)) node = this.nextNode(node);
      this.send(-1, this.workload.probeRequest(this.sim.random), node, timeoutMs, (op, leader) => {
        if (op.status === 'ok') {
          probe.succeeded = op;
          return;
        }
        // A hint naming a node no longer in the cluster (a stale follower's) is not followed.
        node =
          leader !== null && this.sim.isPresent(this.sim.nodeIds[leader]!) ? leader : this.nextNode(node);
        this.sim.schedule(this.sim.random.int(1, 10), CODE_PROBE, 'probe retries', attempt);
      });
    };
    attempt();
    return probe;
  }

  private scheduleIssue(client: number): void {
    const delay = this.sim.random.int(this.think[0], this.think[1]);
    this.sim.schedule(
      delay,
      CODE_ISSUE,
      () => `client ${client} issues a request`,
      () => this.issue(client),
    );
  }

  private issue(client: number): void {
    if (!this.issuing) return;
    // A removed node never answers again: ask another.
    if (!this.sim.isPresent(this.sim.nodeIds[this.target[client]!]!)) this.target[client] = this.randomNode();
    const request = this.workload.nextRequest(client, this.sim.random);
    this.send(client, request, this.target[client]!, this.timeoutMs, (op, leader) => {
      if (op.status === 'ok') {
        // keep the node that answered
      } else if (leader !== null) {
        this.target[client] = leader;
      } else {
        this.target[client] = this.randomNode();
      }
      if (this.issuing) this.scheduleIssue(client);
    });
  }

  /** Sends one request and records it; `done` runs once, with the index of a leader hint if any. */
  private send(
    client: number,
    request: SimRequest,
    node: number,
    timeoutMs: number,
    done: (op: ClientOperation, leader: number | null) => void,
  ): void {
    const sim = this.sim;
    const nodeId = sim.nodeIds[node]!;
    const op: ClientOperation = {
      id: this.history.length,
      client,
      request,
      node: nodeId,
      call: sim.now,
      return: Number.POSITIVE_INFINITY,
      callStep: sim.steps,
      returnStep: Number.POSITIVE_INFINITY,
      status: 'pending',
      result: undefined,
      index: null,
      failure: null,
    };
    this.history.push(op);
    this.inFlight++;
    let settled = false;
    const finish = (outcome: RequestOutcome | null): void => {
      if (settled) return;
      settled = true;
      timer.cancelled = true;
      this.inFlight--;
      op.return = sim.now;
      op.returnStep = sim.steps;
      let leader: number | null = null;
      if (outcome === null) {
        op.status = 'unknown';
      } else if (outcome.status === 'ok') {
        op.status = 'ok';
        op.result = outcome.result;
        op.index = outcome.index;
      } else if (outcome.status === 'failed') {
        op.status = 'failed';
        op.failure = outcome.code;
        leader = outcome.leader === null ? null : this.indexOf(outcome.leader);
      } else {
        op.status = 'unknown';
      }
      this.workload.observe?.(op);
      done(op, leader);
    };
    const timer = sim.schedule(
      timeoutMs,
      CODE_TIMEOUT,
      () => `client ${client} gives up on op ${op.id}`,
      () => finish(null),
    );
    const onOutcome = (outcome: RequestOutcome): void => {
      // A crash is invisible to the client: it just never hears back and times out.
      if (outcome.status === 'unknown') return;
      sim.schedule(
        this.latencyDraw(),
        CODE_REPLY,
        () => `client ${client} gets ${outcome.status} for op ${op.id} from ${nodeId}`,
        () => finish(outcome),
      );
    };
    const nodeRequest: NodeRequest =
      request.kind === 'propose'
        ? { kind: 'propose', command: request.command, onOutcome }
        : { kind: 'read', query: request.query, onOutcome };
    sim.submit(nodeId, nodeRequest, this.latencyDraw());
  }

  /** The position of a random node of the cluster (started and not removed). */
  private randomNode(): number {
    const present = this.sim.presentNodeIds();
    if (present.length === 0) return this.sim.random.int(0, this.sim.nodeIds.length - 1);
    return this.sim.nodeIds.indexOf(this.sim.random.pick(present));
  }

  /** The position of the next node of the cluster after position `node`, in id order. */
  private nextNode(node: number): number {
    const ids = this.sim.nodeIds;
    for (let k = 1; k <= ids.length; k++) {
      const i = (node + k) % ids.length;
      if (this.sim.isPresent(ids[i]!)) return i;
    }
    return node;
  }

  private latencyDraw(): number {
    return this.sim.random.int(this.latency[0], this.latency[1]);
  }

  private indexOf(id: NodeId): number | null {
    const i = this.sim.nodeIds.indexOf(id);
    return i < 0 ? null : i;
  }
}
