import assert from 'node:assert/strict';
import { test } from 'node:test';
import { which } from '../cluster/processes.js';
import { createEtcdSuite, INSTALL_HINT } from './suite.js';

test('without etcd on PATH the suite has no cases and skips, saying how to install etcd', async () => {
  const path = process.env.PATH;
  process.env.PATH = '/nonexistent-bin';
  let suite: ReturnType<typeof createEtcdSuite>;
  try {
    suite = createEtcdSuite({ quick: true });
  } finally {
    process.env.PATH = path;
  }
  assert.equal(suite.skipReason, INSTALL_HINT);
  assert.match(INSTALL_HINT, /sudo apt-get install etcd-server/);
  assert.deepEqual(Object.keys(suite.cases), []);
  assert.deepEqual(Object.keys(suite.measured), []);
  const report = await suite.runAll();
  assert.equal(report.skipped, INSTALL_HINT);
  assert.deepEqual(report.results, []);
  assert.deepEqual(report.ratios, []);
  await suite.close();
  // The same with an explicit search path.
  assert.equal(createEtcdSuite({ searchPath: '/nonexistent-bin' }).skipReason, INSTALL_HINT);
});

test('with etcd, the matrices pair every etcd case with a tsraft case', {
  skip: which('etcd') === undefined,
}, () => {
  const quick = createEtcdSuite({ quick: true });
  assert.equal(quick.skipReason, undefined);
  assert.deepEqual(Object.keys(quick.measured), [
    'put/c16/etcd',
    'put/c64/etcd',
    'put/c16/tsraft',
    'put/c16/tsraft-stream',
    'put/c64/tsraft',
    'put/c64/tsraft-stream',
  ]);
  const full = createEtcdSuite();
  assert.equal(Object.keys(full.measured).length, 15);
  // Per workload: each tsraft client over etcd, and stream over unary.
  assert.equal(full.loadComparisons.length, 15);
});

test('with etcd, a tiny case runs against etcd and both tsraft clients in the same run and gives ratios', {
  skip: which('etcd') === undefined ? 'no etcd on PATH' : false,
  timeout: 60_000,
}, async () => {
  const suite = createEtcdSuite({ quick: true, warmupMs: 300, durationMs: 1_000 });
  const report = await suite.runAll({ select: (name) => name.startsWith('put/c16/') });
  assert.deepEqual(
    report.results.map((r) => [r.case, r.backend]),
    [
      ['put/c16/etcd', 'etcd'],
      ['put/c16/tsraft', 'tsraft'],
      ['put/c16/tsraft-stream', 'tsraft-stream'],
    ],
  );
  assert.match(report.results[2]!.system, /Session-stream client/);
  for (const result of report.results) {
    assert.ok(result.ops > 0, `${result.case} completed ops`);
    assert.deepEqual(result.errors, {});
    assert.ok(result.serverCpuUsPerOp > 0);
  }
  assert.deepEqual(
    report.ratios.map((r) => r.name),
    ['put c16: tsraft / etcd', 'put c16: tsraft-stream / etcd', 'put c16: tsraft-stream / tsraft'],
  );
  for (const ratio of report.ratios) {
    assert.ok(ratio.throughputRatio > 0 && Number.isFinite(ratio.throughputRatio));
    assert.ok(ratio.p99Ratio > 0 && Number.isFinite(ratio.p99Ratio));
  }
});
