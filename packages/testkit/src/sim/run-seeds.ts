import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createRawNodeWithFaults, type UnsafeFaults } from '@tsraft/core/testing';
import type { RunPlan } from './run-plan.js';
import { runSeed, type SeedReport } from './run-seed.js';
import type { RawNodeFactory } from './simulation-options.js';
import type { SimWorkload } from './workload.js';

/** A deliberate core bug to run under the simulator (to see the checkers catch it). */
export type UnsafeCoreFault = keyof UnsafeFaults;

/** Names accepted for {@link UnsafeCoreFault}. */
export const UNSAFE_CORE_FAULTS: readonly UnsafeCoreFault[] = [
  'disableFigure8Rule',
  'grantMultipleVotesPerTerm',
];

/** Options of {@link runSeeds}. */
export interface RunSeedsOptions {
  /** How many seeds to run. */
  readonly seeds: number;
  /** The first seed. Default 1. */
  readonly start?: number;
  /** Steps per seed before healing. Default 2000. */
  readonly steps?: number;
  /** Worker threads; 0 runs in this thread. Default: one per core (at most one per seed). */
  readonly workers?: number;
  /** Run a core with this deliberate bug. */
  readonly unsafeCore?: UnsafeCoreFault;
  /**
   * A module (file URL or path) exporting `createWorkload(plan)`, see {@link WorkloadModule}: runs your state
   * machine and workload instead of the register workload. Each worker thread imports it.
   */
  readonly workloadModule?: string | URL;
  /** Keep each seed's whole event log in its report. Default `false`. */
  readonly fullTrace?: boolean;
  /** Change the membership in the runs whose plan draws it (see {@link RunSeedOptions.membership}). Default `true`. */
  readonly membership?: boolean;
  /** Stop handing out seeds after this many failures. Default: never. */
  readonly maxFailures?: number;
  /** Called on this thread with each seed's report, in completion order. */
  readonly onReport?: (report: SeedReport) => void;
}

/** The outcome of {@link runSeeds}. */
export interface RunSeedsResult {
  /** Seeds run (less than asked when `maxFailures` stopped the run). */
  readonly ran: number;
  readonly passed: number;
  readonly failed: number;
  /** Reports of the failed seeds, by seed. */
  readonly failures: readonly SeedReport[];
  /** Wall-clock time (ms). */
  readonly elapsedMs: number;
  /** Worker threads used. */
  readonly workers: number;
}

/**
 * What a workload module (see {@link RunSeedsOptions.workloadModule}) exports: a function making a fresh
 * workload for each seed's run.
 */
export interface WorkloadModule {
  /** A fresh workload (with its state machine factory) for one seed's run, shaped by its plan. */
  createWorkload(plan: RunPlan): SimWorkload;
}

/** Imports a workload module and checks its shape. */
export async function importWorkloadModule(specifier: string | URL): Promise<WorkloadModule> {
  const mod = (await import(specifier.toString())) as Partial<WorkloadModule> & {
    default?: Partial<WorkloadModule>;
  };
  const create = mod.createWorkload ?? mod.default?.createWorkload;
  if (typeof create !== 'function') {
    throw new TypeError(`workload module ${specifier.toString()} must export createWorkload(plan)`);
  }
  return { createWorkload: create };
}

/** Messages from a seed worker to the main thread. */
export type SeedWorkerMessage =
  | { readonly type: 'report'; readonly report: SeedReport }
  | { readonly type: 'done' };

/** What a seed worker is started with. */
export interface SeedWorkerData {
  readonly start: number;
  readonly seeds: number;
  readonly steps: number;
  readonly unsafeCore: UnsafeCoreFault | null;
  readonly fullTrace: boolean;
  readonly membership: boolean;
  /** URL of a workload module, if any. */
  readonly workloadModule: string | null;
  /** `[next seed offset, failures so far, max failures]`. */
  readonly shared: SharedArrayBuffer;
}

