// Compose your own node (docs/compose-a-node.md): three members of a replicated counter service in one
// process, each with its own disk storage (@tsraft/log-storage) in a temporary directory and the streaming
// gRPC transport (@tsraft/transport-streaming) on 127.0.0.1. It proposes commands (following NOT_LEADER
// hints), reads linearizably from a follower, restarts every member from its disk, and cleans up.
//
//   node examples/dist/durable-counter.js            run the checks, then exit
//   node examples/dist/durable-counter.js --serve    ... then keep serving until SIGTERM or SIGINT
//
// Exits 0 when every check passed, 1 with a message otherwise; the temporary directories are removed
// either way.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNode, type NodeId, RaftError, type RaftNode } from '@tsraft/core';
import { openLogStorage } from '@tsraft/log-storage';
import { createStreamingTransport, type StreamingTransportOptions } from '@tsraft/transport-streaming';
import {
  type CounterCommand,
  type CounterResult,
  CounterStateMachine,
  encodeCounterCommand,
} from './counter-state-machine.js';
import { waitForLeader, within } from './support.js';

const CLUSTER_ID = 'counter-example';
const IDS: readonly NodeId[] = ['n1', 'n2', 'n3'];

/**
 * The gRPC layer's logger (pino's shape). Its default, pino at level `warn` to stdout, also reports the
 * streams a graceful shutdown ends; this demo keeps its output readable by printing errors only.
 */
const grpcLogger: NonNullable<StreamingTransportOptions['logger']> = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: (fields: unknown, message?: string) => console.error('grpc error:', message ?? '', fields),
};

/** One member of the cluster: the Raft node and its replica of the counters. */
interface Member {
  readonly id: NodeId;
  readonly node: RaftNode<CounterResult>;
  readonly counters: CounterStateMachine;
}

/**
 * Composes one member: disk storage, the streaming transport, the state machine, the driver.
 * `addresses` maps every member (this one included) to the `host:port` it listens on.
 */
async function openMember(
  id: NodeId,
  dataDir: string,
  addresses: ReadonlyMap<NodeId, string>,
): Promise<Member> {
  const listen = addresses.get(id);
  if (listen === undefined) throw new Error(`${id} has no address`);
  // The membership is recorded the first time the directory is used; afterwards the stored one rules,
  // and the directory refuses to open for another node id or cluster id.
  const storage = await openLogStorage({
    dir: dataDir,
    nodeId: id,
    clusterId: CLUSTER_ID,
    conf: { voters: [...addresses.keys()], learners: [] },
  });
  try {
    const transport = createStreamingTransport({
      id,
      clusterId: CLUSTER_ID,
      listen, // serves Raft.Stream (and gRPC health) here
      peers: addresses, // dialled at start(); its own entry is ignored
      logger: grpcLogger,
    });
    const counters = new CounterStateMachine();
    const node = createNode<CounterResult>({
      id,
      storage,
      transport,
      stateMachine: counters,
      tickIntervalMs: 50, // election timeout: electionTicks × 50 ms = 500 ms, randomised up to 2×
      electionTicks: 10,
      heartbeatTicks: 1,
      snapshotIntervalEntries: 8, // tiny, so this demo takes snapshots; the default is 10 000
    });
    return { id, node, counters };
  } catch (error) {
    await storage.close();
    throw error;
  }
}

/**
 * Proposes `command` starting at `entry` and follows NOT_LEADER hints to the leader: the in-process
 * version of forwarding a write (packages/server/src/kv-service.ts forwards over gRPC instead). Retries
 * only what certainly was not applied; a TIMEOUT or OUTCOME_UNKNOWN is thrown, since `add` is not
 * idempotent and a blind retry could count twice.
 */
