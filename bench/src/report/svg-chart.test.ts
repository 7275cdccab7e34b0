import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SuiteReport } from '../report.js';
import { chartData, DEFAULT_CHARTS } from './charts.js';
import { escapeXml, formatCompact, renderBarChart } from './svg-chart.js';
import { checkXml } from './xml.js';

/** A small report as a run writes it to JSON. */
export function sampleReport(overrides: Partial<SuiteReport> = {}): SuiteReport {
  const result = (name: string, meanUs: number) => ({
    name: `demo/${name}`,
    meanUs,
    p50Us: meanUs * 0.9,
    p99Us: meanUs * 3,
    rmePercent: 1.5,
    opsPerSecond: 1e6 / meanUs,
    samples: 100,
  });
  return {
    suite: 'demo',
    description: 'a demo suite <with> "markup" & such',
    date: '2026-11-28T10:00:00.000Z',
    command: 'pnpm bench demo --quick',
    quick: true,
    rounds: 1,
    filter: ['demo'],
    environment: {
      node: 'v20.20.2',
      platform: 'linux',
      arch: 'x64',
      cpu: 'AMD EPYC',
      cpuCount: 2,
      loadAverage: 0.5,
    },
    cases: [result('fast/1KiB', 10), result('slow/1KiB', 5000), result('a&b<c>', 300)],
    comparisons: [
      {
        name: 'slow / fast',
        meanRatio: 500,
        meanRatioRange: [500, 500],
        p50Ratio: 500,
        p50RatioRange: [500, 500],
        meanDifferenceUs: 4990,
        p50DifferenceUs: 4491,
      },
    ],
    ...overrides,
  };
}

function bars(svg: string): { group: string; series: string }[] {
  return [...svg.matchAll(/<rect class="bar" data-group="([^"]*)" data-series="([^"]*)"/g)].map((m) => ({
    group: m[1]!,
    series: m[2]!,
  }));
}

test('svg chart: the default throughput chart is well-formed SVG with one labelled bar per case', () => {
  const report = sampleReport();
  const svg = renderBarChart(chartData(report, DEFAULT_CHARTS[0]!));
  const check = checkXml(svg);
  assert.deepEqual(check, { ok: true, root: 'svg' });
  const drawn = bars(svg);
  assert.equal(drawn.length, report.cases.length);
  for (const name of ['fast/1KiB', 'slow/1KiB', 'a&b<c>']) {
    assert.ok(
      drawn.some((b) => b.group === escapeXml(name)),
      `a bar for ${name}`,
    );
    assert.ok(svg.includes(`text-anchor="end">${escapeXml(name)}</text>`), `a label for ${name}`);
  }
  // 100,000 ops/s down to 200 span more than two decades: log scale.
  assert.match(svg, /ops\/s \(log scale\)/);
});

test('svg chart: latency has p50 and p99 bars per case, in ms once a p99 reaches 1 ms', () => {
  const report = sampleReport();
  const data = chartData(report, DEFAULT_CHARTS[1]!);
  assert.deepEqual(data.series, ['p50', 'p99']);
  assert.equal(data.unit, 'latency, ms');
  assert.deepEqual(data.values[1], [4.5, 15]);
  const svg = renderBarChart(data);
  assert.equal(checkXml(svg).ok, true);
  assert.equal(bars(svg).length, 2 * report.cases.length);
  assert.match(svg, /class="legend-item"/);
});

test('svg chart: groupBy puts cases in rows and series, and throughput uses the suite unit', () => {
  const report = sampleReport({
    throughputUnit: 'messages/s',
    cases: sampleReport()
      .cases.slice(0, 2)
      .map((c) => ({ ...c, throughput: c.opsPerSecond * 16 })),
  });
  const data = chartData(report, {
    name: 'throughput',
    title: 'by payload',
    metrics: 'throughput',
    groupBy: (c) => {
      const [series = c, group = ''] = c.split('/');
      return { group, series };
    },
    scale: 'linear',
  });
  assert.deepEqual(data.groups, ['1KiB']);
  assert.deepEqual(data.series, ['fast', 'slow']);
  assert.deepEqual(data.values, [[1_600_000, 3200]]);
  const svg = renderBarChart(data);
  assert.equal(checkXml(svg).ok, true);
  assert.match(svg, /messages\/s<\/text>/);
  assert.doesNotMatch(svg, /log scale/);
});

test('svg chart: a skipped suite renders a well-formed chart that says why', () => {
  const report = sampleReport({ cases: [], comparisons: [], skipped: 'etcd is not on PATH' });
  const svg = renderBarChart(chartData(report, DEFAULT_CHARTS[0]!));
  assert.deepEqual(checkXml(svg), { ok: true, root: 'svg' });
  assert.equal(bars(svg).length, 0);
  assert.match(svg, /skipped: etcd is not on PATH/);
});

test('svg chart: compact numbers', () => {
  assert.equal(formatCompact(0), '0');
  assert.equal(formatCompact(0.5), '0.5');
  assert.equal(formatCompact(12.34), '12.3');
  assert.equal(formatCompact(950), '950');
  assert.equal(formatCompact(1520), '1.52k');
  assert.equal(formatCompact(203_000), '203k');
  assert.equal(formatCompact(1_250_000), '1.25M');
});
