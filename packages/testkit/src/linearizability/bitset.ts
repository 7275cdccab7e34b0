/**
 * A fixed-size set of small non-negative integers (operation ids), stored as 32-bit words.
 * The checker keeps one of these for "which operations are linearized so far" and copies it into its cache.
 */
export class Bitset {
  /** The backing words; bit `i % 32` of word `i >>> 5` is element `i`. Exposed for fast whole-set comparisons. */
  readonly words: Uint32Array;

  /** An empty set able to hold the integers `0 .. size - 1`. */
  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 0)
      throw new RangeError(`bitset size must be a non-negative integer, got ${size}`);
    this.words = new Uint32Array((size + 31) >>> 5);
  }

  /** Whether `i` is in the set. */
  has(i: number): boolean {
    return ((this.words[i >>> 5]! >>> (i & 31)) & 1) === 1;
  }

  /** Adds `i`. */
  set(i: number): void {
    this.words[i >>> 5]! |= 1 << (i & 31);
  }

  /** Removes `i`. */
  clear(i: number): void {
    this.words[i >>> 5]! &= ~(1 << (i & 31));
  }

  /** The number of elements. */
  count(): number {
    let n = 0;
    for (const w of this.words) {
      let v = w - ((w >>> 1) & 0x55555555);
      v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
      n += Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
    }
    return n;
  }

  /** An independent copy. */
  clone(): Bitset {
    const copy = new Bitset(this.size);
    copy.words.set(this.words);
    return copy;
  }

  /** Whether both sets hold the same elements (sets of different sizes are never equal). */
  equals(other: Bitset): boolean {
    if (other.size !== this.size) return false;
    const a = this.words;
    const b = other.words;
    for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
    return true;
  }

  /** Whether every element of this set is also in `other` (which must have the same size). */
  isSubsetOf(other: Bitset): boolean {
    if (other.size !== this.size) return false;
    const a = this.words;
    const b = other.words;
    for (let k = 0; k < a.length; k++) if ((a[k]! & ~b[k]!) !== 0) return false;
    return true;
  }

  /** The elements in increasing order. */
  toArray(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.size; i++) if (this.has(i)) out.push(i);
    return out;
  }
}
