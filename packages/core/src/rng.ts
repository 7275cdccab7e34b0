/**
 * A small, fast, seeded pseudo-random generator (mulberry32).
 * The core takes all its randomness from one of these so the same seed replays the same run.
 * Not cryptographic; written here because it is eight lines and the core may not import I/O-bound libraries.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniformly distributed 32-bit unsigned integer. */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A float in `[0, 1)`. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** An integer in `[0, bound)`. */
  nextInt(bound: number): number {
    return Math.floor(this.next() * bound);
  }
}
