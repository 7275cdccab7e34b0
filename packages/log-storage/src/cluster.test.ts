import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type AppliedCommand,
  createMemoryNetwork,
  createNode,
  type MemoryNetwork,
  type NodeId,
  type NodeLogger,
  type RaftNode,
  type SnapshotData,
  type StateMachine,
} from '@tsraft/core';
import { type DiskLogStorage, type DiskLogStorageOptions, openLogStorage } from './disk-log-storage.js';
import { faultyFileSystem, tempDir } from './test-support/temp-dir.js';

const WAIT_MS = 15_000;
const ids: NodeId[] = ['n1', 'n2', 'n3'];
const conf = { voters: ids, learners: [] };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A state machine that records the commands it applies and lets a test await a count. */
class Recorder implements StateMachine<string> {
  commands: string[] = [];
  restores = 0;
  private waiters: { count: number; resolve: () => void }[] = [];
  apply(command: AppliedCommand): string {
    this.commands.push(decoder.decode(command.data));
    this.notify();
    return `${command.index}`;
  }
  private notify(): void {
    this.waiters = this.waiters.filter((w) => {
      if (this.commands.length < w.count) return true;
      w.resolve();
      return false;
    });
  }
  /** The state in small chunks from a generator, so the driver streams it to the disk storage. */
  snapshot(): Iterable<Uint8Array> {
    const bytes = encoder.encode(JSON.stringify(this.commands));
    return (function* () {
      for (let i = 0; i < bytes.byteLength; i += 8) yield bytes.subarray(i, i + 8);
    })();
  }
  restore(data: SnapshotData): void {
    let text = '';
    const streaming = new TextDecoder();
    for (const chunk of data.chunks()) text += streaming.decode(chunk, { stream: true });
    text += streaming.decode();
    this.commands = text === '' ? [] : (JSON.parse(text) as string[]);
    this.restores++;
    this.notify();
  }
  whenApplied(count: number): Promise<void> {
    if (this.commands.length >= count) return Promise.resolve();
    return within(
      new Promise((resolve) => this.waiters.push({ count, resolve })),
      `${count} commands applied`,
    );
  }
}

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A 3-node cluster over the memory network, each node on its own data directory. */
class DiskCluster {
  readonly network: MemoryNetwork = createMemoryNetwork();
  readonly nodes = new Map<NodeId, RaftNode<string>>();
  readonly machines = new Map<NodeId, Recorder>();
  readonly storages = new Map<NodeId, DiskLogStorage>();
  readonly dirs = new Map<NodeId, { dir: string; remove: () => void }>();
  /** Applied entries between snapshots (0: never). */
  snapshotIntervalEntries = 0;

  options(id: NodeId, extra: Partial<DiskLogStorageOptions> = {}): DiskLogStorageOptions {
    return { dir: this.dirs.get(id)!.dir, nodeId: id, clusterId: 'disk-cluster', conf, ...extra };
  }

  async startNode(
    id: NodeId,
    extra: Partial<DiskLogStorageOptions> = {},
    logger: NodeLogger = {},
  ): Promise<RaftNode<string>> {
    if (!this.dirs.has(id)) this.dirs.set(id, tempDir());
    const storage = await openLogStorage(this.options(id, extra));
    const machine = new Recorder();
    const node = createNode<string>({
      id,
      storage,
      transport: this.network.transport(id),
      stateMachine: machine,
      tickIntervalMs: 10,
      snapshotIntervalEntries: this.snapshotIntervalEntries,
      randomSeed: ids.indexOf(id) + 1,
      logger,
    });
    this.nodes.set(id, node);
    this.machines.set(id, machine);
    this.storages.set(id, storage);
    await node.start();
    return node;
  }

  /** Resolves with the leader once some running node leads and the others that run know it. */
  waitForLeader(among: readonly NodeId[] = ids): Promise<NodeId> {
    return within(
      new Promise<NodeId>((resolve) => {
        const check = (): boolean => {
          const leaders = among.filter((id) => this.nodes.get(id)!.status().role === 'leader');
          if (leaders.length !== 1) return false;
          if (!among.every((id) => this.nodes.get(id)!.status().leader === leaders[0])) return false;
          resolve(leaders[0]!);
          return true;
        };
        if (check()) return;
        const offs = among.map((id) =>
          this.nodes.get(id)!.onLeaderChange(() => {
            if (check()) for (const off of offs) off();
          }),
        );
      }),
      'a leader',
    );
  }

  async close(): Promise<void> {
    for (const node of this.nodes.values()) await node.close();
    for (const { remove } of this.dirs.values()) remove();
  }
}

async function proposeAll(node: RaftNode<string>, commands: readonly string[]): Promise<void> {
  for (const c of commands) await node.propose(encoder.encode(c), { timeoutMs: WAIT_MS });
}

