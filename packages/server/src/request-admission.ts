import { KvError } from '@tsraft/kv-client';

/**
 * Bounds the client requests a server works on at once: past the bound a request is refused at once
 * (RESOURCE_EXHAUSTED) rather than queued, so overload shows as fast errors, not growing memory and latency.
 */
export class RequestAdmission {
  private inflight = 0;
  private accepting = true;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly maxInflight: number) {}

  /** Requests in progress. */
  get size(): number {
    return this.inflight;
  }

  /** Takes a slot; returns why not when refused (`full`, or `stopping` once {@link stop} was called). */
  tryEnter(): 'ok' | 'full' | 'stopping' {
    if (!this.accepting) return 'stopping';
    if (this.inflight >= this.maxInflight) return 'full';
    this.inflight++;
    return 'ok';
  }

  /** Takes a slot; returns the error to answer with when refused. */
  enter(nodeId: string): KvError | undefined {
    const admitted = this.tryEnter();
    if (admitted === 'ok') return undefined;
    return admitted === 'full'
      ? new KvError(
          'RESOURCE_EXHAUSTED',
          `${nodeId} has ${this.maxInflight} requests in progress; retry later`,
        )
      : new KvError('UNAVAILABLE', `${nodeId} is shutting down`);
  }

  /** Gives a slot back. */
  leave(): void {
    this.inflight--;
    if (this.inflight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Refuses every later request. */
  stop(): void {
    this.accepting = false;
  }

  /** Resolves once no request is in progress, or after `maxWaitMs`; returns whether it drained. */
  async drain(maxWaitMs: number): Promise<boolean> {
    if (this.inflight === 0) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const drained = await Promise.race([
      new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true))),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), maxWaitMs);
      }),
    ]);
    clearTimeout(timer);
    return drained;
  }
}
