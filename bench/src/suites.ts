import { createAppendsSuite } from './appends/suite.js';
import { createClusterSuite } from './cluster/suite.js';
import { createDriverSuite } from './driver/suite.js';
import { createEtcdSuite } from './etcd/suite.js';
import type { BenchSuite } from './suite.js';
import { createTransportSuite } from './transport/suite.js';
import { createWireTypesSuite } from './wire-types/suite.js';

/** How the runner was asked to run: suites pick their case list from it (a quick run has fewer cases). */
export interface SuiteContext {
  readonly quick: boolean;
}

/** Every suite the runner knows, by name. Suites build their fixtures only when selected. */
export const SUITES: Readonly<Record<string, (context: SuiteContext) => BenchSuite>> = {
  'wire-types': () => createWireTypesSuite(),
  appends: () => createAppendsSuite(),
  driver: () => createDriverSuite(),
  transport: () => createTransportSuite(),
  cluster: ({ quick }) => createClusterSuite({ quick }),
  etcd: ({ quick }) => createEtcdSuite({ quick }),
};