function moduleUrl(specifier: string | URL): string {
  if (specifier instanceof URL) return specifier.href;
  return /^[a-z][a-z0-9+.-]*:/i.test(specifier) ? specifier : pathToFileURL(resolve(specifier)).href;
}

/** The RawNode factory for an unsafe core fault (or `undefined` for the real core). */
export function rawNodeFactoryFor(fault: UnsafeCoreFault | null | undefined): RawNodeFactory | undefined {
  if (fault === null || fault === undefined) return undefined;
  if (!UNSAFE_CORE_FAULTS.includes(fault)) throw new RangeError(`unknown unsafe core fault ${String(fault)}`);
  return (config) => createRawNodeWithFaults(config, { [fault]: true });
}

/**
 * Runs seeds `start`, `start + 1`, ... with {@link runSeed}, spread over worker threads (seeds are handed out
 * one at a time, so a slow seed does not hold up the others). Every seed's run is the same as on its own.
 */
export async function runSeeds(options: RunSeedsOptions): Promise<RunSeedsResult> {
  const seeds = options.seeds;
  const start = options.start ?? 1;
  const steps = options.steps ?? 2000;
  if (!Number.isSafeInteger(seeds) || seeds < 0)
    throw new RangeError(`seeds must be an integer >= 0, got ${seeds}`);
  if (!Number.isSafeInteger(start) || start < 0)
    throw new RangeError(`start must be an integer >= 0, got ${start}`);
  if (!Number.isSafeInteger(steps) || steps < 0)
    throw new RangeError(`steps must be an integer >= 0, got ${steps}`);
  const workers = Math.min(options.workers ?? availableParallelism(), seeds);
  const maxFailures = options.maxFailures ?? Number.POSITIVE_INFINITY;
  const began = Date.now();
  const failures: SeedReport[] = [];
  let ran = 0;
  const record = (report: SeedReport): void => {
    ran++;
    if (!report.ok) failures.push(report);
    options.onReport?.(report);
  };

  const workloadModule = options.workloadModule === undefined ? null : moduleUrl(options.workloadModule);
  if (workers <= 0) {
    const createRawNode = rawNodeFactoryFor(options.unsafeCore);
    const workload =
      workloadModule === null ? undefined : (await importWorkloadModule(workloadModule)).createWorkload;
    for (let i = 0; i < seeds && failures.length < maxFailures; i++) {
      record(
        runSeed(start + i, {
          steps,
          fullTrace: options.fullTrace ?? false,
          membership: options.membership ?? true,
          ...(createRawNode === undefined ? {} : { createRawNode }),
          ...(workload === undefined ? {} : { workload }),
        }),
      );
    }
  } else {
    const shared = new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT);
    const counters = new Int32Array(shared);
    counters[2] = Number.isFinite(maxFailures) ? Math.min(maxFailures, 2 ** 31 - 1) : 2 ** 31 - 1;
    const data: SeedWorkerData = {
      start,
      seeds,
      steps,
      unsafeCore: options.unsafeCore ?? null,
      fullTrace: options.fullTrace ?? false,
      membership: options.membership ?? true,
      workloadModule,
      shared,
    };
    await Promise.all(
      Array.from(
        { length: workers },
        () =>
          new Promise<void>((resolve, reject) => {
            const worker = new Worker(new URL('./seed-worker.js', import.meta.url), { workerData: data });
            let done = false;
            worker.on('message', (message: SeedWorkerMessage) => {
              if (message.type === 'report') record(message.report);
              else done = true;
            });
            worker.on('error', reject);
            worker.on('exit', (code) => {
              if (done && code === 0) resolve();
              else reject(new Error(`seed worker exited with code ${code} before finishing`));
            });
          }),
      ),
    );
  }
  failures.sort((a, b) => a.seed - b.seed);
  return {
    ran,
    passed: ran - failures.length,
    failed: failures.length,
    failures,
    elapsedMs: Date.now() - began,
    workers: Math.max(0, workers),
  };
}
