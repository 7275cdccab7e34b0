// The counter state machine of docs/compose-a-node.md: its encoding, its snapshots, the deterministic
// simulator over many seeds, and a 3-node cluster on the in-memory network.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryNetwork, createNode, MemoryStorage, type RaftNode, SnapshotData } from '@tsraft/core';
import { runSeed, runSeeds } from '@tsraft/testkit';
import {
  type CounterResult,
  CounterStateMachine,
  decodeCounterCommand,
  encodeCounterCommand,
} from './counter-state-machine.js';
import { createWorkload } from './counter-workload.js';
import { proposeToLeader, waitForLeader, within } from './support.js';

const meta = (index: number) => ({ index, term: 1, conf: { voters: ['n1'], learners: [] } });

function applyAll(sm: CounterStateMachine, commands: Uint8Array[], from = 1): CounterResult[] {
  return commands.map((data, i) => sm.apply({ index: from + i, term: 1, data }));
}

describe('the counter encoding', () => {
  it('round-trips commands in a few bytes', () => {
    for (const command of [
      { op: 'add', name: 'visits', delta: 1 },
      { op: 'add', name: 'é🙂', delta: -(2 ** 31) },
      { op: 'add', name: 'x', delta: 2 ** 31 - 1 },
      { op: 'reset', name: 'visits' },
    ] as const) {
      const bytes = encodeCounterCommand(command);
      assert.deepEqual(decodeCounterCommand(bytes), command);
    }
    assert.equal(encodeCounterCommand({ op: 'add', name: 'visits', delta: 1 }).byteLength, 11);
  });

  it('refuses bad commands before they reach the log', () => {
    assert.throws(() => encodeCounterCommand({ op: 'add', name: '', delta: 1 }), RangeError);
    assert.throws(() => encodeCounterCommand({ op: 'add', name: 'x'.repeat(256), delta: 1 }), RangeError);
    assert.throws(() => encodeCounterCommand({ op: 'add', name: 'x', delta: 1.5 }), RangeError);
    assert.throws(() => encodeCounterCommand({ op: 'add', name: 'x', delta: 2 ** 31 }), RangeError);
  });

  it('answers malformed entries with a refusal, never an exception', () => {
    const sm = new CounterStateMachine();
    for (const data of [
      new Uint8Array(0),
      Uint8Array.of(9, 1),
      Uint8Array.of(1, 0, 0, 0),
      Uint8Array.of(2),
      Uint8Array.of(2, 0xff),
    ]) {
      assert.deepEqual(sm.apply({ index: 1, term: 1, data }), { ok: false, reason: 'malformed command' });
    }
    assert.equal(sm.describe(), '');
  });
});

describe('the counter state machine', () => {
  it('adds, resets, refuses overflow and returns results to the proposer', () => {
    const sm = new CounterStateMachine();
    const results = applyAll(sm, [
      encodeCounterCommand({ op: 'add', name: 'a', delta: 5 }),
      encodeCounterCommand({ op: 'add', name: 'a', delta: -2 }),
      encodeCounterCommand({ op: 'reset', name: 'a' }),
      encodeCounterCommand({ op: 'add', name: 'b', delta: 1 }),
    ]);
    assert.deepEqual(results, [
      { ok: true, value: 5, index: 1 },
      { ok: true, value: 3, index: 2 },
      { ok: true, value: 0, index: 3 },
      { ok: true, value: 1, index: 4 },
    ]);
    assert.equal(sm.describe(), 'b=1');
    sm.restore(SnapshotData.of(encodeSnapshotOf([['big', Number.MAX_SAFE_INTEGER]])), meta(10));
    const overflow = sm.apply({
      index: 11,
      term: 1,
      data: encodeCounterCommand({ op: 'add', name: 'big', delta: 1 }),
    });
    assert.deepEqual(overflow, { ok: false, reason: 'big would overflow' });
    assert.equal(sm.get('big'), Number.MAX_SAFE_INTEGER);
  });

  it('snapshots equal states to equal bytes, and restores them', () => {
    const one = new CounterStateMachine();
    const two = new CounterStateMachine();
    const add = (name: string, delta: number) => encodeCounterCommand({ op: 'add', name, delta });
    applyAll(one, [add('zeta', 1), add('alpha', -7), add('ünï', 3)]);
    applyAll(two, [add('ünï', 3), add('alpha', -7), add('zeta', 1)]);
    const bytes = one.snapshot();
    assert.deepEqual(two.snapshot(), bytes);
    const restored = new CounterStateMachine();
    restored.restore(SnapshotData.of(bytes), meta(3));
    assert.equal(restored.describe(), 'alpha=-7 zeta=1 ünï=3');
    assert.equal(restored.appliedIndex, 3);
    restored.restore(SnapshotData.of(new Uint8Array(0)), meta(0));
    assert.equal(restored.describe(), '');
  });

  it('leaves its state as it was when a snapshot is damaged', () => {
    const sm = new CounterStateMachine();
    applyAll(sm, [encodeCounterCommand({ op: 'add', name: 'a', delta: 1 })]);
    const good = sm.snapshot();
    for (const bad of [
      Uint8Array.of(1, 2, 3),
      good.subarray(0, good.byteLength - 1),
      Uint8Array.of(...good, 0),
    ]) {
      assert.throws(() => sm.restore(SnapshotData.of(bad), meta(5)));
      assert.equal(sm.describe(), 'a=1');
    }
  });
});

