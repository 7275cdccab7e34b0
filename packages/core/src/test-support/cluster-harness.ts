// Helpers for the driver tests: an in-memory cluster of real nodes. This file has no tests of its own.
import type { ConfState } from '../conf-state.js';
import type { NodeId } from '../entry.js';
import { MemoryStorage } from '../memory/memory-storage.js';
import { createMemoryNetwork, type MemoryNetwork } from '../memory/memory-transport.js';
import type { LogStorage, StorageUpdate } from '../node/log-storage.js';
import { createNode, type RaftNode } from '../node/node.js';
import type { NodeLogger } from '../node/node-logger.js';
import type { NodeOptions } from '../node/node-options.js';
import type { AppliedCommand, StateMachine } from '../node/state-machine.js';
import type { SnapshotMeta } from '../snapshot.js';
import type { SnapshotData } from '../snapshot-data.js';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Encodes a test command. */
export const cmd = (text: string): Uint8Array => encoder.encode(text);

/** A state machine that records the commands it applies; `apply` returns `"<index>:<command>"`. */
export class RecordingMachine implements StateMachine<string> {
  commands: string[] = [];
  appliedIndex = 0;
  /** How many times a snapshot replaced the state. */
  restores = 0;
  /** When set, `apply` throws this. */
  failWith: Error | null = null;
  private waiters: { count: number; resolve: () => void }[] = [];

  apply(command: AppliedCommand): string {
    if (this.failWith !== null) throw this.failWith;
    const text = decoder.decode(command.data);
    this.commands.push(text);
    this.appliedIndex = command.index;
    this.notify();
    return `${command.index}:${text}`;
  }

  private notify(): void {
    this.waiters = this.waiters.filter((w) => {
      if (this.commands.length < w.count) return true;
      w.resolve();
      return false;
    });
  }

  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify(this.commands));
  }

  restore(data: SnapshotData, meta: SnapshotMeta): void {
    this.commands = data.byteLength === 0 ? [] : (JSON.parse(decoder.decode(data.toBytes())) as string[]);
    this.appliedIndex = meta.index;
    this.restores++;
    this.notify();
  }

  /** Resolves once at least `count` commands are applied. */
  whenApplied(count: number): Promise<void> {
    if (this.commands.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }
}

/** A MemoryStorage whose `save` can be made to fail. */
export class FaultyStorage extends MemoryStorage {
  failSaves = false;
  saves = 0;

  override async save(update: StorageUpdate): Promise<void> {
    if (this.failSaves) throw new Error('injected disk failure');
    this.saves++;
    return super.save(update);
  }
}

type LogLine = { level: string; message: string; fields: Readonly<Record<string, unknown>> | undefined };

/** A logger that keeps what it is told, and lets a test await a line. */
export class MemoryLogger implements NodeLogger {
  readonly lines: LogLine[] = [];
  private waiters: { match: (line: LogLine) => boolean; resolve: () => void }[] = [];

  /** Resolves at the first logged line (from now on) that `match` accepts. */
  next(match: (line: LogLine) => boolean): Promise<void> {
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }
  debug(message: string, fields?: Readonly<Record<string, unknown>>): void {
    this.push({ level: 'debug', message, fields });
  }
  info(message: string, fields?: Readonly<Record<string, unknown>>): void {
    this.push({ level: 'info', message, fields });
  }
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void {
    this.push({ level: 'warn', message, fields });
  }
  error(message: string, fields?: Readonly<Record<string, unknown>>): void {
    this.push({ level: 'error', message, fields });
  }
  private push(line: LogLine): void {
    this.lines.push(line);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(line)) return true;
      w.resolve();
      return false;
    });
  }
}

/** Rejects with a clear message if `promise` does not settle within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  readonly ids?: readonly NodeId[];
  readonly tickIntervalMs?: number;
  /** Extra node options (for example `electionTicks`). */
  readonly node?: Partial<Omit<NodeOptions<string>, 'id' | 'storage' | 'transport' | 'stateMachine'>>;
}

/** Generous bound for waits: a busy 2-core CI box may be slow, but a hang must still fail. */
export const WAIT_MS = 10_000;

/** A running in-memory cluster of {@link RecordingMachine} nodes. */
export class TestCluster {
  readonly network: MemoryNetwork = createMemoryNetwork();
  readonly nodes = new Map<NodeId, RaftNode<string>>();
  readonly machines = new Map<NodeId, RecordingMachine>();
  readonly storages = new Map<NodeId, FaultyStorage>();
  readonly loggers = new Map<NodeId, MemoryLogger>();

