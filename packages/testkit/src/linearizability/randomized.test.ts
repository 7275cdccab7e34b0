import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLinearizable } from './check.js';
import type { Operation } from './history.js';
import {
  registerInput as I,
  registerOutput as O,
  type RegisterInput,
  type RegisterOutput,
  registerModel,
} from './register-model.js';

type Op = Operation<RegisterInput, RegisterOutput>;

/** Deterministic 32-bit generator (a xorshift variant) so every run sees the same histories. */
function prng(seed: number): { int(bound: number): number; chance(p: number): boolean } {
  let s = seed >>> 0 || 1;
  const u32 = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  return { int: (bound) => u32() % bound, chance: (p) => u32() / 4294967296 < p };
}

interface Shape {
  readonly keys: number;
  readonly clients: number;
  readonly opsPerClient: number;
  /** Probability that an operation's outcome is unknown to its client. */
  readonly unknownRate: number;
}

/**
 * A history produced by an actual sequential execution: each operation gets a random interval and a
 * linearization point inside it (anywhere after the call if its outcome is unknown), the operations are
 * applied to a real map in linearization-point order, and the outputs are what that execution returned.
 * Such a history is linearizable by construction.
 */
function generate(seed: number, shape: Shape): Op[] {
  const rng = prng(seed);
  const planned: {
    clientId: number;
    key: string;
    kind: RegisterInput['kind'];
    call: number;
    at: number;
    ret: number;
    unknown: boolean;
    applied: boolean;
  }[] = [];
  for (let c = 0; c < shape.clients; c++) {
    let t = rng.int(10);
    for (let k = 0; k < shape.opsPerClient; k++) {
      const call = t + rng.int(5);
      const unknown = rng.chance(shape.unknownRate);
      const at = call + rng.int(unknown ? 200 : 20);
      const ret = unknown ? Number.POSITIVE_INFINITY : at + rng.int(20);
      const roll = rng.int(10);
      const kind = roll < 5 ? 'read' : roll < 8 ? 'write' : 'cas';
      // An unknown-outcome operation took effect, or never did.
      planned.push({
        clientId: c,
        key: `k${rng.int(shape.keys)}`,
        kind,
        call,
        at,
        ret,
        unknown,
        applied: !unknown || rng.chance(0.5),
      });
      t = unknown ? call + 30 : ret; // a client that timed out moves on
    }
  }
  const order = planned.map((_, i) => i).sort((a, b) => planned[a]!.at - planned[b]!.at || a - b);
  const store = new Map<string, string>();
  const ops: Op[] = new Array(planned.length);
  let written = 0;
  for (const i of order) {
    const p = planned[i]!;
    const current = store.get(p.key) ?? null;
    let input: RegisterInput;
    let output: RegisterOutput;
    if (p.kind === 'read') {
      input = I.read(p.key);
      output = O.read(current);
    } else if (p.kind === 'write') {
      input = I.write(p.key, `v${written++}`);
      output = O.write();
    } else {
      const expected = rng.chance(0.6) ? current : rng.chance(0.5) ? null : `v${rng.int(written + 1)}`;
      input = I.cas(p.key, expected, `v${written++}`);
      output = O.cas(expected === current);
    }
    if (p.applied && input.kind !== 'read') {
      if (input.kind === 'write' || (output.kind === 'cas' && output.ok)) store.set(p.key, input.value);
    }
    ops[i] = p.unknown
      ? { clientId: p.clientId, input, call: p.call, return: p.ret }
      : { clientId: p.clientId, input, output, call: p.call, return: p.ret };
  }
  return ops;
}

describe('randomized histories (fixed seed)', () => {
  const shapes: Shape[] = [
    { keys: 1, clients: 3, opsPerClient: 30, unknownRate: 0 },
    { keys: 1, clients: 5, opsPerClient: 60, unknownRate: 0.05 },
    { keys: 3, clients: 5, opsPerClient: 100, unknownRate: 0.1 },
    { keys: 2, clients: 4, opsPerClient: 80, unknownRate: 0.2 },
  ];

  it('accepts every history generated from a sequential execution', () => {
    for (let seed = 1; seed <= 120; seed++) {
      const shape = shapes[seed % shapes.length]!;
      const history = generate(seed, shape);
      const result = checkLinearizable(history, registerModel);
      assert.equal(
        result.ok,
        true,
        `seed ${seed}: ${result.ok === false ? result.reason : JSON.stringify(result)}`,
      );
    }
  });

  it('catches a read mutated to return a value that was never written', () => {
    let mutated = 0;
    for (let seed = 1; seed <= 120; seed++) {
      const shape = shapes[seed % shapes.length]!;
      const history = generate(seed, shape);
      const reads = history
        .map((op, i) => [op, i] as const)
        .filter(([op]) => op.input.kind === 'read' && op.return !== Number.POSITIVE_INFINITY);
      if (reads.length === 0) continue;
      const [victim, index] = reads[prng(seed * 7919).int(reads.length)]!;
      const bad = history.slice();
      bad[index] = { ...victim, output: O.read('never-written') };
      const result = checkLinearizable(bad, registerModel);
      assert.equal(result.ok, false, `seed ${seed}: mutation of #${index} not caught`);
      if (result.ok !== false) continue;
      assert.equal(result.key, victim.input.key);
      assert.ok(
        result.candidates.some((op) => op.index === index),
        `seed ${seed}: the mutated read #${index} should be among the candidates`,
      );
      mutated++;
    }
    assert.ok(mutated > 100);
  });

  it('checks 300-operation single-key histories of 5 clients in milliseconds', (t) => {
    const shape: Shape = { keys: 1, clients: 5, opsPerClient: 60, unknownRate: 0.05 };
    const times: number[] = [];
    for (let seed = 500; seed < 530; seed++) {
      const history = generate(seed, shape);
      const started = performance.now();
      const result = checkLinearizable(history, registerModel);
      times.push(performance.now() - started);
      assert.equal(result.ok, true);
    }
    times.sort((a, b) => a - b);
    const median = times[times.length >> 1]!;
    t.diagnostic(`median ${median.toFixed(2)} ms, max ${times[times.length - 1]!.toFixed(2)} ms`);
    // Generous bounds so a loaded machine does not fail the suite; typical values are a few milliseconds.
    assert.ok(median < 100, `median ${median} ms`);
  });
});
