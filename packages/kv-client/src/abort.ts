/** An abort signal that follows several others, until disposed. */
export interface LinkedAbort {
  /** Aborted as soon as any source is, or {@link LinkedAbort.abort} is called. */
  readonly signal: AbortSignal;
  /** Aborts the linked signal (not the sources). */
  abort(reason?: unknown): void;
  /** Stops following the sources; call when the operation ends, so long-lived sources keep no listeners. */
  dispose(): void;
}

/**
 * Links `sources` into one signal. Not `AbortSignal.any`: its listeners on a long-lived source (the client's
 * close signal) are only released by garbage collection, which some Node 20 releases were slow to do.
 */
export function linkAbort(sources: readonly (AbortSignal | undefined)[]): LinkedAbort {
  const controller = new AbortController();
  const followed: { readonly source: AbortSignal; readonly listener: () => void }[] = [];
  const dispose = (): void => {
    for (const { source, listener } of followed) source.removeEventListener('abort', listener);
    followed.length = 0;
  };
  for (const source of sources) {
    if (source === undefined) continue;
    if (source.aborted) {
      controller.abort(source.reason);
      break;
    }
    const listener = (): void => {
      controller.abort(source.reason);
      dispose();
    };
    source.addEventListener('abort', listener, { once: true });
    followed.push({ source, listener });
  }
  if (controller.signal.aborted) dispose();
  return { signal: controller.signal, abort: (reason) => controller.abort(reason), dispose };
}

/**
 * Resolves after `ms` or as soon as `signal` aborts, whichever is first; never rejects. The timer keeps the
 * process alive, as the operation waiting on it does: a CLI must not exit in the middle of a retry.
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
