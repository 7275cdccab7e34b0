// Run by scripts/check-packs.sh inside an empty npm project where the packed tarballs are installed:
// composes a 3-node cluster in one process from the published packages only (core + a gRPC transport on
// loopback + disk storage + the KV state machine), writes through the leader and reads on a follower.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createNode } from '@tsraft/core';
import { openLogStorage } from '@tsraft/log-storage';
import { createKvStateMachine, encodeKvCommand } from '@tsraft/statemachine-kv';
import { createStreamingTransport } from '@tsraft/transport-streaming';

const ids = ['a', 'b', 'c'];
const root = mkdtempSync(path.join(tmpdir(), 'tsraft-packed-'));
const ports = new Map(ids.map((id, i) => [id, 17_400 + Math.floor(Math.random() * 1000) * 3 + i]));
const peers = new Map(ids.map((id) => [id, `127.0.0.1:${ports.get(id)}`]));
const nodes = new Map();
const machines = new Map();
const deadline = Date.now() + 30_000;
const bytes = (s) => new TextEncoder().encode(s);

try {
  for (const id of ids) {
    const storage = await openLogStorage({
      dir: path.join(root, id),
      nodeId: id,
      clusterId: 'packed',
      conf: { voters: ids, learners: [] },
    });
    const stateMachine = createKvStateMachine();
    const transport = createStreamingTransport({ id, clusterId: 'packed', listen: peers.get(id), peers });
    const node = createNode({ id, storage, transport, stateMachine, tickIntervalMs: 20 });
    nodes.set(id, node);
    machines.set(id, stateMachine);
  }
  await Promise.all([...nodes.values()].map((node) => node.start()));
  const findLeader = () => ids.find((id) => nodes.get(id).status().role === 'leader');
  let leader = findLeader();
  while (leader === undefined) {
    if (Date.now() > deadline) throw new Error('no leader elected');
    await new Promise((resolve) => setTimeout(resolve, 20));
    leader = findLeader();
  }
  const command = {
    command: { type: 'put', key: bytes('greeting'), value: bytes('hello') },
    proposedAtMs: Date.now(),
  };
  const result = await nodes.get(leader).propose(encodeKvCommand(command), { timeoutMs: 10_000 });
  if (result.type !== 'put') throw new Error(`unexpected result ${JSON.stringify(result)}`);
  const follower = ids.find((id) => id !== leader);
  await nodes.get(follower).read({ timeoutMs: 10_000 });
  const value = machines.get(follower).get(bytes('greeting'));
  if (value === undefined || new TextDecoder().decode(value) !== 'hello') {
    throw new Error(`follower ${follower} read ${value} instead of hello`);
  }
  console.log(
    `packed 3-node cluster: leader ${leader} committed greeting=hello; ${follower} read it back linearizably`,
  );
} finally {
  await Promise.all([...nodes.values()].map((node) => node.close()));
  rmSync(root, { recursive: true, force: true });
}
