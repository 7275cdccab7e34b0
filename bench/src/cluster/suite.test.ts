import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { quantile } from './load-protocol.js';
import { EXTRA, formatLoadReport } from './load-suite.js';
import { createClusterSuite } from './suite.js';
import { serveHasBatchingFlag } from './tsraft-cluster.js';

const benchDirs = (): string[] =>
  readdirSync(tmpdir()).filter((name) => name.startsWith('tsraft-bench-cluster-'));

test('quantiles are exact nearest-rank values', () => {
  const sorted = Float64Array.from({ length: 1000 }, (_, i) => i + 1);
  assert.equal(quantile(sorted, 0.5), 500);
  assert.equal(quantile(sorted, 0.99), 990);
  assert.equal(quantile(sorted, 0.999), 999);
  assert.equal(quantile(Float64Array.of(7), 0.999), 7);
  assert.ok(Number.isNaN(quantile(new Float64Array(0), 0.5)));
});

test('the matrices: quick is Put at 16 and 64 in flight, streaming, batching on, unary and stream client; full fits in 10 minutes', () => {
  const quick = createClusterSuite({ quick: true });
  assert.deepEqual(Object.keys(quick.measured), [
    'put/streaming/batching-on/c16',
    'put/streaming/batching-on/c64',
    'put/streaming/batching-on/stream-client/c16',
    'put/streaming/batching-on/stream-client/c64',
  ]);
  const quickMs = Object.values(quick.estimatedMs).reduce((a, b) => a + b, 0);
  assert.ok(quickMs < 20_000, `quick cases take about ${quickMs} ms`);
  assert.deepEqual(
    quick.loadComparisons
      .filter((c) => c.name.includes('stream client'))
      .map((c) => [c.numerator, c.denominator]),
    [
      ['put/streaming/batching-on/stream-client/c16', 'put/streaming/batching-on/c16'],
      ['put/streaming/batching-on/stream-client/c64', 'put/streaming/batching-on/c64'],
    ],
  );

  const full = createClusterSuite();
  const batchings = serveHasBatchingFlag() ? 2 : 1;
  assert.equal(Object.keys(full.measured).length, 4 * 2 * batchings + 1 + 4);
  assert.ok('read90/streaming/batching-on/c64' in full.measured);
  assert.ok('put/unary/batching-on/c256' in full.measured);
  assert.ok('put/streaming/batching-on/stream-client/c256' in full.measured);
  // Cases plus at most 4 cluster starts of ~5 s.
  const fullMs = Object.values(full.estimatedMs).reduce((a, b) => a + b, 0) + 4 * 5_000;
  assert.ok(fullMs < 10 * 60_000, `the full matrix takes about ${fullMs} ms`);
});

test('a tiny quick case runs end to end against 3 tsraft serve processes and cleans up', {
  timeout: 20_000,
}, async () => {
  const before = new Set(benchDirs());
  const suite = createClusterSuite({ quick: true, warmupMs: 300, durationMs: 1_000 });
  const report = await suite.runAll({ select: (name) => name === 'put/streaming/batching-on/c16' });
  assert.equal(report.results.length, 1);
  const result = report.results[0]!;
  assert.equal(result.case, 'put/streaming/batching-on/c16');
  assert.equal(result.backend, 'tsraft');
  assert.equal(result.inFlight, 16);
  assert.ok(result.ops > 0, 'some ops completed');
  assert.equal(result.puts, result.ops);
  assert.deepEqual(result.errors, {});
  assert.ok(Math.abs(result.durationMs - 1_000) < 100, `window of ${result.durationMs} ms`);
  assert.ok(Math.abs(result.throughput - result.ops / (result.durationMs / 1000)) < 1e-6);
  const { p50, p99, p999, max, mean } = result.latencyMs;
  assert.ok(p50 > 0 && p50 <= p99 && p99 <= p999 && p999 <= max && mean <= max);
  assert.ok(result.serverCpuMs > 0 && Number.isFinite(result.serverCpuUsPerOp));
  assert.ok(result.clientCpuUsPerOp > 0);
  assert.match(formatLoadReport(report), /put\/streaming\/batching-on\/c16/);
  // Every temp directory made by this run is gone (so are its processes: they are killed first).
  assert.deepEqual(
    benchDirs().filter((dir) => !before.has(dir)),
    [],
  );
});

test('the runner path: a measured case run with quick reports µs figures and the extras', {
  timeout: 20_000,
}, async () => {
  const suite = createClusterSuite({ quick: true, warmupMs: 200, durationMs: 800 });
  try {
    const m = await suite.measured['put/streaming/batching-on/c64']!.run({ quick: true });
    assert.ok(m.samples > 0 && m.opsPerSecond > 0);
    assert.ok(m.p50Us > 0 && m.p50Us <= m.p99Us && m.p99Us <= m.extra![EXTRA.p999]!);
    assert.ok(m.extra![EXTRA.serverCpu]! > 0);
    assert.equal(m.extra![EXTRA.errors], 0);
    // Little's law in a closed loop: in flight ≈ throughput × mean latency (loosely: a short window on a busy
    // machine counts ops that started before it).
    const inFlight = (m.opsPerSecond * m.meanUs) / 1e6;
    assert.ok(inFlight > 16 && inFlight < 128, `in flight by Little's law: ${inFlight}`);
  } finally {
    await suite.close();
  }
});
