import type { Message, NodeId } from '@tsraft/core';
import type { SimEvent } from './sim-events.js';

/** Options of {@link TraceRecorder}. */
export interface TraceOptions {
  /** How many of the latest records to keep for failure reports. Default 60. */
  readonly capacity?: number;
  /** Keep every record (for `--trace`). Default `false`. */
  readonly full?: boolean;
}

const KIND_CODE = { tick: 1, deliver: 2, persist: 3, report: 4, request: 5, call: 6 } as const;
const MESSAGE_CODE: Record<Message['type'], number> = {
  vote: 1,
  voteResponse: 2,
  append: 3,
  appendResponse: 4,
  heartbeat: 5,
  heartbeatResponse: 6,
  snapshot: 7,
  timeoutNow: 8,
  readIndex: 9,
  readIndexResponse: 10,
};

/**
 * The event log of a run: the last few records (for failure reports) or all of them, plus a running digest
 * of every processed event, so two runs can be compared for determinism with one string.
 * Recording an event costs a few integer operations; text is rendered only when asked for.
 */
export class TraceRecorder {
  private readonly capacity: number;
  private readonly full: boolean;
  private readonly times: number[] = [];
  private readonly steps: number[] = [];
  private readonly items: (SimEvent | string)[] = [];
  private head = 0;
  private h1 = 0x811c9dc5;
  private h2 = 0x01000193;
  private recorded = 0;

  constructor(
    private readonly nodeIds: readonly NodeId[],
    options: TraceOptions = {},
  ) {
    this.full = options.full ?? false;
    this.capacity = this.full ? Number.POSITIVE_INFINITY : Math.max(1, options.capacity ?? 60);
  }

  /** Records one processed event. */
  record(time: number, step: number, event: SimEvent): void {
    this.recorded++;
    this.mix(KIND_CODE[event.kind]);
    this.mix(time);
    switch (event.kind) {
      case 'tick':
      case 'persist':
        this.mix(event.node);
        this.mix(event.gen);
        break;
      case 'report':
        this.mix(event.node);
        this.mix(event.report.length);
        break;
      case 'request':
        this.mix(event.node);
        this.mix(event.request.kind.length);
        break;
      case 'call':
        this.mix(event.code);
        break;
      case 'deliver':
        this.mix(event.from * 64 + event.to);
        this.mixMessage(event.message);
        break;
    }
    this.push(time, step, event);
  }

  /** Records a line of commentary (a fault, a role change); it is part of the log but not of the digest. */
  note(time: number, step: number, text: string): void {
    this.push(time, step, text);
  }

  /** A 64-bit hex digest of every event recorded so far. */
  get digest(): string {
    return (this.h1 >>> 0).toString(16).padStart(8, '0') + (this.h2 >>> 0).toString(16).padStart(8, '0');
  }

  /** Number of events recorded (notes excluded). */
  get eventCount(): number {
    return this.recorded;
  }

  /** The kept records, oldest first, as text (the last `limit` of them when given). */
  lines(limit = Number.POSITIVE_INFINITY): string[] {
    const n = this.items.length;
    const count = Math.min(n, limit);
    const out: string[] = [];
    for (let k = n - count; k < n; k++) {
      const i = this.full || n < this.capacity ? k : (this.head + k) % n;
      const item = this.items[i]!;
      const text = typeof item === 'string' ? `  ${item}` : formatEvent(item, this.nodeIds);
      out.push(`${String(this.times[i]).padStart(7)}ms #${String(this.steps[i]).padEnd(6)} ${text}`);
    }
    return out;
  }

  private push(time: number, step: number, item: SimEvent | string): void {
    if (this.items.length < this.capacity) {
      this.items.push(item);
      this.times.push(time);
      this.steps.push(step);
      return;
    }
    this.items[this.head] = item;
    this.times[this.head] = time;
    this.steps[this.head] = step;
    this.head = (this.head + 1) % this.items.length;
  }

  private mixMessage(m: Message): void {
    this.mix(MESSAGE_CODE[m.type]);
    this.mix(m.term);
    switch (m.type) {
      case 'append':
        this.mix(m.prevLogIndex);
        this.mix(m.prevLogTerm);
        this.mix(m.entries.length);
        this.mix(m.commit);
        break;
      case 'appendResponse':
        this.mix(m.index);
        this.mix(m.reject ? 1 : 0);
        this.mix(m.rejectHintIndex);
        break;
      case 'vote':
        this.mix(m.lastLogIndex);
        this.mix(m.preVote ? 1 : 0);
        break;
      case 'voteResponse':
        this.mix(m.granted ? 1 : 0);
        break;
      case 'heartbeat':
        this.mix(m.commit);
        this.mix(m.context);
        break;
      case 'snapshot':
        this.mix(m.snapshot.meta.index);
        break;
      default:
        break;
    }
  }

  private mix(x: number): void {
    const v = x | 0;
    this.h1 = Math.imul(this.h1 ^ v, 0x01000193);
    this.h2 = Math.imul(this.h2 ^ (v + 0x9e3779b9), 0x85ebca6b) ^ (this.h2 >>> 13);
  }
}

/** Renders one event as a line of the trace. */
export function formatEvent(event: SimEvent, nodeIds: readonly NodeId[]): string {
  const id = (i: number): string => nodeIds[i] ?? `#${i}`;
  switch (event.kind) {
    case 'tick':
      return `tick ${id(event.node)}`;
    case 'persist':
      return `${id(event.node)} write durable`;
    case 'report':
      return `${id(event.node)} transport reports ${event.report} for ${event.peer}`;
    case 'request':
      return `${id(event.node)} receives a client ${event.request.kind}`;
    case 'call':
      return typeof event.label === 'string' ? event.label : event.label();
    case 'deliver':
      return `deliver ${formatMessage(event.message)}${event.duplicate ? ' (duplicate)' : ''}`;
  }
}

/** Renders a Raft message compactly, e.g. `n1→n2 append t3 prev=(5,t2) entries=[6..8] commit=5`. */
export function formatMessage(m: Message): string {
  const head = `${m.from}→${m.to} ${m.type} t${m.term}`;
  switch (m.type) {
    case 'vote':
      return `${head}${m.preVote ? ' pre' : ''} last=(${m.lastLogIndex},t${m.lastLogTerm})${m.leadershipTransfer ? ' transfer' : ''}`;
    case 'voteResponse':
      return `${head}${m.preVote ? ' pre' : ''} ${m.granted ? 'granted' : 'rejected'}`;
    case 'append': {
      const n = m.entries.length;
      const range = n === 0 ? '[]' : `[${m.entries[0]!.index}..${m.entries[n - 1]!.index}]`;
      return `${head} prev=(${m.prevLogIndex},t${m.prevLogTerm}) entries=${range} commit=${m.commit}`;
    }
    case 'appendResponse':
      return m.reject
        ? `${head} reject index=${m.index} hint=(${m.rejectHintIndex},t${m.rejectHintTerm})`
        : `${head} ok index=${m.index} commit=${m.commit}`;
    case 'heartbeat':
      return `${head} commit=${m.commit}${m.context === 0 ? '' : ` ctx=${m.context}`}`;
    case 'heartbeatResponse':
      return `${head} commit=${m.commit}${m.context === 0 ? '' : ` ctx=${m.context}`}`;
    case 'snapshot':
      return `${head} snapshot=(${m.snapshot.meta.index},t${m.snapshot.meta.term})`;
    case 'timeoutNow':
      return head;
    case 'readIndex':
      return `${head} req=${m.requestId}`;
    case 'readIndexResponse':
      return `${head} req=${m.requestId} index=${m.index}`;
  }
}
