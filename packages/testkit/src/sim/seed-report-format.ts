import type { SeedReport } from './run-seed.js';

/** Options of {@link formatSeedReport}. */
export interface SeedReportFormat {
  /** The command that replays the seed, printed last. */
  readonly replay?: string;
  /** How many of the last trace lines to print (0 for none). Default 40. */
  readonly traceLines?: number;
}

/** Renders a seed's report for a terminal: the broken property, the run's shape, the last events, each node's state. */
export function formatSeedReport(report: SeedReport, format: SeedReportFormat = {}): string {
  const lines: string[] = [];
  const f = report.failure;
  if (f === null) {
    lines.push(
      `seed ${report.seed} passed (${report.steps} steps, ${report.timeMs} ms, digest ${report.digest})`,
    );
  } else {
    lines.push(
      `FAIL seed ${report.seed}: ${f.invariant} (${f.phase} phase, at ${f.time} ms, step ${f.step})`,
    );
    for (const line of f.message.split('\n')) lines.push(`  ${line}`);
  }
  lines.push(`  plan: ${report.plan}`);
  const n = format.traceLines ?? 40;
  if (n > 0 && report.trace.length > 0) {
    lines.push('  last events:');
    for (const line of report.trace.slice(-n)) lines.push(`    ${line}`);
  }
  if (f !== null) {
    lines.push('  nodes at the end:');
    for (const line of report.nodes) lines.push(`    ${line}`);
  }
  if (format.replay !== undefined) lines.push(`  replay: ${format.replay}`);
  return lines.join('\n');
}
