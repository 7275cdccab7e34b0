import { SeededRandom } from '@tsraft/core';

/**
 * The simulator's single source of randomness: core's seeded generator plus the helpers a simulation needs.
 * Every random choice of a run (faults, delays, workload, each node's election seed) is drawn from one
 * instance, so a seed replays the same run exactly.
 */
export class SimRandom {
  private readonly source: SeededRandom;

  /** Seeds the generator; any safe integer works, and nearby seeds give unrelated streams. */
  constructor(seed: number) {
    this.source = new SeededRandom(mixSeed(seed));
  }

  /** A float in `[0, 1)`. */
  float(): number {
    return this.source.next();
  }

  /** A uniformly distributed 32-bit unsigned integer. */
  uint32(): number {
    return this.source.nextUint32();
  }

  /** An integer in `[lo, hi]` (both inclusive). */
  int(lo: number, hi: number): number {
    return lo + this.source.nextInt(hi - lo + 1);
  }

  /** `true` with probability `p`. Always consumes one draw, so changing `p` does not shift later choices. */
  chance(p: number): boolean {
    return this.source.next() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick() from an empty array');
    return items[this.source.nextInt(items.length)]!;
  }

  /** One key of `weights`, chosen with probability proportional to its weight (weights >= 0, sum > 0). */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    let total = 0;
    for (const key in weights) total += weights[key];
    let x = this.source.next() * total;
    let last: K | undefined;
    for (const key in weights) {
      const w = weights[key];
      if (w <= 0) continue;
      last = key;
      if (x < w) return key;
      x -= w;
    }
    if (last === undefined) throw new RangeError('weighted() needs a positive weight');
    return last;
  }

  /** A new array with the elements of `items` in random order. */
  shuffled<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.source.nextInt(i + 1);
      const tmp = out[i]!;
      out[i] = out[j]!;
      out[j] = tmp;
    }
    return out;
  }
}

/** Folds a safe integer into 32 well-mixed bits (murmur3's finaliser over both halves). */
function mixSeed(seed: number): number {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  return fmix32(lo ^ fmix32(hi ^ 0x632be5ab));
}

function fmix32(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}