  constructor(private readonly options: ClusterOptions = {}) {
    const ids = options.ids ?? ['n1', 'n2', 'n3'];
    ids.forEach((id, i) => {
      this.makeNode(id, { voters: [...ids], learners: [] }, 1000 + i);
    });
  }

  /**
   * Creates (does not start) a node with empty storage and an empty membership, as a server joining a
   * running cluster is; it learns the membership from the leader once it is added.
   */
  addNode(id: NodeId): RaftNode<string> {
    return this.makeNode(id, { voters: [], learners: [] }, 2000 + this.nodes.size);
  }

  private makeNode(id: NodeId, conf: ConfState, seed: number): RaftNode<string> {
    const storage = new FaultyStorage({ conf });
    const machine = new RecordingMachine();
    const logger = new MemoryLogger();
    const node = createNode<string>({
      ...this.options.node,
      id,
      storage: storage as LogStorage,
      transport: this.network.transport(id),
      stateMachine: machine,
      tickIntervalMs: this.options.tickIntervalMs ?? 10,
      randomSeed: seed,
      logger,
    });
    this.nodes.set(id, node);
    this.machines.set(id, machine);
    this.storages.set(id, storage);
    this.loggers.set(id, logger);
    return node;
  }

  node(id: NodeId): RaftNode<string> {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  machine(id: NodeId): RecordingMachine {
    return this.machines.get(id)!;
  }

  async start(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((n) => n.start()));
  }

  async close(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((n) => n.close()));
  }

  /**
   * Resolves with the leader once every node in `among` knows the same leader, that leader is among
   * them, and it sees itself as leader. Waits on leader-change events, bounded by `ms`.
   */
  waitForLeader(among: readonly NodeId[] = [...this.nodes.keys()], ms = WAIT_MS): Promise<NodeId> {
    const unsubscribes: (() => void)[] = [];
    const agreed = new Promise<NodeId>((resolve) => {
      const check = (): void => {
        const leaders = new Set(among.map((id) => this.node(id).status().leader));
        if (leaders.size !== 1) return;
        const [leader] = leaders;
        if (leader == null || !among.includes(leader)) return;
        if (this.node(leader).status().role !== 'leader') return;
        resolve(leader);
      };
      for (const id of among) unsubscribes.push(this.node(id).onLeaderChange(check));
      check();
    });
    return within(agreed, ms, `a leader agreed by ${among.join(', ')}`).finally(() => {
      for (const unsubscribe of unsubscribes) unsubscribe();
    });
  }

  /** Resolves with the next leader that is not `old`, as agreed by `among`. */
  async waitForNewLeader(old: NodeId, among: readonly NodeId[], ms = WAIT_MS): Promise<NodeId> {
    const deadline = Date.now() + ms;
    for (;;) {
      const leader = await this.waitForLeader(among, Math.max(1, deadline - Date.now()));
      if (leader !== old) return leader;
      // Still the old leader: wait for the next change among them.
      await within(
        new Promise<void>((resolve) => {
          const offs = among.map((id) =>
            this.node(id).onLeaderChange(() => {
              for (const off of offs) off();
              resolve();
            }),
          );
        }),
        Math.max(1, deadline - Date.now()),
        `a leader other than ${old}`,
      );
    }
  }

  /**
   * Proposes `command` at whichever node leads, retrying on NOT_LEADER / PROPOSAL_DROPPED /
   * TRANSFER_IN_PROGRESS while the cluster settles. Resolves with the result and the leader used.
   */
  async proposeAtLeader(
    command: string,
    among: readonly NodeId[] = [...this.nodes.keys()],
  ): Promise<{ result: string; leader: NodeId }> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const leader = await this.waitForLeader(among, Math.max(1, deadline - Date.now()));
      try {
        const result = await this.node(leader).propose(cmd(command), { timeoutMs: 2_000 });
        return { result, leader };
      } catch (error) {
        const code = (error as { code?: string }).code;
        const retry = code === 'NOT_LEADER' || code === 'PROPOSAL_DROPPED' || code === 'TRANSFER_IN_PROGRESS';
        if (!retry || Date.now() > deadline) throw error;
      }
    }
  }
}