async function propose(
  members: ReadonlyMap<NodeId, Member>,
  entry: Member,
  command: CounterCommand,
  timeoutMs = 5_000,
): Promise<CounterResult> {
  const data = encodeCounterCommand(command);
  const deadline = Date.now() + timeoutMs;
  let target = entry;
  for (;;) {
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) throw new RaftError('TIMEOUT', 'no leader accepted the command in time');
    try {
      return await target.node.propose(data, { timeoutMs: remainingMs });
    } catch (error) {
      if (!(error instanceof RaftError)) throw error;
      if (error.code === 'NOT_LEADER' || error.code === 'TRANSFER_IN_PROGRESS') {
        // Refused before it entered the log. Go where the hint points, or wait for an election.
        const leader = error.leader === null ? undefined : members.get(error.leader);
        if (leader !== undefined && leader !== target) target = leader;
        else await sleep(50);
      } else if (error.code === 'PROPOSAL_DROPPED' || error.code === 'TOO_MANY_UNCOMMITTED') {
        await sleep(20); // not applied: safe to try again
      } else {
        throw error; // TIMEOUT, ABORTED, OUTCOME_UNKNOWN: it may have been applied. STOPPED, STORAGE_FAILED.
      }
    }
  }
}

/** Starts every member; logs leader changes and crash-stops. */
async function startAll(members: readonly Member[]): Promise<void> {
  for (const { id, node } of members) {
    node.onLeaderChange((leader, term) => {
      if (leader === id) console.log(`  [${id}] leads in term ${term}`);
    });
    void node.whenStopped().then((error) => {
      // null after close(); an error after a crash-stop (a failed write or fsync: STORAGE_FAILED).
      if (error !== null) console.error(`  [${id}] crash-stopped: ${error.message}`);
    });
  }
  await within(Promise.all(members.map((m) => m.node.start())), 'the members to start');
}

/** Waits for a linearizable read point on every member and returns their replicas, one line each. */
async function replicas(members: readonly Member[]): Promise<string[]> {
  const lines: string[] = [];
  for (const { node, counters } of members) {
    await node.read({ timeoutMs: 5_000 });
    lines.push(counters.describe());
  }
  return lines;
}

/** Picks `count` distinct free ports on 127.0.0.1 (held open together, then released). */
async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  const ports = await Promise.all(
    servers.map(
      (server) =>
        new Promise<number>((resolve, reject) => {
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => {
            const address = server.address();
            if (address === null || typeof address === 'string') reject(new Error('no port'));
            else resolve(address.port);
          });
        }),
    ),
  );
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

const serve = process.argv.includes('--serve');
const root = await mkdtemp(join(tmpdir(), 'tsraft-counter-'));
let members: Member[] = [];
// Graceful shutdown: a listener replaces Node's default of dying on the spot.
const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve(signal));
});

async function closeAll(): Promise<void> {
  // close(): stops the timer, fails waiting calls with STOPPED, finishes the write in progress, then
  // closes the transport and the storage. Everything acknowledged was already synced.
  await within(Promise.all(members.map((m) => m.node.close())), 'the members to close');
}

