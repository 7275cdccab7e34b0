import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMemoryNetwork, createNode, MemoryStorage, type RaftNode } from '@tsraft/core';
import { encodeKvCommand } from './command-codec.js';
import type { KvCommand, KvSessionRef } from './kv-command.js';
import type { KvResult } from './kv-result.js';
import { createKvStateMachine, type KvStateMachine } from './kv-state-machine.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const TIMEOUT_MS = 10_000;

/** Resolves with the leader once every node agrees on one (listens to leader changes; bounded in time). */
function leaderOf(nodes: readonly RaftNode<KvResult>[]): Promise<RaftNode<KvResult>> {
  const offs: (() => void)[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new Promise<RaftNode<KvResult>>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error('no leader elected in time')), TIMEOUT_MS);
    const check = (): void => {
      const known = new Set(nodes.map((n) => n.status().leader));
      const leader = nodes.find((n) => n.id === [...known][0]);
      if (known.size === 1 && leader?.status().role === 'leader') resolve(leader);
    };
    for (const node of nodes) offs.push(node.onLeaderChange(check));
    check();
  }).finally(() => {
    clearTimeout(timer);
    for (const off of offs) off();
  });
}

test('a 3-node cluster keeps equal replicas, and a follower that fell behind catches up from a snapshot', async () => {
  const ids = ['n1', 'n2', 'n3'];
  const network = createMemoryNetwork();
  const machines = new Map<string, KvStateMachine>(ids.map((id) => [id, createKvStateMachine()]));
  const restores = new Map<string, number>();
  for (const [id, machine] of machines) {
    const restore = machine.restore.bind(machine);
    machine.restore = (data, meta) => {
      restores.set(id, (restores.get(id) ?? 0) + 1);
      return restore(data, meta);
    };
  }
  const nodes = ids.map((id) =>
    createNode<KvResult>({
      id,
      storage: new MemoryStorage({ conf: { voters: ids, learners: [] } }),
      transport: network.transport(id),
      stateMachine: machines.get(id)!,
      tickIntervalMs: 5,
      snapshotIntervalEntries: 10,
    }),
  );
  try {
    await Promise.all(nodes.map((n) => n.start()));
    let leader = await leaderOf(nodes);
    const propose = (command: KvCommand, session?: KvSessionRef): Promise<KvResult> =>
      leader.propose(
        encodeKvCommand(
          session === undefined ? { command, proposedAtMs: 1 } : { command, session, proposedAtMs: 1 },
        ),
        { timeoutMs: TIMEOUT_MS },
      );

    const opened = await propose({ type: 'openSession' });
    assert.equal(opened.type, 'openSession');
    const sessionId = opened.type === 'openSession' ? opened.sessionId : 0;

    // One follower misses the next writes; the others compact their logs past them.
    const behind = nodes.find((n) => n !== leader)!;
    network.isolate(behind.id);
    const cas = {
      type: 'compareAndSwap',
      key: bytes('lock'),
      expected: undefined,
      value: bytes('me'),
    } as const;
    const first = await propose(cas, { sessionId, sequence: 1, firstIncomplete: 1 });
    assert.deepEqual(first, { type: 'compareAndSwap', succeeded: true, value: bytes('me') });
    for (let i = 0; i < 40; i++) await propose({ type: 'put', key: bytes(`k${i}`), value: bytes(`v${i}`) });
    network.heal();
    leader = await leaderOf(nodes);
    // The retry is answered from the session, on whichever node leads now.
    assert.deepEqual(await propose(cas, { sessionId, sequence: 1, firstIncomplete: 1 }), first);
    await propose({ type: 'delete', key: bytes('k0') });

    for (const node of nodes) await node.read({ timeoutMs: TIMEOUT_MS });
    const target = machines.get(leader.id)!.appliedIndex;
    const digests = new Set<string>();
    for (const id of ids) {
      const machine = machines.get(id)!;
      assert.equal(machine.appliedIndex, target, `${id} applied`);
      assert.equal(machine.size, 40);
      digests.add(machine.digest());
    }
    assert.equal(digests.size, 1, 'every replica holds the same state');
    assert.ok((restores.get(behind.id) ?? 0) > 0, 'the lagging follower restored a snapshot');
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
  }
});
