import { RaftError } from '../errors.js';

/** Per-call options of a node operation that waits (`propose`, `read`). */
export interface OperationOptions {
  /** Cancels the wait. The promise rejects with `ABORTED`; a proposal may still be applied. */
  readonly signal?: AbortSignal;
  /** Milliseconds to wait before rejecting with `TIMEOUT`; a proposal may still be applied. Default: no limit. */
  readonly timeoutMs?: number;
}

/** Settles one waiting operation; the first call wins and later calls do nothing. */
export interface Settler<T> {
  resolve(value: T): void;
  reject(error: RaftError): void;
  /** Whether `resolve` or `reject` was called (or the operation timed out or was aborted). */
  readonly settled: boolean;
}

/** How an operation describes itself in `TIMEOUT` and `ABORTED` errors. */
export interface OperationWording {
  /** For example "proposal". */
  readonly noun: string;
  /** Appended to `TIMEOUT` and `ABORTED` messages, for example "; it may or may not have been applied". */
  readonly outcome: string;
}

/**
 * Runs `begin` and returns a promise it settles through the {@link Settler} it is given, bounded by the
 * options' timeout and abort signal. `begin` returns a function that forgets the operation: it is called
 * when the timeout or the abort wins. A `RaftError` thrown by `begin` rejects the promise.
 */
export function runOperation<T>(
  options: OperationOptions,
  wording: OperationWording,
  begin: (settler: Settler<T>) => () => void,
): Promise<T> {
  const { signal, timeoutMs } = options;
  if (timeoutMs !== undefined && !(timeoutMs > 0 && Number.isFinite(timeoutMs))) {
    return Promise.reject(
      new RaftError('INVALID_ARGUMENT', `timeoutMs must be a finite number > 0, got ${timeoutMs}`),
    );
  }
  if (signal?.aborted) {
    return Promise.reject(
      new RaftError('ABORTED', `${wording.noun} aborted before it started`, { cause: signal.reason }),
    );
  }
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let forget: () => void = () => {};
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const onAbort = (): void => {
      if (!finish()) return;
      forget();
      reject(
        new RaftError('ABORTED', `${wording.noun} aborted${wording.outcome}`, { cause: signal?.reason }),
      );
    };
    const settler: Settler<T> = {
      resolve: (value) => {
        if (finish()) resolve(value);
      },
      reject: (error) => {
        if (finish()) reject(error);
      },
      get settled() {
        return settled;
      },
    };
    try {
      forget = begin(settler);
    } catch (error) {
      settler.reject(RaftError.from(error));
      return;
    }
    if (settled) return;
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        if (!finish()) return;
        forget();
        reject(new RaftError('TIMEOUT', `${wording.noun} timed out after ${timeoutMs} ms${wording.outcome}`));
      }, timeoutMs);
    }
  });
}
