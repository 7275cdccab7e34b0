/** An abort signal that follows several others, until disposed. */
export interface LinkedAbort {
  /** Aborted as soon as any source is, or {@link LinkedAbort.abort} is called. */
  readonly signal: AbortSignal;
  /** Aborts the linked signal (not the sources). */
  abort(reason?: unknown): void;
  /** Stops following the sources; call when the operation ends, so long-lived sources keep no listeners. */
  dispose(): void;
}

/** The controllers following one source, and the one listener on that source that aborts them all. */
interface FanOut {
  readonly followers: Set<AbortController>;
  readonly listener: () => void;
}

/** One entry per source that some linked signal follows; weak, so a dropped source is not pinned. */
const fanOuts = new WeakMap<AbortSignal, FanOut>();

/**
 * Makes `controller` abort when `source` does; returns the function that stops it. However many controllers
 * follow a source at once, the source holds one listener (removed when the last one stops following), so a
 * long-lived source shared by many concurrent operations (the client's close signal, a caller's shutdown
 * signal) never trips Node's `MaxListenersExceededWarning`.
 */
function follow(source: AbortSignal, controller: AbortController): () => void {
  let fanOut = fanOuts.get(source);
  if (fanOut === undefined) {
    const followers = new Set<AbortController>();
    const listener = (): void => {
      // The entry goes first: a follower aborted below may dispose (and so unfollow) synchronously.
      if (fanOuts.get(source)?.followers === followers) fanOuts.delete(source);
      const all = [...followers];
      followers.clear();
      for (const follower of all) follower.abort(source.reason);
    };
    fanOut = { followers, listener };
    fanOuts.set(source, fanOut);
    source.addEventListener('abort', listener, { once: true });
  }
  const { followers, listener } = fanOut;
  followers.add(controller);
  return () => {
    if (!followers.delete(controller) || followers.size > 0) return;
    source.removeEventListener('abort', listener);
    if (fanOuts.get(source)?.followers === followers) fanOuts.delete(source);
  };
}

/**
 * Links `sources` into one signal. Not `AbortSignal.any`: its listeners on a long-lived source (the client's
 * close signal) are only released by garbage collection, which some Node 20 releases were slow to do. Each
 * source holds a single listener however many linked signals follow it (see {@link follow}).
 */
export function linkAbort(sources: readonly (AbortSignal | undefined)[]): LinkedAbort {
  const controller = new AbortController();
  const unfollows: (() => void)[] = [];
  const dispose = (): void => {
    for (const unfollow of unfollows) unfollow();
    unfollows.length = 0;
  };
  for (const source of sources) {
    if (source === undefined) continue;
    if (source.aborted) {
      controller.abort(source.reason);
      break;
    }
    unfollows.push(follow(source, controller));
  }
  if (controller.signal.aborted) dispose();
  else controller.signal.addEventListener('abort', dispose, { once: true });
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
