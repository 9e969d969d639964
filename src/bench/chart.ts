import { describeMachine } from './machine.js';
import { formatRate, formatSeconds, renderMarkdownTable } from './table.js';
import { IMAGES, type BenchReport, type Spread } from './bench-types.js';

/** Escape text for XML/HTML content and attributes. */
export function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const WIDTH = 980;
const LEFT = 150; // room for source names
const PLOT = 560; // bar area
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

const COLORS = {
  format: '#2f6fb3',
  images: '#8a8f98',
  read: '#2f6fb3',
  readFloat: '#e08a1e',
  randomRead: '#3a9a5b',
  published: '#b84a62',
} as const;

interface Bar {
  source: string;
  metric: string;
  value: number;
  spread?: Spread | undefined;
  color: string;
  label: string;
}

/**
 * Axis ticks from 0 past `max` in a step of 1, 2, 2.5 or 5 x 10^k, about `target` of them:
 * 0, 0.25, 0.5, ... instead of a fifth of a round top (0.24, 0.48, 0.72 for a top of 1.2).
 */
export function niceTicks(max: number, target = 5): number[] {
  const m = max > 0 && Number.isFinite(max) ? max : 1;
  const raw = m / target;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * p).find((s) => s >= raw * (1 - 1e-9)) ?? 10 * p;
  // Decimals of the step (2.5e-2 needs 3), so that ticks are exact and labels match them.
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9) + (Math.round(step / p) === 25 || step / p === 2.5 ? 1 : 0));
  const n = Math.max(1, Math.ceil(m / step - 1e-9));
  return Array.from({ length: n + 1 }, (_, i) => Number((i * step).toFixed(decimals)));
}

/** A linear axis from 0 to the last of `niceTicks(max)`. */
function linearScale(max: number): { toX: (v: number) => number; ticks: number[] } {
  const ticks = niceTicks(max);
  const top = ticks[ticks.length - 1]!;
  return { toX: (v) => (Math.max(0, v) / top) * PLOT, ticks };
}

/** A log10 axis over whole decades that contain every positive value. */
function logScale(values: number[]): { toX: (v: number) => number; ticks: number[] } {
  const positive = values.filter((v) => v > 0);
  const lo = Math.floor(Math.log10(Math.min(...(positive.length ? positive : [1]))));
  let hi = Math.ceil(Math.log10(Math.max(...(positive.length ? positive : [10]))));
  if (hi <= lo) hi = lo + 1;
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++) ticks.push(10 ** e);
  // A bar always shows a sliver, even for a value at the bottom decade.
  return { toX: (v) => Math.max(2, ((Math.log10(v) - lo) / (hi - lo)) * PLOT), ticks };
}

/** Split `text` at spaces into lines of at most about `width` characters. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) { lines.push(line); line = word; }
    else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function tickLabel(v: number): string {
  if (v >= 1_000_000) return `${v / 1_000_000}M`;
  if (v >= 1000) return `${v / 1000}k`;
  return String(v); // ticks are exact at their step's precision (niceTicks)
}

/** One panel of horizontal bars; returns SVG and its height. */
function panel(
  title: string,
  y0: number,
  groups: Array<{ source: string; bars: Bar[] }>,
  scale: { toX: (v: number) => number; ticks: number[] },
  barHeight: number,
): { svg: string; height: number } {
  const parts: string[] = [];
  parts.push(`<text x="20" y="${y0 + 18}" font-size="16" font-weight="600">${xml(title)}</text>`);
  const top = y0 + 34;
  let y = top;
  const rows: string[] = [];
  for (const group of groups) {
    const groupHeight = group.bars.length * (barHeight + 3) - 3;
    rows.push(`<text x="${LEFT - 10}" y="${y + groupHeight / 2 + 5}" text-anchor="end" font-size="14"${group.source === IMAGES ? ' font-style="italic"' : ''}>${xml(group.source)}</text>`);
    for (const bar of group.bars) {
      const w = scale.toX(bar.value);
      rows.push(`<rect class="bar" data-source="${xml(bar.source)}" data-metric="${xml(bar.metric)}" data-value="${bar.value}" x="${LEFT}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${bar.color}" rx="2"><title>${xml(`${bar.source} ${bar.metric}: ${bar.label}`)}</title></rect>`);
      let labelX = LEFT + w + 6;
      if (bar.spread && bar.spread.runs.length > 1) {
        const x1 = LEFT + scale.toX(bar.spread.min), x2 = LEFT + scale.toX(bar.spread.max), cy = y + barHeight / 2;
        rows.push(`<g class="whisker" stroke="#222" stroke-width="1.2"><line x1="${x1.toFixed(1)}" y1="${cy}" x2="${x2.toFixed(1)}" y2="${cy}"/><line x1="${x1.toFixed(1)}" y1="${cy - 4}" x2="${x1.toFixed(1)}" y2="${cy + 4}"/><line x1="${x2.toFixed(1)}" y1="${cy - 4}" x2="${x2.toFixed(1)}" y2="${cy + 4}"/></g>`);
        labelX = Math.max(labelX, x2 + 6);
      }
      rows.push(`<text x="${labelX.toFixed(1)}" y="${y + barHeight - 3}" font-size="12" fill="#333">${xml(bar.label)}</text>`);
      y += barHeight + 3;
    }
    y += 9;
  }
  const bottom = y;
  const grid = scale.ticks.map((t) => {
    const x = LEFT + scale.toX(t);
    return `<line x1="${x.toFixed(1)}" y1="${top - 4}" x2="${x.toFixed(1)}" y2="${bottom - 6}" stroke="#ddd"/><text x="${x.toFixed(1)}" y="${bottom + 8}" text-anchor="middle" font-size="11" fill="#666">${tickLabel(t)}</text>`;
  });
  parts.push(...grid, ...rows);
  return { svg: parts.join('\n'), height: bottom + 16 - y0 };
}

