/**
 * A small, dependency-free SVG renderer for grouped horizontal bar charts.
 *
 * Written here rather than taken from npm: the maintained charting libraries either draw on a canvas or
 * in a DOM (Chart.js, Chartist, Observable Plot and d3-node need a browser, jsdom or node-canvas) or pull
 * in a large tree for a few bar charts (Vega renders SVG headless, but with dozens of packages and its own
 * text-measuring fallbacks). Grouped bars with an axis, labels and a legend are a few hundred lines, and
 * the output stays byte-stable across runs of the same data, which keeps committed charts reviewable.
 */

/** The data of one chart: `values[g][s]` is the bar of series `s` in group `g`. */
export interface BarChartData {
  readonly title: string;
  /** A second heading line (date, machine). */
  readonly subtitle?: string;
  /** Value-axis title, with the unit (for example `messages/s`, `latency, ms`). */
  readonly unit: string;
  /** Row labels, top to bottom. */
  readonly groups: readonly string[];
  /** Legend entries; one bar per series in each group. */
  readonly series: readonly string[];
  /** One row per group, one value per series; `undefined` draws no bar. */
  readonly values: readonly (readonly (number | undefined)[])[];
  /** `auto` (the default) is logarithmic when the positive values span two orders of magnitude. */
  readonly scale?: 'linear' | 'log' | 'auto';
  /** Shown in place of the bars when there are none (for example why a suite was skipped). */
  readonly emptyMessage?: string;
}

/** Colour-blind-safe palette (Okabe and Ito), in legend order. */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#999999', '#000000'];
/** Positive values spanning at least this ratio go on a log scale in `auto` mode. */
const LOG_SPAN = 100;

const FONT_SIZE = 12;
/** Rough advance width of one character at {@link FONT_SIZE} in a sans-serif face (no font metrics here). */
const CHAR_WIDTH = 7;
const BAR_HEIGHT = 12;
const BAR_GAP = 2;
const GROUP_GAP = 10;
const PLOT_WIDTH = 520;
const VALUE_LABEL_WIDTH = 56;
const MARGIN = 16;

/** Escapes text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

/** Formats a value compactly: `950`, `1.52k`, `12.3k`, `1.25M`, `0.042`. */
export function formatCompact(value: number): string {
  const abs = Math.abs(value);
  const sig = (v: number) => {
    const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
    return v.toFixed(digits).replace(/\.0+$|(\.\d*?)0+$/, '$1');
  };
  if (abs >= 1e9) return `${sig(value / 1e9)}G`;
  if (abs >= 1e6) return `${sig(value / 1e6)}M`;
  if (abs >= 1000) return `${sig(value / 1e3)}k`;
  if (abs === 0) return '0';
  if (abs < 0.01) return value.toExponential(1);
  return sig(value);
}

interface Scale {
  readonly log: boolean;
  /** Fraction of the plot width (0..1) at which `value` lies. */
  position(value: number): number;
  readonly ticks: readonly number[];
}

/** Chooses a "nice" step (1, 2 or 5 × 10^k) giving about `count` ticks up to `max`. */
function niceStep(max: number, count: number): number {
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
}

