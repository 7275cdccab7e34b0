import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type SuiteReport, writeReport } from '../report.js';
import type { ChartSpec } from '../suite.js';
import { chartData, DEFAULT_CHARTS } from './charts.js';
import { renderMarkdown } from './markdown.js';
import { renderBarChart } from './svg-chart.js';

/**
 * The file name of one output of a suite: `<suite>.json`, `<suite>.md`, `<suite>-<chart>.svg`, with
 * `.local` before the extension for quick or filtered runs, so that they never overwrite recorded results.
 */
export function outputName(
  suite: string,
  complete: boolean,
  extension: 'json' | 'md' | 'svg',
  chart?: string,
): string {
  return `${suite}${chart === undefined ? '' : `-${chart}`}${complete ? '' : '.local'}.${extension}`;
}

/** Renders the Markdown summary and the charts of a report, keyed by file name. */
export function renderOutputs(
  report: SuiteReport,
  charts: readonly ChartSpec[] | undefined,
  complete: boolean,
): Map<string, string> {
  const specs = charts === undefined || charts.length === 0 ? DEFAULT_CHARTS : charts;
  const files = new Map<string, string>();
  const links = specs.map((spec) => ({
    title: spec.title,
    file: outputName(report.suite, complete, 'svg', spec.name),
  }));
  specs.forEach((spec, i) => {
    files.set(links[i]!.file, renderBarChart(chartData(report, spec)));
  });
  files.set(
    outputName(report.suite, complete, 'md'),
    renderMarkdown(report, outputName(report.suite, complete, 'json'), links),
  );
  return files;
}

/**
 * Writes a report's JSON, Markdown summary and charts into `dir`.
 *
 * @returns the paths written, the JSON first.
 */
export function writeOutputs(
  dir: string,
  report: SuiteReport,
  charts: readonly ChartSpec[] | undefined,
  complete: boolean,
): string[] {
  const written = [writeReport(dir, report, complete)];
  for (const [name, text] of renderOutputs(report, charts, complete)) {
    const path = join(dir, name);
    writeFileSync(path, text);
    written.push(path);
  }
  return written;
}

/** Reads a report written by {@link writeOutputs}, or `null` when there is none or it does not parse. */
export function readReport(dir: string, suite: string, complete: boolean): SuiteReport | null {
  try {
    const report = JSON.parse(
      readFileSync(join(dir, outputName(suite, complete, 'json')), 'utf8'),
    ) as SuiteReport;
    return report.suite === suite && Array.isArray(report.cases) ? report : null;
  } catch {
    return null;
  }
}
