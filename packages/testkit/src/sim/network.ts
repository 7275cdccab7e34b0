import type { SimRandom } from './sim-random.js';

/** How the simulated network treats messages on links that are up. Rates are probabilities in `[0, 1]`. */
export interface NetworkProfile {
  /** Shortest one-way delay (ms). */
  readonly minDelayMs: number;
  /** Longest ordinary one-way delay (ms); delays are uniform in between, so messages also reorder a little. */
  readonly maxDelayMs: number;
  /** Probability that a message is lost. */
  readonly lossRate: number;
  /** Probability that a message is delivered twice (the copy has its own delay). */
  readonly duplicateRate: number;
  /** Probability that a message is held back by up to `reorderDelayMs` more, so later ones overtake it. */
  readonly reorderRate: number;
  /** Longest extra delay of a held-back message (ms). */
  readonly reorderDelayMs: number;
}

/** A reliable, quick network: 1–5 ms, nothing lost, duplicated or held back. */
export const RELIABLE_NETWORK: NetworkProfile = Object.freeze({
  minDelayMs: 1,
  maxDelayMs: 5,
  lossRate: 0,
  duplicateRate: 0,
  reorderRate: 0,
  reorderDelayMs: 0,
});

/** What happens to one message: dropped (and why) or delivered after each of `delays`. */
export type Route =
  | { readonly kind: 'dropped'; readonly reason: 'partition' | 'loss' }
  | { readonly kind: 'delivered'; readonly delays: readonly number[] };

/**
 * The simulated network between `size` nodes: directed links that can be cut in any shape (symmetric
 * partitions, one-way cuts, isolation), and a {@link NetworkProfile} for loss, delay, reordering and
 * duplication on the links that are up.
 */
export class SimNetwork {
  /** Invariant: `cut[from * size + to]` is 1 exactly when messages from `from` to `to` are dropped. */
  private readonly cut: Uint8Array;
  private cutCount = 0;
  /** How links that are up treat messages; may be replaced at any time. */
  profile: NetworkProfile;

  constructor(
    readonly size: number,
    profile: NetworkProfile,
    private readonly random: SimRandom,
  ) {
    this.cut = new Uint8Array(size * size);
    this.profile = profile;
  }

  /** Whether messages from `from` to `to` are dropped. */
  isCut(from: number, to: number): boolean {
    return this.cutCount > 0 && this.cut[from * this.size + to] === 1;
  }

  /** Whether any link is cut. */
  get partitioned(): boolean {
    return this.cutCount > 0;
  }

  /** Cuts the link from `from` to `to` (one way). */
  cutOneWay(from: number, to: number): void {
    if (from === to) return;
    const k = from * this.size + to;
    if (this.cut[k] === 0) {
      this.cut[k] = 1;
      this.cutCount++;
    }
  }

  /** Restores the link from `from` to `to`. */
  restoreOneWay(from: number, to: number): void {
    const k = from * this.size + to;
    if (this.cut[k] === 1) {
      this.cut[k] = 0;
      this.cutCount--;
    }
  }

  /** Cuts both directions between `a` and `b`. */
  cutBoth(a: number, b: number): void {
    this.cutOneWay(a, b);
    this.cutOneWay(b, a);
  }

  /** Cuts every link to and from `node`. */
  isolate(node: number): void {
    for (let other = 0; other < this.size; other++) this.cutBoth(node, other);
  }

  /** Splits the nodes into `groups` (every node in exactly one): links inside a group stay up, others are cut. */
  partition(groups: readonly (readonly number[])[]): void {
    const groupOf = new Int32Array(this.size).fill(-1);
    groups.forEach((group, g) => {
      for (const node of group) groupOf[node] = g;
    });
    this.heal();
    for (let a = 0; a < this.size; a++) {
      for (let b = 0; b < this.size; b++) {
        if (a !== b && groupOf[a] !== groupOf[b]) this.cutOneWay(a, b);
      }
    }
  }

  /** Restores every link. */
  heal(): void {
    this.cut.fill(0);
    this.cutCount = 0;
  }

  /** The directed links currently cut, as `[from, to]` pairs. */
  cutLinks(): [number, number][] {
    const out: [number, number][] = [];
    for (let a = 0; a < this.size; a++) {
      for (let b = 0; b < this.size; b++) if (this.isCut(a, b)) out.push([a, b]);
    }
    return out;
  }

  /** Decides the fate of one message sent now from `from` to `to`. */
  route(from: number, to: number): Route {
    if (this.isCut(from, to)) return DROPPED_BY_PARTITION;
    const p = this.profile;
    if (p.lossRate > 0 && this.random.chance(p.lossRate)) return DROPPED_BY_LOSS;
    const first = this.delay();
    if (p.duplicateRate > 0 && this.random.chance(p.duplicateRate)) {
      return { kind: 'delivered', delays: [first, this.delay()] };
    }
    return { kind: 'delivered', delays: [first] };
  }

  private delay(): number {
    const p = this.profile;
    let d = this.random.int(p.minDelayMs, p.maxDelayMs);
    if (p.reorderRate > 0 && this.random.chance(p.reorderRate)) d += this.random.int(0, p.reorderDelayMs);
    return d;
  }
}

const DROPPED_BY_PARTITION: Route = Object.freeze({ kind: 'dropped', reason: 'partition' });
const DROPPED_BY_LOSS: Route = Object.freeze({ kind: 'dropped', reason: 'loss' });