async function checks(): Promise<void> {
  const ports = await freePorts(IDS.length);
  const addresses = new Map(IDS.map((id, i) => [id, `127.0.0.1:${ports[i]}`]));
  const dirOf = (id: NodeId): string => join(root, id);
  console.log(`Data under ${root}`);
  console.log(`Starting ${IDS.map((id) => `${id}@${addresses.get(id)}`).join(', ')}`);
  members = await Promise.all(IDS.map((id) => openMember(id, dirOf(id), addresses)));
  let byId = new Map(members.map((m) => [m.id, m]));
  await startAll(members);

  const leaderNode = await waitForLeader(members.map((m) => m.node));
  const leader = byId.get(leaderNode.id)!;
  const follower = members.find((m) => m !== leader)!;
  console.log(`Leader elected: ${leader.id}`);

  // A follower refuses proposals and names the leader.
  try {
    await follower.node.propose(encodeCounterCommand({ op: 'add', name: 'visits', delta: 1 }));
    throw new Error(`${follower.id} accepted a proposal as a follower`);
  } catch (error) {
    if (!(error instanceof RaftError) || error.code !== 'NOT_LEADER') throw error;
    console.log(`${follower.id} refused a proposal: NOT_LEADER, leader hint ${error.leader}`);
  }

  // Ten concurrent adds, entered at the follower, each forwarded to the leader and applied once.
  const adds = await within(
    Promise.all(
      Array.from({ length: 10 }, () => propose(byId, follower, { op: 'add', name: 'visits', delta: 1 })),
    ),
    'ten adds',
  );
  const values = adds.map((r) => (r.ok ? r.value : Number.NaN)).sort((a, b) => a - b);
  check(values.join() === '1,2,3,4,5,6,7,8,9,10', `unexpected results: ${values.join()}`);
  console.log('10 adds of 1 to visits: results 1..10, each applied exactly once');
  const errors = await propose(byId, follower, { op: 'add', name: 'errors', delta: 3 });
  check(errors.ok && errors.value === 3, 'add 3 to errors failed');

  // A malformed command is refused by apply, identically everywhere: a result, not a crash.
  const malformed = await leader.node.propose(Uint8Array.of(9), { timeoutMs: 5_000 });
  check(!malformed.ok, 'a malformed command was accepted');
  console.log(`A malformed command: ${malformed.ok ? 'accepted' : `refused (${malformed.reason})`}`);

  // Linearizable read on a follower: ReadIndex confirmed by the leader, then the local replica.
  await follower.node.read({ timeoutMs: 5_000 });
  const seen = follower.counters.get('visits');
  check(seen === 10, `${follower.id} read visits=${seen}`);
  console.log(`Linearizable read on follower ${follower.id}: visits=${seen}`);
  // Lease read on the leader: no heartbeat round while its lease holds.
  await leader.node.read({ lease: true, timeoutMs: 5_000 });
  console.log(`Lease read on leader ${leader.id}: visits=${leader.counters.get('visits')}`);

  const before = await replicas(members);
  check(new Set(before).size === 1, `replicas differ: ${before.join(' | ')}`);
  console.log(`All 3 replicas: ${before[0]}`);

  console.log('Closing every member and restarting it from its disk...');
  await closeAll();
  members = await Promise.all(IDS.map((id) => openMember(id, dirOf(id), addresses)));
  byId = new Map(members.map((m) => [m.id, m]));
  await startAll(members);
  // start() restored each state machine from its stored snapshot; the log after it is replayed as the
  // commit index is learned.
  console.log(
    `  restored from snapshots at ${members.map((m) => `${m.id}:${m.counters.appliedIndex}`).join(' ')}`,
  );
  const restarted = await waitForLeader(members.map((m) => m.node));
  console.log(`Leader after the restart: ${restarted.id}`);
  const after = await propose(byId, members[0]!, { op: 'add', name: 'visits', delta: 5 });
  check(after.ok && after.value === 15, `visits after the restart: ${JSON.stringify(after)}`);
  const final = await replicas(members);
  check(new Set(final).size === 1, `replicas differ: ${final.join(' | ')}`);
  check(final[0] === 'errors=3 visits=15', `unexpected state: ${final[0]}`);
  console.log(`OK: after a full restart all 3 replicas hold ${final[0]}`);
}

try {
  let outcome: NodeJS.Signals | 'done' = await Promise.race([
    within(checks(), 'the durable counter example', 60_000).then(() => 'done' as const),
    stopSignal,
  ]);
  if (outcome === 'done' && serve) {
    console.log('Serving until SIGTERM or SIGINT');
    outcome = await stopSignal;
  }
  if (outcome !== 'done') console.log(`${outcome}: shutting down gracefully`);
} catch (error) {
  console.error(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  try {
    await closeAll();
  } catch (error) {
    console.error(`FAILED to close: ${String(error)}`);
    process.exitCode = 1;
  }
  await rm(root, { recursive: true, force: true });
  console.log(`Removed ${root}`);
}
