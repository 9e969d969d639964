import type { Metric, SourceResult } from './bench-types.js';

/** 1234567 -> "1.2 MB"; decimal units, as disk sizes are usually quoted. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = bytes / 1000, i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/** Images/s with a precision that suits its size: 12,345 / 123 / 4.56. */
export function formatRate(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '–';
  if (value >= 100) return Math.round(value).toLocaleString('en-US');
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** Seconds: 1234 / 12.3 / 0.123. */
export function formatSeconds(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '–';
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function withRange(r: SourceResult, metric: Metric, fmt: (v: number | null) => string): string {
  const s = r.spread[metric];
  if (!s) return '–';
  return s.runs.length > 1 && s.min !== s.max ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : fmt(s.median);
}

/** Header and rows shared by the terminal table and report.md. */
export function tableRows(results: readonly SourceResult[]): { header: string[]; rows: string[][] } {
  const header = ['source', 'on disk', 'per record', 'write img/s', 'read img/s', 'float img/s', 'random img/s', 'cached', 'train s', 's/epoch', 'speed-up'];
  const rows = results.map((r) => [
    r.source,
    formatBytes(r.bytesOnDisk),
    formatBytes(r.bytesPerRecord),
    withRange(r, 'writeImagesPerSecond', formatRate),
    withRange(r, 'readImagesPerSecond', formatRate),
    withRange(r, 'readFloatImagesPerSecond', formatRate),
    withRange(r, 'randomReadImagesPerSecond', formatRate),
    r.residentBeforeRead === null ? '?' : `${Math.round(r.residentBeforeRead * 100)}%`,
    withRange(r, 'trainSeconds', formatSeconds),
    formatSeconds(r.secondsPerEpoch),
    r.speedupVsImages === null ? '–' : withRange(r, 'speedupVsImages', (v) => (v === null ? '–' : `${v.toFixed(2)}x`)),
  ]);
  return { header, rows };
}

/** Columns of the terminal's default table: what decides between formats, medians only. */
const NARROW = ['source', 'on disk', 'read img/s', 'random img/s', 'train s', 's/epoch', 'speed-up'];

/**
 * A plain-text table with aligned columns (numbers right-aligned). By default the columns that
 * decide between formats, as medians, so it fits an 80-column terminal (every column with min–max
 * ranges was about 170 wide); `wide` gives every column with ranges, as report.md has.
 */
export function renderTable(results: readonly SourceResult[], opts: { wide?: boolean } = {}): string {
  const full = tableRows(results);
  let { header, rows } = full;
  if (!opts.wide) {
    const keep = NARROW.map((h) => full.header.indexOf(h));
    header = keep.map((c) => full.header[c]!);
    // Medians only: "30,000 (15,000–30,000)" -> "30,000".
    rows = full.rows.map((r) => keep.map((c) => r[c]!.replace(/ \(.*\)$/, '')));
  }
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n';
}

/** The same table in GitHub Markdown. */
export function renderMarkdownTable(results: readonly SourceResult[]): string {
  const { header, rows } = tableRows(results);
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `| ${header.map((_, c) => (c === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n') + '\n';
}