function legend(y: number, items: Array<[string, string]>): string {
  let x = LEFT;
  return items.map(([color, label]) => {
    const s = `<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${color}"/><text x="${x + 17}" y="${y}" font-size="12">${xml(label)}</text>`;
    x += 30 + label.length * 7;
    return s;
  }).join('\n');
}

/**
 * The chart as a standalone SVG: seconds per training epoch per source (median, whiskers min–max
 * over repeats), read throughput per source on a log axis, the seed's published figures when the
 * preset asked for them, and the machine, settings and cache mode written on it.
 */
export function renderChartSvg(report: BenchReport): string {
  const { config, machine, results } = report;
  const head = [
    `<text x="20" y="30" font-size="20" font-weight="700">retina bench formats: ${xml(config.preset ? `preset ${config.preset}` : 'serialized formats vs decoding images every epoch')}</text>`,
    `<text x="20" y="52" font-size="12" fill="#333" class="machine">Machine: ${xml(describeMachine(machine))}</text>`,
    `<text x="20" y="70" font-size="12" fill="#333">Run: ${xml(`${config.count} images (${config.data}${config.split ? `, ${config.split.train} train / ${config.split.val} val` : ''}), ${config.model}, ${config.epochs} epoch${config.epochs === 1 ? '' : 's'}, batch ${config.batchSize}, size ${config.size}, feature cache ${config.cacheFeatures ? 'on' : 'off'}, ${config.repeat} repeat${config.repeat === 1 ? '' : 's'}, ${report.createdAt}`)}</text>`,
    ...wrap(`Cache: ${report.cache.statement}`, 150).map((line, i) => `<text x="20" y="${88 + i * 16}" font-size="12" fill="#333">${xml(line)}</text>`),
  ];
  let y = 88 + (head.length - 3) * 16;
  const epochScale = linearScale(Math.max(...results.map((r) => r.spread.secondsPerEpoch?.max ?? r.secondsPerEpoch), 0));
  const epochPanel = panel(`Seconds per training epoch (whole training ÷ ${config.epochs}${config.cacheFeatures ? ', feature extraction included' : ''}; median, min–max)`, y,
    results.map((r) => ({
      source: r.source,
      bars: [{ source: r.source, metric: 'secondsPerEpoch', value: r.secondsPerEpoch, spread: r.spread.secondsPerEpoch, color: r.source === IMAGES ? COLORS.images : COLORS.format,
        label: `${formatSeconds(r.secondsPerEpoch)} s${r.speedupVsImages !== null && r.source !== IMAGES ? `  (${r.speedupVsImages.toFixed(2)}x vs images)` : ''}` }],
    })), epochScale, 18);
  y += epochPanel.height + 8;

  const readValues = results.flatMap((r) => [r.readImagesPerSecond, r.readFloatImagesPerSecond, r.randomReadImagesPerSecond]);
  const readScale = logScale(readValues);
  const readBars = (r: (typeof results)[number]): Bar[] => {
    const specs: Array<[string, number, string, string]> = [
      ['readImagesPerSecond', r.readImagesPerSecond, COLORS.read, 'uint8'],
      ['readFloatImagesPerSecond', r.readFloatImagesPerSecond, COLORS.readFloat, 'float'],
      ['randomReadImagesPerSecond', r.randomReadImagesPerSecond, COLORS.randomRead, 'random'],
    ];
    return specs.filter(([, v]) => v > 0).map(([metric, value, color, what]) => ({
      source: r.source, metric, value, color, spread: r.spread[metric as 'readImagesPerSecond'], label: `${formatRate(value)} img/s ${what}`,
    }));
  };
  const readPanel = panel('Read throughput (images/s, log scale; images = decode + transform)', y,
    results.map((r) => ({ source: r.source, bars: readBars(r) })), readScale, 13);
  const readLegend = legend(y + readPanel.height + 6, [[COLORS.read, 'sequential, uint8 batches'], [COLORS.readFloat, 'sequential, float [-1,1] batches'], [COLORS.randomRead, 'random order']]);
  y += readPanel.height + 24;

  let publishedSvg = '';
  if (report.published) {
    const p = report.published;
    const best = results.filter((r) => r.source !== IMAGES).sort((a, b) => a.trainSeconds - b.trainSeconds)[0];
    const images = results.find((r) => r.source === IMAGES);
    const groups: Array<{ source: string; bars: Bar[] }> = [];
    const mid = (r: [number, number]) => (r[0] + r[1]) / 2;
    const seedSpread = (r: [number, number]): Spread => ({ median: mid(r), min: r[0], max: r[1], runs: [...r] });
    groups.push({ source: 'seed serialized', bars: [{ source: 'seed-serialized', metric: 'trainSeconds', value: mid(p.serializedSeconds), spread: seedSpread(p.serializedSeconds), color: COLORS.published, label: `${p.serializedSeconds[0]}–${p.serializedSeconds[1]} s (${p.machine})` }] });
    groups.push({ source: 'seed on the fly', bars: [{ source: 'seed-on-the-fly', metric: 'trainSeconds', value: mid(p.onTheFlySeconds), spread: seedSpread(p.onTheFlySeconds), color: COLORS.published, label: `${p.onTheFlySeconds[0]}–${p.onTheFlySeconds[1]} s (${p.machine})` }] });
    if (best) groups.push({ source: `ours ${best.source}`, bars: [{ source: best.source, metric: 'trainSecondsPublished', value: best.trainSeconds, spread: best.spread.trainSeconds, color: COLORS.format, label: `${formatSeconds(best.trainSeconds)} s train, ${formatSeconds(best.endToEndSeconds)} s with preprocessing` }] });
    if (images) groups.push({ source: 'ours images', bars: [{ source: IMAGES, metric: 'trainSecondsPublished', value: images.trainSeconds, spread: images.spread.trainSeconds, color: COLORS.images, label: `${formatSeconds(images.trainSeconds)} s` }] });
    const max = Math.max(p.onTheFlySeconds[1], p.serializedSeconds[1], ...results.map((r) => r.spread.trainSeconds?.max ?? r.trainSeconds));
    const pub = panel(`${p.label}: whole training (seconds), the seed's published figures beside ours`, y, groups, linearScale(max), 18);
    publishedSvg = pub.svg;
    y += pub.height + 8;
  }

  const height = Math.ceil(y + 10);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ${FONT} role="img" aria-label="retina bench formats chart">`,
    `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#fff"/>`,
    ...head, epochPanel.svg, readPanel.svg, readLegend, publishedSvg,
    '</svg>',
  ].join('\n') + '\n';
}