function makeScale(values: readonly number[], mode: 'linear' | 'log' | 'auto'): Scale {
  const positive = values.filter((v) => v > 0);
  const max = Math.max(0, ...values);
  const minPositive = positive.length === 0 ? 0 : Math.min(...positive);
  const log =
    mode === 'log'
      ? positive.length > 0
      : mode === 'auto' && minPositive > 0 && max / minPositive >= LOG_SPAN;
  if (log) {
    const lo = Math.floor(Math.log10(minPositive));
    const hi = Math.max(lo + 1, Math.ceil(Math.log10(max)));
    const ticks: number[] = [];
    for (let p = lo; p <= hi; p++) ticks.push(10 ** p);
    return {
      log: true,
      position: (v) => (v <= 0 ? 0 : Math.min(1, Math.max(0, (Math.log10(v) - lo) / (hi - lo)))),
      ticks,
    };
  }
  const step = max > 0 ? niceStep(max, 5) : 1;
  const top = Math.max(step, Math.ceil(max / step) * step);
  const ticks: number[] = [];
  for (let t = 0; t <= top + step / 2; t += step) ticks.push(Number(t.toPrecision(12)));
  return { log: false, position: (v) => Math.min(1, Math.max(0, v / top)), ticks };
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** Renders a grouped horizontal bar chart as a standalone SVG document. */
export function renderBarChart(chart: BarChartData): string {
  const values = chart.values.flat().filter((v): v is number => v !== undefined && Number.isFinite(v));
  const scale = makeScale(values, chart.scale ?? 'auto');
  const labelWidth = Math.min(320, Math.max(60, ...chart.groups.map((g) => g.length * CHAR_WIDTH + 12)));
  const plotLeft = MARGIN + labelWidth;
  const width = plotLeft + PLOT_WIDTH + VALUE_LABEL_WIDTH + MARGIN;

  const out: string[] = [];
  let y = MARGIN + FONT_SIZE + 4;
  out.push(
    `<text x="${MARGIN}" y="${y}" font-size="${FONT_SIZE + 3}" font-weight="bold">${escapeXml(chart.title)}</text>`,
  );
  if (chart.subtitle !== undefined) {
    y += FONT_SIZE + 6;
    out.push(`<text x="${MARGIN}" y="${y}" fill="#555">${escapeXml(chart.subtitle)}</text>`);
  }

  // Legend, wrapped to the chart's width.
  if (chart.series.length > 1 || (chart.series.length === 1 && chart.series[0] !== '')) {
    y += FONT_SIZE + 10;
    let x = MARGIN;
    chart.series.forEach((name, s) => {
      const itemWidth = 16 + name.length * CHAR_WIDTH + 16;
      if (x > MARGIN && x + itemWidth > width - MARGIN) {
        x = MARGIN;
        y += FONT_SIZE + 6;
      }
      out.push(
        `<g class="legend-item"><rect x="${x}" y="${y - 10}" width="12" height="12" fill="${PALETTE[s % PALETTE.length]}"/>` +
          `<text x="${x + 16}" y="${y}">${escapeXml(name)}</text></g>`,
      );
      x += itemWidth;
    });
  }
  y += 14;
  const plotTop = y;

  const bars: string[] = [];
  if (values.length === 0) {
    y += 24;
    bars.push(
      `<text class="empty" x="${plotLeft}" y="${y}" fill="#555">${escapeXml(chart.emptyMessage ?? 'no data')}</text>`,
    );
    y += 16;
  } else {
    chart.groups.forEach((group, g) => {
      const row = chart.values[g] ?? [];
      const present = chart.series.map((_, s) => s).filter((s) => row[s] !== undefined);
      const groupHeight = Math.max(1, present.length) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP;
      bars.push(
        `<text class="group-label" x="${plotLeft - 8}" y="${round1(y + groupHeight / 2 + FONT_SIZE / 2 - 2)}" text-anchor="end">${escapeXml(group)}</text>`,
      );
      present.forEach((s, i) => {
        const value = row[s]!;
        const barY = y + i * (BAR_HEIGHT + BAR_GAP);
        const barWidth = round1(scale.position(value) * PLOT_WIDTH);
        const series = chart.series[s] ?? '';
        const label = formatCompact(value);
        bars.push(
          `<rect class="bar" data-group="${escapeXml(group)}" data-series="${escapeXml(series)}" x="${plotLeft}" y="${barY}" ` +
            `width="${barWidth}" height="${BAR_HEIGHT}" fill="${PALETTE[s % PALETTE.length]}">` +
            `<title>${escapeXml(`${group}${series === '' ? '' : ` · ${series}`}: ${label} ${chart.unit}`)}</title></rect>`,
          `<text class="value" x="${round1(plotLeft + barWidth + 4)}" y="${barY + BAR_HEIGHT - 2}" font-size="${FONT_SIZE - 2}" fill="#333">${escapeXml(label)}</text>`,
        );
      });
      y += groupHeight + GROUP_GAP;
    });
  }
  const plotBottom = y;

  // Axis: grid lines and tick labels below the plot, then the unit.
  const axis: string[] = [];
  if (values.length > 0) {
    for (const tick of scale.ticks) {
      const x = round1(plotLeft + scale.position(tick) * PLOT_WIDTH);
      axis.push(
        `<line x1="${x}" y1="${plotTop}" x2="${x}" y2="${plotBottom}" stroke="#ddd"/>`,
        `<text x="${x}" y="${plotBottom + 14}" text-anchor="middle" font-size="${FONT_SIZE - 2}" fill="#333">${escapeXml(formatCompact(tick))}</text>`,
      );
    }
    axis.push(
      `<line x1="${plotLeft}" y1="${plotTop}" x2="${plotLeft}" y2="${plotBottom}" stroke="#333"/>`,
      `<line x1="${plotLeft}" y1="${plotBottom}" x2="${plotLeft + PLOT_WIDTH}" y2="${plotBottom}" stroke="#333"/>`,
      `<text class="unit" x="${plotLeft + PLOT_WIDTH / 2}" y="${plotBottom + 32}" text-anchor="middle">` +
        `${escapeXml(chart.unit + (scale.log ? ' (log scale)' : ''))}</text>`,
    );
  }
  const height = plotBottom + (values.length > 0 ? 32 : 0) + MARGIN;

  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="${FONT_SIZE}" role="img" aria-label="${escapeXml(chart.title)}">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...out,
    ...axis,
    ...bars,
    '</svg>',
    '',
  ].join('\n');
}
