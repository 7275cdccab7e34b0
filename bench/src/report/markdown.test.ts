import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderMarkdown } from './markdown.js';
import { outputName, renderOutputs } from './outputs.js';
import { sampleReport } from './svg-chart.test.js';
import { checkXml } from './xml.js';

test('markdown: the summary has the run, the machine, the command, a table row per case and the ratios', () => {
  const md = renderMarkdown(sampleReport(), 'demo.local.json', [
    { title: 'Throughput', file: 'demo-throughput.local.svg' },
  ]);
  assert.match(md, /^# Benchmark: demo\n/);
  assert.match(md, /\*\*When\*\*: 2026-11-28 10:00 UTC/);
  assert.match(md, /\*\*Machine\*\*: AMD EPYC, 2 cores, linux x64, Node v20.20.2, load average 0.5/);
  assert.match(md, /\*\*Command\*\*: `pnpm bench demo --quick`/);
  assert.match(md, /\[demo\.local\.json\]\(demo\.local\.json\)/);
  const rows = md.split('\n').filter((l) => l.startsWith('| '));
  assert.match(rows[0]!, /^\| case +\| +ops\/s \| +mean µs \| +p50 µs \| +p99 µs \|/);
  assert.match(rows[1]!, /^\| -+ \| -+: \|/);
  assert.ok(
    rows.some((r) => /^\| fast\/1KiB +\| +100,000 \| +10\.00 \| +9\.00 \| +30\.00 \|/.test(r)),
    md,
  );
  assert.ok(
    rows.some((r) => /^\| slow\/1KiB +\| +200\.0 \| +5,000 \|/.test(r)),
    md,
  );
  assert.ok(
    rows.some((r) => r.startsWith('| a&b<c> ')),
    md,
  );
  assert.ok(
    rows.some((r) => /^\| slow \/ fast +\| +500\.00× \|/.test(r)),
    md,
  );
  assert.match(md, /!\[Throughput\]\(demo-throughput\.local\.svg\)/);
});

test('markdown: the suite throughput unit and extra figures get columns; pipes are escaped', () => {
  const base = sampleReport();
  const md = renderMarkdown(
    sampleReport({
      throughputUnit: 'messages/s',
      cases: [{ ...base.cases[0]!, name: 'demo/x|y', throughput: 1_600_000, extra: { 'p99.9 µs': 123.456 } }],
    }),
    'demo.json',
    [],
  );
  assert.match(md, /\| case +\| messages\/s \| +ops\/s \| mean µs \| p50 µs \| p99 µs \| p99\.9 µs \|/);
  assert.match(md, /\| x\\\|y +\| +1,600,000 \| 100,000 \|.*\| +123\.5 \|/);
  assert.doesNotMatch(md, /## Charts/);
});

test('markdown: a skipped suite says why and has no table', () => {
  const md = renderMarkdown(
    sampleReport({ cases: [], comparisons: [], skipped: 'install etcd' }),
    'demo.local.json',
    [],
  );
  assert.match(md, /## Skipped\n\ninstall etcd\n$/);
  assert.doesNotMatch(md, /\| case/);
});

test('outputs: quick runs name .local files; the Markdown links every chart, each well-formed SVG', () => {
  assert.equal(outputName('demo', false, 'svg', 'latency'), 'demo-latency.local.svg');
  assert.equal(outputName('demo', true, 'md'), 'demo.md');
  const files = renderOutputs(sampleReport(), undefined, false);
  assert.deepEqual([...files.keys()].sort(), [
    'demo-latency.local.svg',
    'demo-throughput.local.svg',
    'demo.local.md',
  ]);
  const md = files.get('demo.local.md')!;
  for (const [name, text] of files) {
    if (!name.endsWith('.svg')) continue;
    assert.ok(md.includes(`](${name})`), name);
    assert.deepEqual(checkXml(text), { ok: true, root: 'svg' });
  }
});