describe('a 3-node cluster on disk storage', () => {
  test('a restarted node comes back with its term, vote and log, and catches up', async () => {
    const cluster = new DiskCluster();
    try {
      for (const id of ids) await cluster.startNode(id);
      const leader = await cluster.waitForLeader();
      await proposeAll(cluster.nodes.get(leader)!, ['a', 'b', 'c', 'd', 'e']);
      const follower = ids.find((id) => id !== leader)!;
      await cluster.machines.get(follower)!.whenApplied(5);
      const storage = cluster.storages.get(follower)!;
      const hardState = storage.initialState().hardState;
      const log = storage.entries(storage.firstIndex(), storage.lastIndex() + 1);
      assert.ok(hardState.term >= 1 && log.length >= 6);
      await cluster.nodes.get(follower)!.close();

      await proposeAll(cluster.nodes.get(leader)!, ['f', 'g']);
      const restarted = await cluster.startNode(follower);
      const back = cluster.storages.get(follower)!;
      assert.deepEqual(back.initialState().hardState.term, hardState.term);
      assert.deepEqual(back.initialState().hardState.vote, hardState.vote);
      assert.ok(back.initialState().hardState.commit >= hardState.commit);
      assert.deepEqual(back.entries(1, log.length + 1), log);
      assert.equal(restarted.status().stopped, false);
      await proposeAll(cluster.nodes.get(leader)!, ['h']);
      await cluster.machines.get(follower)!.whenApplied(8);
      assert.deepEqual(cluster.machines.get(follower)!.commands, ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
    } finally {
      await cluster.close();
    }
  });

  test('a node that fell behind a compacted log catches up from a snapshot stored on disk', async () => {
    const cluster = new DiskCluster();
    cluster.snapshotIntervalEntries = 4;
    try {
      for (const id of ids) await cluster.startNode(id);
      const leader = await cluster.waitForLeader();
      const follower = ids.find((id) => id !== leader)!;
      await proposeAll(cluster.nodes.get(leader)!, ['a', 'b']);
      await cluster.machines.get(follower)!.whenApplied(2);
      await cluster.nodes.get(follower)!.close();
      const more = Array.from({ length: 12 }, (_, i) => `m${i}`);
      await proposeAll(cluster.nodes.get(leader)!, more);
      assert.ok(cluster.storages.get(leader)!.firstIndex() > 4, 'the leader compacted its log');
      await cluster.startNode(follower);
      await cluster.machines.get(follower)!.whenApplied(14);
      assert.ok(cluster.machines.get(follower)!.restores >= 1, 'the follower restored a snapshot');
      assert.deepEqual(cluster.machines.get(follower)!.commands, ['a', 'b', ...more]);
      await cluster.nodes.get(follower)!.close();
      // The installed snapshot is durable: the follower reopens from it.
      const reopened = await cluster.startNode(follower);
      assert.ok(cluster.storages.get(follower)!.snapshot().meta.index >= 4);
      assert.equal(reopened.status().stopped, false);
    } finally {
      await cluster.close();
    }
  });

  test('a node whose storage fails stops, and the other two keep committing', async () => {
    const cluster = new DiskCluster();
    const { fs, faults } = faultyFileSystem();
    try {
      let crashed: () => void = () => {};
      const stopped = within(new Promise<void>((resolve) => (crashed = resolve)), 'n3 to crash-stop');
      const logger: NodeLogger = {
        error: (message) => message.startsWith('node crash-stopped') && crashed(),
      };
      for (const id of ids) await cluster.startNode(id, id === 'n3' ? { fs } : {}, id === 'n3' ? logger : {});
      await cluster.waitForLeader();
      faults.failSync = true;
      // Heartbeats and appends make n3 write; its failed sync stops it.
      const leader = await cluster.waitForLeader(ids);
      if (leader === 'n3')
        await cluster.nodes
          .get('n3')!
          .propose(encoder.encode('x'))
          .catch(() => {});
      else await proposeAll(cluster.nodes.get(leader)!, ['x']);
      await stopped;
      const error = cluster.nodes.get('n3')!.status().error!;
      assert.equal(error.code, 'STORAGE_FAILED');
      const survivors = ids.filter((id) => id !== 'n3');
      const newLeader = await cluster.waitForLeader(survivors);
      await proposeAll(cluster.nodes.get(newLeader)!, ['y', 'z']);
      for (const id of survivors)
        await cluster.machines.get(id)!.whenApplied(survivors.includes(leader) ? 3 : 2);
      assert.equal(cluster.storages.get('n3')!.failure()?.code, 'IO_FAILED');
    } finally {
      await cluster.close();
    }
  });
});
