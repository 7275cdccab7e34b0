/** Delays between reconnect attempts: exponential, capped, with jitter. */
export interface Backoff {
  /** The delay before the next attempt, in milliseconds; each call doubles the cap up to the maximum. */
  nextDelayMs(): number;
  /** Starts over from the base delay (after a stream opened successfully). */
  reset(): void;
}

/** Options of {@link createBackoff}. */
export interface BackoffOptions {
  /** The cap of the first delay. */
  readonly baseMs: number;
  /** The largest cap. */
  readonly maxMs: number;
  /** Randomness in [0, 1). */
  readonly random: () => number;
}

/**
 * Creates a {@link Backoff} with "equal jitter": attempt `n` waits a uniformly random time in
 * `[cap / 2, cap)` where `cap = min(maxMs, baseMs * 2^n)`, so peers that lost the same node do not all
 * redial it at once, and no attempt follows a failure immediately.
 */
export function createBackoff(options: BackoffOptions): Backoff {
  let attempt = 0;
  return {
    nextDelayMs: () => {
      const cap = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt, 30));
      attempt++;
      return Math.floor(cap / 2 + (options.random() * cap) / 2);
    },
    reset: () => {
      attempt = 0;
    },
  };
}
