// Quick start: a 3-node Raft cluster in one process, on in-memory storage and an in-memory network.
// It elects a leader, replicates writes, loses its leader to a network partition, elects another,
// keeps writing, heals, and checks that every replica ends with the same state.
//
//   pnpm demo        (or: node examples/dist/in-process-cluster.js)
//
// Exits 0 when every step succeeded, 1 with a message otherwise (each step is bounded in time).
import { createMemoryNetwork, createNode, MemoryStorage, type RaftNode } from '@tsraft/core';
import { encodeKvCommand, type KvResult, KvStateMachine } from './kv-state-machine.js';
import { proposeToLeader, waitForLeader, within } from './support.js';

const ids = ['n1', 'n2', 'n3'];
const network = createMemoryNetwork();
const machines = new Map<string, KvStateMachine>();

// 1. Three nodes. Each has its own storage (MemoryStorage: swap in a durable LogStorage for real use),
//    its own copy of the state machine, and a transport on the shared in-memory network.
const nodes: RaftNode<KvResult>[] = ids.map((id) => {
  const stateMachine = new KvStateMachine();
  machines.set(id, stateMachine);
  return createNode<KvResult>({
    id,
    storage: new MemoryStorage({ conf: { voters: ids, learners: [] } }),
    transport: network.transport(id),
    stateMachine,
    tickIntervalMs: 20, // election timeout: electionTicks (10) × 20 ms, randomised up to 2×
  });
});
const machine = (id: string): KvStateMachine => machines.get(id)!;

/** Writes `key=value` through the current leader and prints where it committed. */
async function write(among: RaftNode<KvResult>[], key: string, value: string): Promise<void> {
  const { result, leader } = await proposeToLeader(among, encodeKvCommand({ op: 'set', key, value }));
  console.log(`  set ${key}=${value} via ${leader}: committed and applied at index ${result.index}`);
}

/** Waits for a linearizable read point on each node, then prints its replica; returns the replicas. */
async function showReplicas(among: RaftNode<KvResult>[]): Promise<string[]> {
  const replicas: string[] = [];
  for (const node of among) {
    await within(node.read(), `a linearizable read on ${node.id}`);
    const replica = machine(node.id).describe();
    console.log(`  ${node.id} (${node.status().role}): ${replica}`);
    replicas.push(replica);
  }
  return replicas;
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

async function main(): Promise<void> {
  console.log(`Starting a 3-node cluster: ${ids.join(', ')}`);
  for (const node of nodes) {
    node.onLeaderChange((leader, term) => {
      if (leader === node.id) console.log(`  [${node.id}] became leader in term ${term}`);
    });
  }
  await Promise.all(nodes.map((n) => n.start()));

  const first = await waitForLeader(nodes);
  console.log(`Leader elected: ${first.id}`);

  console.log('Writing 5 keys through the leader:');
  for (let i = 1; i <= 5; i++) await write(nodes, `key${i}`, `v${i}`);

  console.log('Every replica, after a linearizable read:');
  const before = await showReplicas(nodes);
  check(new Set(before).size === 1 && machine(first.id).size === 5, 'replicas differ after the first writes');
  console.log('All 3 replicas agree on 5 keys.');

  console.log(`Isolating the leader ${first.id} from the network...`);
  network.isolate(first.id);
  const rest = nodes.filter((n) => n !== first);
  const second = await waitForLeader(rest, 'the remaining two nodes to elect a new leader');
  console.log(`New leader elected: ${second.id}`);

  console.log('Writing 3 more keys through the new leader:');
  for (let i = 6; i <= 8; i++) await write(rest, `key${i}`, `v${i}`);
  console.log(`  the isolated ${first.id} still has ${machine(first.id).size} keys (it cannot commit alone)`);

  console.log(`Healing the network: ${first.id} rejoins as a follower and catches up.`);
  network.heal();
  const healed = await waitForLeader(nodes, 'the healed cluster to agree on a leader');
  console.log(`Leader after healing: ${healed.id}`);
  console.log('Every replica, after a linearizable read:');
  const after = await showReplicas(nodes);
  check(new Set(after).size === 1, 'replicas differ after healing');
  check(machine(first.id).size === 8, `${first.id} did not catch up`);
  console.log('OK: all 3 replicas agree on 8 keys.');
}

const watchdog = setTimeout(() => {
  console.error('FAILED: the demo took longer than 60 s');
  process.exit(1);
}, 60_000);

try {
  await main();
  process.exitCode = 0;
} catch (error) {
  console.error(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await within(Promise.all(nodes.map((n) => n.close())), 'the nodes to close').catch((error: unknown) => {
    console.error(`FAILED to close: ${String(error)}`);
    process.exitCode = 1;
  });
  clearTimeout(watchdog);
}
