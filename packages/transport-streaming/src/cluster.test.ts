import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type AppliedCommand,
  createNode,
  MemoryStorage,
  type NodeId,
  type RaftNode,
  type SnapshotData,
  type StateMachine,
} from '@tsraft/core';
import { createStreamingTransport } from './streaming-transport.js';
import { freePort, type Listening, listen, until } from './test-support/harness.js';

/** Records every applied command, in order. */
class LogMachine implements StateMachine<number> {
  readonly applied: string[] = [];
  apply(command: AppliedCommand): number {
    this.applied.push(new TextDecoder().decode(command.data));
    return command.index;
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.applied));
  }
  restore(data: SnapshotData): void {
    const state = JSON.parse(new TextDecoder().decode(data.toBytes())) as string[];
    this.applied.splice(0, this.applied.length, ...state);
  }
}

interface Member {
  readonly node: RaftNode<number>;
  readonly machine: LogMachine;
  readonly server: Listening;
}

async function leaderOf(members: readonly Member[]): Promise<Member> {
  let leader: Member | undefined;
  await until(
    () => {
      leader = members.find((m) => m.node.status().role === 'leader');
      return leader !== undefined && members.every((m) => m.node.status().leader === leader!.node.id);
    },
    10_000,
    'a leader all members know',
  );
  return leader!;
}

async function write(members: readonly Member[], value: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const leader = await leaderOf(members);
    try {
      await leader.node.propose(new TextEncoder().encode(value), { timeoutMs: 2_000 });
      return;
    } catch (error) {
      if (!(error instanceof Error) || !('retryable' in error) || !error.retryable) throw error;
    }
  }
  throw new Error(`could not write ${value}`);
}

test('a 3-node cluster over streams elects, commits, loses a node and keeps committing', async () => {
  const ids: NodeId[] = ['n1', 'n2', 'n3'];
  const ports = await Promise.all(ids.map(() => freePort()));
  const peers = Object.fromEntries(ids.map((id, i) => [id, `127.0.0.1:${ports[i]}`]));
  const members: Member[] = [];
  for (const [i, id] of ids.entries()) {
    const transport = createStreamingTransport({
      id,
      clusterId: 'cluster-test',
      peers,
      reconnectBaseMs: 20,
      reconnectMaxMs: 200,
      keepaliveIntervalMs: 1_000,
      keepaliveTimeoutMs: 1_000,
      closeTimeoutMs: 300,
    });
    const server = await listen(transport, id, { port: ports[i]!, clusterId: 'cluster-test', members: ids });
    const machine = new LogMachine();
    const node = createNode<number>({
      id,
      storage: new MemoryStorage({ conf: { voters: ids, learners: [] } }),
      transport,
      stateMachine: machine,
      tickIntervalMs: 20,
    });
    members.push({ node, machine, server });
  }
  try {
    await Promise.all(members.map((m) => m.node.start()));
    for (let i = 0; i < 20; i++) await write(members, `a${i}`);

    const first = await leaderOf(members);
    await first.node.close();
    await first.server.stop();
    const rest = members.filter((m) => m !== first);
    const second = await leaderOf(rest);
    assert.notEqual(second.node.id, first.node.id);
    for (let i = 0; i < 10; i++) await write(rest, `b${i}`);

    for (const m of rest) await m.node.read({ timeoutMs: 2_000 });
    const expected = [
      ...Array.from({ length: 20 }, (_, i) => `a${i}`),
      ...Array.from({ length: 10 }, (_, i) => `b${i}`),
    ];
    for (const m of rest) assert.deepEqual(m.machine.applied, expected);
  } finally {
    for (const m of members) {
      await m.node.close();
      await m.server.stop();
    }
  }
});
