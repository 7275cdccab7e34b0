import type { Entry, NodeId } from '../entry.js';
import { MemoryStorage } from '../memory/memory-storage.js';
import type { Message } from '../message.js';
import type { UnsafeFaults } from '../raft.js';
import { RawNode } from '../raw-node.js';
import type { ReadState } from '../ready.js';

/** Options of {@link TestCluster}. */
export interface TestClusterOptions {
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  readonly electionTicks?: number;
  readonly maxInflightMessages?: number;
  readonly maxUncommittedBytes?: number;
  readonly maxMessageBytes?: number;
  readonly faults?: UnsafeFaults;
}

/** One member of a {@link TestCluster}. */
export interface TestMember {
  node: RawNode;
  readonly storage: MemoryStorage;
  readonly applied: Entry[];
  readonly readStates: ReadState[];
}

/**
 * A synchronous, in-process network of RawNodes for unit tests (in the spirit of etcd's test network):
 * messages are delivered in FIFO order unless a link is cut, and every Ready is persisted at once.
 */
export class TestCluster {
  readonly members = new Map<NodeId, TestMember>();
  private queue: Message[] = [];
  private readonly cutLinks = new Set<string>();
  /** Messages dropped by the filter are never delivered. */
  dropIf: (m: Message) => boolean = () => false;
  /** Every message that was sent, in order. */
  readonly sent: Message[] = [];

  constructor(
    readonly ids: readonly NodeId[],
    private readonly options: TestClusterOptions = {},
  ) {
    let seed = 1;
    for (const id of ids) {
      const storage = new MemoryStorage({ conf: { voters: ids, learners: [] } });
      this.members.set(id, { node: this.newNode(id, storage, seed++), storage, applied: [], readStates: [] });
    }
  }

  private newNode(id: NodeId, storage: MemoryStorage, seed: number): RawNode {
    const config = {
      id,
      storage,
      randomSeed: seed,
      electionTicks: this.options.electionTicks ?? 10,
      heartbeatTicks: 1,
      preVote: this.options.preVote ?? true,
      checkQuorum: this.options.checkQuorum ?? true,
      ...(this.options.maxInflightMessages === undefined
        ? {}
        : { maxInflightMessages: this.options.maxInflightMessages }),
      ...(this.options.maxUncommittedBytes === undefined
        ? {}
        : { maxUncommittedBytes: this.options.maxUncommittedBytes }),
      ...(this.options.maxMessageBytes === undefined
        ? {}
        : { maxMessageBytes: this.options.maxMessageBytes }),
    };
    return this.options.faults === undefined
      ? new RawNode(config)
      : RawNode.withFaults(config, this.options.faults);
  }

  member(id: NodeId): TestMember {
    const m = this.members.get(id);
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  }

  node(id: NodeId): RawNode {
    return this.member(id).node;
  }

  /**
   * Starts a brand-new node `id` with empty storage and an empty membership (it knows no one and never
   * campaigns), as a server joining a running cluster does; it learns the membership from the log.
   */
  addNode(id: NodeId, seed = 50): TestMember {
    if (this.members.has(id)) throw new Error(`${id} exists`);
    const storage = new MemoryStorage({ conf: { voters: [], learners: [] } });
    const member = { node: this.newNode(id, storage, seed), storage, applied: [], readStates: [] };
    this.members.set(id, member);
    return member;
  }

  /** Restarts `id` from its durable storage, losing its volatile state (and its unapplied place). */
  restart(id: NodeId, seed = 99): void {
    const m = this.member(id);
    m.node = this.newNode(id, m.storage, seed);
    m.applied.length = 0;
  }

  /** Handles every pending Ready and delivers every queued message until nothing moves. */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      let moved = false;
      for (const [id, m] of this.members) {
        if (this.isolated.has(id)) continue;
        while (m.node.hasReady()) {
          moved = true;
          this.handleReady(m);
        }
      }
      const batch = this.queue;
      this.queue = [];
      for (const msg of batch) {
        moved = true;
        const target = this.members.get(msg.to);
        if (target === undefined || this.isolated.has(msg.to) || this.isolated.has(msg.from)) continue;
        if (this.cutLinks.has(`${msg.from}>${msg.to}`) || this.dropIf(msg)) continue;
        target.node.step(msg);
      }
      if (!moved) return;
    }
    throw new Error('cluster did not stabilize');
  }

  private handleReady(m: TestMember): void {
    const ready = m.node.ready();
    this.enqueue(ready.messages);
    m.storage.saveSync({
      hardState: ready.hardState,
      entries: ready.entries,
      snapshot: ready.snapshot,
      sync: ready.mustSync,
    });
    this.enqueue(ready.persistedMessages);
    for (const entry of ready.committedEntries) m.applied.push(entry);
    for (const rs of ready.readStates) m.readStates.push(rs);
    m.node.advance(ready);
  }

  private enqueue(messages: readonly Message[]): void {
    for (const msg of messages) {
      this.sent.push(msg);
      this.queue.push(msg);
    }
  }

  private readonly isolated = new Set<NodeId>();

  /** Drops every message to and from `id` (it keeps running). */
  isolate(id: NodeId): void {
    this.isolated.add(id);
  }

  /** Drops messages from `a` to `b` and back. */
  cut(a: NodeId, b: NodeId): void {
    this.cutLinks.add(`${a}>${b}`);
    this.cutLinks.add(`${b}>${a}`);
  }

  /** Restores every link. */
  heal(): void {
    this.isolated.clear();
    this.cutLinks.clear();
  }

  /** Ticks every non-isolated node `n` times, stabilizing after each tick. */
  tick(n = 1, only?: readonly NodeId[]): void {
    for (let i = 0; i < n; i++) {
      for (const id of only ?? this.ids) this.member(id).node.tick();
      this.stabilize();
    }
  }

  /** Makes `id` campaign and runs the election to completion. */
  elect(id: NodeId): void {
    this.node(id).campaign();
    this.stabilize();
  }

  /** The ids currently leading, one per node that believes it leads. */
  leaders(): NodeId[] {
    return this.ids.filter((id) => this.node(id).status().role === 'leader');
  }

  /** Proposes `text` on `id` and stabilizes. */
  propose(id: NodeId, text: string): { index: number; term: number } {
    const ticket = this.node(id).propose(new TextEncoder().encode(text));
    this.stabilize();
    return ticket;
  }

  /** The user commands `id` has applied, decoded. */
  appliedText(id: NodeId): string[] {
    return this.member(id)
      .applied.filter((e) => e.type === 'normal')
      .map((e) => new TextDecoder().decode(e.data));
  }
}
