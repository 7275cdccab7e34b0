// A custom state machine: a replicated bank ledger whose business rule (no overdrafts) is enforced
// inside `apply`, so every replica takes the same decision for the same command, even under races.
//
//   node examples/dist/custom-state-machine.js
//
// Exits 0 when every check passed, 1 with a message otherwise.
import {
  type AppliedCommand,
  createMemoryNetwork,
  createNode,
  MemoryStorage,
  type RaftNode,
  SnapshotData,
  type SnapshotMeta,
  type StateMachine,
} from '@tsraft/core';
import { proposeToLeader, waitForLeader, within } from './support.js';

/** A ledger command. Amounts are integers (cents): floating point would make replicas disagree. */
type LedgerCommand =
  | { readonly op: 'open'; readonly account: string; readonly balance: number }
  | { readonly op: 'transfer'; readonly from: string; readonly to: string; readonly amount: number };

/** The outcome of one command, returned to the proposer by `propose()`. */
type LedgerResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const encode = (command: LedgerCommand): Uint8Array => encoder.encode(JSON.stringify(command));

/**
 * The ledger. A refused transfer is still a committed log entry: the refusal is its result, computed
 * the same way on every replica from the same state. Validating on the proposer's side alone would race.
 */
class LedgerStateMachine implements StateMachine<LedgerResult> {
  private balances = new Map<string, number>();

  apply(command: AppliedCommand): LedgerResult {
    const c = JSON.parse(decoder.decode(command.data)) as LedgerCommand;
    if (c.op === 'open') {
      if (this.balances.has(c.account)) return { ok: false, reason: `${c.account} already exists` };
      this.balances.set(c.account, c.balance);
      return { ok: true };
    }
    const from = this.balances.get(c.from);
    const to = this.balances.get(c.to);
    if (from === undefined || to === undefined) return { ok: false, reason: 'unknown account' };
    if (from < c.amount)
      return { ok: false, reason: `insufficient funds in ${c.from} (${from} < ${c.amount})` };
    this.balances.set(c.from, from - c.amount);
    this.balances.set(c.to, to + c.amount);
    return { ok: true };
  }

  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify([...this.balances].sort()));
  }

  restore(data: SnapshotData, _meta: SnapshotMeta): void {
    // A small state: joining its chunks is fine (a large one would parse `data.chunks()` as they come).
    this.balances = new Map(
      data.byteLength === 0 ? [] : (JSON.parse(decoder.decode(data.toBytes())) as [string, number][]),
    );
  }

  describe(): string {
    return [...this.balances]
      .sort()
      .map(([account, balance]) => `${account}=${balance}`)
      .join(' ');
  }
}

const ids = ['a', 'b', 'c'];
const network = createMemoryNetwork();
const ledgers = new Map(ids.map((id) => [id, new LedgerStateMachine()]));
const nodes: RaftNode<LedgerResult>[] = ids.map((id) =>
  createNode<LedgerResult>({
    id,
    storage: new MemoryStorage({ conf: { voters: ids, learners: [] } }),
    transport: network.transport(id),
    stateMachine: ledgers.get(id)!,
    tickIntervalMs: 20,
  }),
);

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

async function main(): Promise<void> {
  await Promise.all(nodes.map((n) => n.start()));
  const leader = await waitForLeader(nodes);
  console.log(`Ledger cluster up; leader ${leader.id}`);

  for (const command of [
    { op: 'open', account: 'alice', balance: 100 },
    { op: 'open', account: 'bob', balance: 0 },
  ] as const) {
    const { result } = await proposeToLeader(nodes, encode(command));
    check(result.ok, `open ${command.account} failed`);
  }
  console.log('Opened alice=100 and bob=0');

  // Five transfers of 30 race each other; the log orders them and the rule admits exactly three.
  const transfers = Array.from({ length: 5 }, () =>
    proposeToLeader(nodes, encode({ op: 'transfer', from: 'alice', to: 'bob', amount: 30 })),
  );
  const outcomes = await within(Promise.all(transfers), 'five concurrent transfers');
  for (const [i, { result }] of outcomes.entries()) {
    console.log(`  transfer #${i + 1} of 30: ${result.ok ? 'done' : `refused (${result.reason})`}`);
  }
  const done = outcomes.filter(({ result }) => result.ok).length;
  check(done === 3, `expected exactly 3 transfers to succeed, got ${done}`);

  for (const node of nodes) await within(node.read(), `a read on ${node.id}`);
  const states = ids.map((id) => ledgers.get(id)!.describe());
  for (const [i, id] of ids.entries()) console.log(`  ${id}: ${states[i]}`);
  check(new Set(states).size === 1 && states[0] === 'alice=10 bob=90', 'replicas disagree');

  // A snapshot carries the whole state: a fresh replica restored from it agrees too.
  const fresh = new LedgerStateMachine();
  const status = leader.status();
  fresh.restore(SnapshotData.of(ledgers.get(leader.id)!.snapshot()), {
    index: status.applied,
    term: status.hardState.term,
    conf: { voters: ids, learners: [] },
  });
  check(fresh.describe() === states[0], 'a replica restored from a snapshot disagrees');
  console.log(`OK: every replica, and one restored from a snapshot, holds ${fresh.describe()}`);
}

try {
  await within(main(), 'the ledger example', 30_000);
} catch (error) {
  console.error(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await Promise.all(nodes.map((n) => n.close()));
}
