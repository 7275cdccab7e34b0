import type { Bitset } from './bitset.js';

const INITIAL_CAPACITY = 1024;

/**
 * The search's memo of configurations already explored: (set of linearized operations, model state).
 *
 * Lookups are by dominance, not only equality. Operations with an unknown outcome are optional, so a
 * configuration that linearized the same completed operations, reached the same state and linearized a
 * *subset* of the current unknown-outcome operations can do everything the current one can: if it was
 * explored, the current one need not be. With no unknown operations this is plain equality, as in
 * Lowe's and Porcupine's caches.
 *
 * Storage is flat: sets are copied into one growing word pool, states are interned to small integers and
 * entries are chained in an open hash table keyed by (hash of the completed operations, state), so that
 * dominating entries share a chain. About `4 * ceil(n / 32) + 20` bytes per entry for `n` operations.
 */
export class ConfigCache {
  private readonly width: number;
  private readonly mask: Uint32Array;
  private readonly stateIds = new Map<string, number>();
  private pool: Uint32Array;
  private stateOf: Int32Array;
  private hashOf: Int32Array;
  private chain: Int32Array;
  private heads: Int32Array;
  private entries = 0;

  /** `knownMask` holds the ids of the operations whose outcome is known (completed). */
  constructor(knownMask: Bitset) {
    this.mask = knownMask.words.slice();
    this.width = this.mask.length;
    this.pool = new Uint32Array(INITIAL_CAPACITY * this.width);
    this.stateOf = new Int32Array(INITIAL_CAPACITY);
    this.hashOf = new Int32Array(INITIAL_CAPACITY);
    this.chain = new Int32Array(INITIAL_CAPACITY);
    this.heads = new Int32Array(INITIAL_CAPACITY * 2).fill(-1);
  }

  /** The number of configurations stored. */
  get size(): number {
    return this.entries;
  }

  /** Approximate bytes used per stored configuration. */
  get bytesPerEntry(): number {
    return 4 * this.width + 20;
  }

  /**
   * Records (`linearized`, `stateKey`) and returns `true`, or returns `false` if a stored configuration
   * dominates it. `hash` is the XOR of {@link knownHash} over the completed operations in `linearized`.
   */
  visit(linearized: Bitset, hash: number, stateKey: string): boolean {
    let state = this.stateIds.get(stateKey);
    if (state === undefined) {
      state = this.stateIds.size;
      this.stateIds.set(stateKey, state);
    } else if (this.covered(linearized.words, hash, state)) {
      return false;
    }
    this.add(linearized.words, hash, state);
    return true;
  }

  private covered(cur: Uint32Array, hash: number, state: number): boolean {
    const h = combine(hash, state);
    const { width, mask, pool, stateOf, hashOf, chain } = this;
    outer: for (let e = this.heads[h & (this.heads.length - 1)]!; e >= 0; e = chain[e]!) {
      if (hashOf[e] !== h || stateOf[e] !== state) continue;
      const base = e * width;
      for (let k = 0; k < width; k++) {
        const c = cur[k]!;
        const s = pool[base + k]!;
        // The stored set must be a subset of the current one and agree on every completed operation.
        if ((s & ~c) !== 0 || ((s ^ c) & mask[k]!) !== 0) continue outer;
      }
      return true;
    }
    return false;
  }

  private add(cur: Uint32Array, hash: number, state: number): void {
    if (this.entries === this.stateOf.length) this.grow();
    const e = this.entries++;
    const h = combine(hash, state);
    this.pool.set(cur, e * this.width);
    this.stateOf[e] = state;
    this.hashOf[e] = h;
    const bucket = h & (this.heads.length - 1);
    this.chain[e] = this.heads[bucket]!;
    this.heads[bucket] = e;
  }

  private grow(): void {
    const capacity = this.stateOf.length * 2;
    const pool = new Uint32Array(capacity * this.width);
    pool.set(this.pool);
    this.pool = pool;
    this.stateOf = resized(this.stateOf, capacity);
    this.hashOf = resized(this.hashOf, capacity);
    this.chain = resized(this.chain, capacity);
    // Keep the table at most half full.
    this.heads = new Int32Array(capacity * 2).fill(-1);
    const last = this.heads.length - 1;
    for (let e = 0; e < this.entries; e++) {
      const bucket = this.hashOf[e]! & last;
      this.chain[e] = this.heads[bucket]!;
      this.heads[bucket] = e;
    }
  }
}

/**
 * The hash contribution of operation `id`; the hash of a set is the XOR of its members' contributions, so it
 * can be updated in O(1) when an operation is linearized or backtracked.
 */
export function knownHash(id: number): number {
  return fmix(Math.imul(id + 0x3c6ef372, 0x9e3779b1));
}

function combine(hash: number, state: number): number {
  return fmix(hash ^ Math.imul(state + 1, 0x27d4eb2f));
}

function fmix(x: number): number {
  let h = x ^ (x >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

function resized(a: Int32Array, capacity: number): Int32Array {
  const b = new Int32Array(capacity);
  b.set(a);
  return b;
}