/**
 * A self-contained HTML page (no external resources): the SVG chart, the results table, and a
 * small script that measures each rendered bar and records the count on `<body data-bars>`, so a
 * headless browser can prove that layout really drew them.
 */
export function renderChartHtml(report: BenchReport): string {
  const table = renderMarkdownTable(report.results)
    .trim().split('\n').filter((_, i) => i !== 1)
    .map((line, i) => {
      const cells = line.slice(2, -2).split(' | ').map((c) => c.replace(/\\\|/g, '|'));
      const tag = i === 0 ? 'th' : 'td';
      return `<tr>${cells.map((c) => `<${tag}>${xml(c)}</${tag}>`).join('')}</tr>`;
    }).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>retina bench formats, ${xml(report.createdAt)}</title>
<style>
body { margin: 16px; font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #111; }
table { border-collapse: collapse; margin-top: 12px; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
p { font-size: 13px; max-width: 980px; }
</style>
</head>
<body data-bars="pending">
${renderChartSvg(report)}
<p>${xml(report.cache.statement)}</p>
<table>
${table}
</table>
<script>
// Measure what layout drew: a bar counts only if the browser gave it a positive width.
const bars = [...document.querySelectorAll('rect.bar')];
let drawn = 0;
for (const bar of bars) {
  const width = bar.getBoundingClientRect().width;
  bar.setAttribute('data-rendered-width', width.toFixed(1));
  if (width > 0) drawn++;
}
document.body.setAttribute('data-bars', String(drawn));
</script>
</body>
</html>
`;
}