// The state machine is what is tested here, so membership changes are off: with them, a rare liveness gap is
// still open (docs/membership.md, "Known gap"); the simulator's own tests cover membership.
describe('the counter under the deterministic simulator', () => {
  it('passes 40 seeds in this thread', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const report = runSeed(seed, { workload: createWorkload, membership: false });
      assert.ok(report.ok, `seed ${seed}: ${report.failure?.message}\n${report.plan}`);
    }
  });

  it('passes 100 seeds in worker threads from the workload module', async () => {
    const result = await runSeeds({
      seeds: 100,
      start: 1000,
      membership: false,
      workloadModule: new URL('./counter-workload.js', import.meta.url),
    });
    assert.equal(result.ran, 100);
    assert.equal(result.failed, 0, result.failures.map((r) => r.failure?.message).join('\n'));
  });
});

describe('the counter on the in-memory network', () => {
  it('keeps counting when the leader is cut off, and the replicas agree after healing', async () => {
    const ids = ['a', 'b', 'c'];
    const network = createMemoryNetwork();
    const counters = new Map(ids.map((id) => [id, new CounterStateMachine()]));
    const nodes: RaftNode<CounterResult>[] = ids.map((id) =>
      createNode<CounterResult>({
        id,
        storage: new MemoryStorage({ conf: { voters: ids, learners: [] } }),
        transport: network.transport(id),
        stateMachine: counters.get(id)!,
        tickIntervalMs: 10,
        snapshotIntervalEntries: 4,
      }),
    );
    try {
      await Promise.all(nodes.map((n) => n.start()));
      const add = encodeCounterCommand({ op: 'add', name: 'n', delta: 1 });
      const first = await waitForLeader(nodes);
      for (let i = 0; i < 5; i++) await proposeToLeader(nodes, add);
      network.isolate(first.id);
      const rest = nodes.filter((n) => n !== first);
      await waitForLeader(rest, 'a new leader among the other two');
      for (let i = 0; i < 5; i++) await proposeToLeader(rest, add);
      network.heal();
      await waitForLeader(nodes, 'the healed cluster to agree on a leader');
      for (const node of nodes) await within(node.read({ timeoutMs: 5_000 }), `a read on ${node.id}`);
      for (const id of ids) assert.equal(counters.get(id)!.get('n'), 10, `replica ${id}`);
    } finally {
      await Promise.all(nodes.map((n) => n.close()));
    }
  });
});

/** A snapshot holding `entries`, made by the state machine itself. */
function encodeSnapshotOf(entries: [string, number][]): Uint8Array {
  const sm = new CounterStateMachine();
  for (const [i, [name]] of entries.entries()) {
    sm.apply({ index: i + 1, term: 1, data: encodeCounterCommand({ op: 'add', name, delta: 0 }) });
  }
  // Values beyond a 32-bit delta are set by editing the snapshot's i64 fields in place.
  const bytes = sm.snapshot();
  const view = new DataView(bytes.buffer);
  let at = 8;
  for (const [name, value] of entries) {
    at += 2 + new TextEncoder().encode(name).byteLength;
    view.setBigInt64(at, BigInt(value), true);
    at += 8;
  }
  return bytes;
}
