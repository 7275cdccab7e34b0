/** One unit of work the runner reports progress on: one round of one case. */
export interface ProgressStep {
  readonly suite: string;
  /** `<suite>/<case>`. */
  readonly name: string;
  /** 1-based. */
  readonly round: number;
  readonly rounds: number;
  /** Expected seconds, before the case has run in this run (declared, from the last run, or a default). */
  readonly estimateSeconds: number;
}

/** Where progress goes: a stream, and whether it is a terminal (one line rewritten in place). */
export interface ProgressOptions {
  readonly write: (text: string) => void;
  readonly tty: boolean;
  /** Terminal width, to keep the line from wrapping. */
  readonly columns?: number;
  /** Milliseconds clock (for tests). */
  readonly now?: () => number;
  /** How often a TTY line is redrawn while a step runs, so that the times move (0: never). */
  readonly refreshMs?: number;
}

/** Reports which step runs, how many are done and an estimate of the time left. */
export interface Progress {
  /** Marks step `index` as started. */
  start(index: number): void;
  /** Marks the started step as done; returns its wall time in seconds. */
  finish(): number;
  /** Seconds left: the started step's remaining estimate plus every later step's estimate. */
  remainingSeconds(): number;
  /** The status text for the current state. */
  status(): string;
  /** Erases the TTY line, before other output goes to the terminal (it is drawn again on the next update). */
  clear(): void;
  /** Erases the TTY line and stops refreshing. */
  stop(): void;
}

/** Formats seconds as `42s`, `3m05s` or `1h02m`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * Creates a progress display over `steps`. Estimates improve as the run goes: a step whose case has
 * already run takes that case's last measured time; a step of a suite that has run other cases has its
 * estimate scaled by how that suite's measured times compared with their estimates.
 */
export function createProgress(steps: readonly ProgressStep[], options: ProgressOptions): Progress {
  const now = options.now ?? (() => performance.now());
  const measured = new Map<string, number>();
  /** Per suite: summed actual and estimated seconds of its finished steps. */
  const suiteTotals = new Map<string, { actual: number; estimated: number }>();
  const began = now();
  let current = -1;
  let currentStart = 0;
  let done = 0;
  let drawn = false;
  let timer: ReturnType<typeof setInterval> | null = null;

  const estimate = (step: ProgressStep): number => {
    const last = measured.get(step.name);
    if (last !== undefined) return last;
    const totals = suiteTotals.get(step.suite);
    const factor = totals !== undefined && totals.estimated > 0 ? totals.actual / totals.estimated : 1;
    return step.estimateSeconds * factor;
  };

  const remainingSeconds = (): number => {
    let left = 0;
    const from = current === -1 ? done : current;
    for (let i = from; i < steps.length; i++) {
      const step = steps[i]!;
      if (i === current) left += Math.max(0, estimate(step) - (now() - currentStart) / 1000);
      else left += estimate(step);
    }
    return left;
  };

  const status = (): string => {
    const total = steps.length;
    const step = current === -1 ? undefined : steps[current];
    const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
    const what =
      step === undefined
        ? done === total
          ? 'done'
          : 'between cases'
        : `${step.name}${step.rounds > 1 ? ` (round ${step.round}/${step.rounds})` : ''}`;
    return (
      `bench [${done}/${total} ${percent}%] ${what} · ${formatDuration((now() - began) / 1000)} elapsed` +
      ` · ~${formatDuration(remainingSeconds())} left`
    );
  };

  const draw = () => {
    if (!options.tty) return;
    let line = status();
    const columns = options.columns ?? 0;
    if (columns > 1 && line.length > columns - 1) line = `${line.slice(0, columns - 2)}…`;
    options.write(`\r\x1b[2K${line}`);
    drawn = true;
  };

  const clear = () => {
    if (options.tty && drawn) options.write('\r\x1b[2K');
    drawn = false;
  };

  return {
    start(index) {
      current = index;
      currentStart = now();
      if (options.tty) {
        draw();
        if (timer === null && (options.refreshMs ?? 1000) > 0) {
          timer = setInterval(draw, options.refreshMs ?? 1000);
          timer.unref();
        }
      } else {
        options.write(`${status()}\n`);
      }
    },
    finish() {
      const step = steps[current];
      const seconds = (now() - currentStart) / 1000;
      if (step !== undefined) {
        const totals = suiteTotals.get(step.suite) ?? { actual: 0, estimated: 0 };
        if (!measured.has(step.name)) {
          totals.actual += seconds;
          totals.estimated += step.estimateSeconds;
          suiteTotals.set(step.suite, totals);
        }
        measured.set(step.name, seconds);
        done++;
      }
      current = -1;
      if (options.tty) draw();
      return seconds;
    },
    remainingSeconds,
    status,
    clear,
    stop() {
      if (timer !== null) clearInterval(timer);
      timer = null;
      clear();
    },
  };
}
