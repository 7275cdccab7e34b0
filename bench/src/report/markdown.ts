import type { ComparisonResult, SuiteReport } from '../report.js';
import { shortName } from './charts.js';

/** A chart file to link from the summary. */
export interface ChartLink {
  readonly title: string;
  /** File name, relative to the Markdown file. */
  readonly file: string;
}

/** Formats a number for a table: thousands separators, 2 decimals below 100, 1 below 1,000, else none. */
export function formatNumber(value: number): string {
  const digits = Math.abs(value) >= 1000 ? 0 : Math.abs(value) >= 100 ? 1 : 2;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Escapes a table cell: pipes and line breaks would end it. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|').replace(/\s*\n\s*/g, ' ');
}

/** Renders a Markdown table; `right` marks the columns aligned right (numbers). */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  right: (column: number) => boolean,
): string {
  const all = [header, ...rows].map((row) => row.map(cell));
  const widths = header.map((_, i) => Math.max(3, ...all.map((row) => (row[i] ?? '').length)));
  const line = (row: readonly string[]) =>
    `| ${row.map((c, i) => (right(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (right(i) ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(all[0]!), rule, ...all.slice(1).map(line)].join('\n');
}

function ratio(value: number, [lo, hi]: readonly [number, number], rounds: number): string {
  return rounds > 1 ? `${value.toFixed(2)}× [${lo.toFixed(2)}–${hi.toFixed(2)}]` : `${value.toFixed(2)}×`;
}

function signedUs(us: number): string {
  return `${us >= 0 ? '+' : '−'}${formatNumber(Math.abs(us))}`;
}

function comparisonsTable(comparisons: readonly ComparisonResult[], rounds: number): string {
  const range = rounds > 1 ? ' [lowest–highest round]' : '';
  return markdownTable(
    ['comparison', `mean ratio${range}`, `p50 ratio${range}`, 'mean difference µs', 'p50 difference µs'],
    comparisons.map((c) => [
      c.name,
      ratio(c.meanRatio, c.meanRatioRange, rounds),
      ratio(c.p50Ratio, c.p50RatioRange, rounds),
      signedUs(c.meanDifferenceUs),
      signedUs(c.p50DifferenceUs),
    ]),
    (i) => i > 0,
  );
}

/**
 * Renders a suite's report as a Markdown summary: when and where it ran, the command, the results table,
 * the suite's ratios and its charts.
 *
 * @param jsonFile the raw results' file name, relative to the Markdown file.
 */
export function renderMarkdown(report: SuiteReport, jsonFile: string, charts: readonly ChartLink[]): string {
  const env = report.environment;
  const date = new Date(report.date);
  const when = Number.isNaN(date.getTime())
    ? report.date
    : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const lines: string[] = [
    `# Benchmark: ${report.suite}`,
    '',
    `${report.description}.`.replace(/\.\.$/, '.'),
    '',
    `- **When**: ${when}` +
      (report.durationSeconds === undefined ? '' : ` (took ${Math.round(report.durationSeconds)} s)`),
    `- **Machine**: ${env.cpu}, ${env.cpuCount} cores, ${env.platform} ${env.arch}, Node ${env.node}, ` +
      `load average ${env.loadAverage} (1 min, at the end of the run)`,
    `- **Command**: \`${report.command}\``,
    `- **Rounds**: ${report.rounds}` +
      (report.quick ? ' (`--quick`: a smoke run, the numbers are indicative only)' : '') +
      (report.filter.length > 0 ? `; filter: ${report.filter.map((f) => `\`${f}\``).join(', ')}` : ''),
    `- **Raw results**: [${jsonFile}](${jsonFile})`,
    '',
  ];
  if (report.skipped !== undefined) {
    lines.push('## Skipped', '', report.skipped, '');
    return `${lines.join('\n')}\n`.replace(/\n+$/, '\n');
  }

  const unit = report.throughputUnit;
  const extraKeys = [...new Set(report.cases.flatMap((c) => Object.keys(c.extra ?? {})))];
  const header = [
    'case',
    ...(unit === undefined ? [] : [unit]),
    'ops/s',
    'mean µs',
    'p50 µs',
    'p99 µs',
    ...extraKeys,
    '±%',
    'samples',
  ];
  const rows = report.cases.map((c) => [
    shortName(report, c.name),
    ...(unit === undefined ? [] : [c.throughput === undefined ? '' : formatNumber(Math.round(c.throughput))]),
    formatNumber(c.opsPerSecond),
    formatNumber(c.meanUs),
    formatNumber(c.p50Us),
    formatNumber(c.p99Us),
    ...extraKeys.map((k) => {
      const v = c.extra?.[k];
      return v === undefined ? '' : formatNumber(v);
    }),
    c.rmePercent.toFixed(1),
    c.samples.toLocaleString('en-US'),
  ]);
  lines.push(
    '## Results',
    '',
    `Per case, the median over rounds of each figure${report.rounds > 1 ? '' : ' (one round)'}; ` +
      '±% is the 95% confidence half-width of the mean.',
    '',
    markdownTable(header, rows, (i) => i > 0),
    '',
  );
  if (report.comparisons.length > 0) {
    lines.push(
      '## Ratios',
      '',
      'Each ratio divides the first case’s latency by the second’s, measured in the same rounds (so a ratio ' +
        'of latencies is the inverse ratio of throughputs); the median over rounds' +
        (report.rounds > 1 ? ', with the lowest and highest round' : '') +
        '.',
      '',
      comparisonsTable(report.comparisons, report.rounds),
      '',
    );
  }
  if (charts.length > 0) {
    lines.push('## Charts', '');
    for (const chart of charts) lines.push(`![${chart.title}](${chart.file})`, '');
  }
  return `${lines.join('\n').replace(/\n+$/, '')}\n`;
}
