import { createAppendsSuite } from './appends/suite.js';
import type { BenchSuite } from './suite.js';
import { createTransportSuite } from './transport/suite.js';
import { createWireTypesSuite } from './wire-types/suite.js';

/** Every suite the runner knows, by name. Suites build their fixtures only when selected. */
export const SUITES: Readonly<Record<string, () => BenchSuite>> = {
  'wire-types': createWireTypesSuite,
  appends: createAppendsSuite,
  transport: createTransportSuite,
};
