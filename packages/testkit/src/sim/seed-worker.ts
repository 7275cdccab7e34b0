import { parentPort, workerData } from 'node:worker_threads';
import { runSeed } from './run-seed.js';
import {
  importWorkloadModule,
  rawNodeFactoryFor,
  type SeedWorkerData,
  type SeedWorkerMessage,
} from './run-seeds.js';

// One worker thread of `runSeeds`: takes seed offsets from a shared counter until none are left.
const data = workerData as SeedWorkerData;
const counters = new Int32Array(data.shared);
const createRawNode = rawNodeFactoryFor(data.unsafeCore);
const post = (message: SeedWorkerMessage): void => parentPort!.postMessage(message);
const workload =
  data.workloadModule === null ? undefined : (await importWorkloadModule(data.workloadModule)).createWorkload;

for (;;) {
  if (Atomics.load(counters, 1) >= Atomics.load(counters, 2)) break;
  const offset = Atomics.add(counters, 0, 1);
  if (offset >= data.seeds) break;
  const report = runSeed(data.start + offset, {
    steps: data.steps,
    fullTrace: data.fullTrace,
    membership: data.membership,
    ...(createRawNode === undefined ? {} : { createRawNode }),
    ...(workload === undefined ? {} : { workload }),
  });
  if (!report.ok) Atomics.add(counters, 1, 1);
  post({ type: 'report', report });
}
post({ type: 'done' });
