import type { CaseResult, SuiteReport } from '../report.js';
import type { ChartMetric, ChartSpec } from '../suite.js';
import type { BarChartData } from './svg-chart.js';

/** The charts of a suite that declares none: throughput per case, and latency (p50, p99) per case. */
export const DEFAULT_CHARTS: readonly ChartSpec[] = [
  { name: 'throughput', title: 'Throughput per case', metrics: 'throughput' },
  { name: 'latency', title: 'Latency per case (p50, p99)', metrics: 'latency' },
];

/** The case name without its `<suite>/` prefix. */
export function shortName(report: Pick<SuiteReport, 'suite'>, name: string): string {
  return name.startsWith(`${report.suite}/`) ? name.slice(report.suite.length + 1) : name;
}

/** Resolves a spec's metrics against a report: the metrics and the value-axis title. */
function resolveMetrics(report: SuiteReport, spec: ChartSpec): { metrics: ChartMetric[]; unit: string } {
  if (spec.metrics === 'throughput') {
    const unit = report.throughputUnit ?? 'ops/s';
    return { metrics: [{ label: unit, value: (c) => c.throughput ?? c.opsPerSecond }], unit };
  }
  if (spec.metrics === 'latency') {
    // Milliseconds once the slowest p99 reaches one; microseconds below.
    const ms = report.cases.some((c) => c.p99Us >= 1000);
    const div = ms ? 1000 : 1;
    return {
      metrics: [
        { label: 'p50', value: (c) => c.p50Us / div },
        { label: 'p99', value: (c) => c.p99Us / div },
      ],
      unit: `latency, ${ms ? 'ms' : 'µs'}`,
    };
  }
  return { metrics: [...spec.metrics], unit: spec.unit ?? '' };
}

/** A one-line description of the run for chart subtitles. */
export function runSummary(report: SuiteReport): string {
  const env = report.environment;
  return (
    `${report.date.slice(0, 16).replace('T', ' ')} UTC · ${env.cpu} × ${env.cpuCount} · Node ${env.node} · ` +
    `load ${env.loadAverage} · ${report.rounds} round${report.rounds === 1 ? '' : 's'}` +
    (report.quick ? ' · --quick (indicative only)' : '')
  );
}

/**
 * Computes the data of one chart from a report (the suite's JSON) and the chart's spec. Groups and series
 * keep the order in which cases first name them.
 */
export function chartData(report: SuiteReport, spec: ChartSpec): BarChartData {
  const { metrics, unit } = resolveMetrics(report, spec);
  const place = spec.groupBy ?? ((name: string) => ({ group: name, series: '' }));
  const groups: string[] = [];
  const seriesNames: string[] = [];
  const cells = new Map<string, number | undefined>();
  const key = (group: string, series: string) => `${group}\u0000${series}`;
  const add = (list: string[], item: string) => {
    if (!list.includes(item)) list.push(item);
  };
  for (const c of report.cases as readonly CaseResult[]) {
    const { group, series } = place(shortName(report, c.name));
    add(groups, group);
    for (const metric of metrics) {
      const label = [series, metrics.length > 1 || series === '' ? metric.label : '']
        .filter((s) => s !== '')
        .join(' ');
      add(seriesNames, label);
      const value = metric.value(c);
      cells.set(key(group, label), value !== undefined && Number.isFinite(value) ? value : undefined);
    }
  }
  return {
    title: `${report.suite}: ${spec.title}`,
    subtitle: runSummary(report),
    unit,
    groups,
    series: seriesNames,
    values: groups.map((g) => seriesNames.map((s) => cells.get(key(g, s)))),
    scale: spec.scale ?? 'auto',
    emptyMessage:
      report.skipped === undefined ? 'no case ran' : `skipped: ${report.skipped}`.replace(/\s+/g, ' '),
  };
}
