import { mkdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { writeFileAtomic } from '../core/atomic-write.js';
import { renderChartHtml, renderChartSvg } from './chart.js';
import { describeMachine } from './machine.js';
import { formatSeconds, renderMarkdownTable } from './table.js';
import { IMAGES, type BenchReport } from './bench-types.js';

function perEpoch(range: [number, number], epochs: number): string {
  return `${formatSeconds(range[0] / epochs)}–${formatSeconds(range[1] / epochs)}`;
}

/** The comparison with the seed's published Experiment 3, as Markdown lines (empty without a preset). */
export function publishedLines(report: BenchReport): string[] {
  const p = report.published;
  if (!p) return [];
  const images = report.results.find((r) => r.source === IMAGES);
  const lines = [
    `## ${p.label}: the seed's published figures beside ours`,
    '',
    '| | training seconds | per epoch | with preprocessing | machine |',
    '| --- | ---: | ---: | ---: | --- |',
    `| seed, serialized (${p.epochs} epochs) | ${p.serializedSeconds[0]}–${p.serializedSeconds[1]} | ${perEpoch(p.serializedSeconds, p.epochs)} | – | ${p.machine} |`,
    `| seed, on the fly (${p.epochs} epochs) | ${p.onTheFlySeconds[0]}–${p.onTheFlySeconds[1]} | ${perEpoch(p.onTheFlySeconds, p.epochs)} | – | ${p.machine} |`,
  ];
  for (const r of report.results) {
    const s = r.spread.trainSeconds;
    const range = s && s.runs.length > 1 ? ` (${formatSeconds(s.min)}–${formatSeconds(s.max)})` : '';
    lines.push(`| ours, ${r.source === IMAGES ? 'on the fly (images)' : `serialized (${r.source})`} (${report.config.epochs} epochs) | ${formatSeconds(r.trainSeconds)}${range} | ${formatSeconds(r.secondsPerEpoch)} | ${r.source === IMAGES ? '–' : formatSeconds(r.endToEndSeconds)} | ${report.machine.cpus} CPUs, ${report.machine.cpuModel} |`);
  }
  if (report.config.epochs !== p.epochs) {
    lines.push('', `Ours ran ${report.config.epochs} epochs, the seed ${p.epochs}: compare the per-epoch column (whole training ÷ epochs).`);
  }
  if (images) {
    const seedRatio = (p.onTheFlySeconds[0] + p.onTheFlySeconds[1]) / (p.serializedSeconds[0] + p.serializedSeconds[1]);
    lines.push('', `The seed's serialized condition was ${seedRatio.toFixed(2)}x faster than on the fly (midpoints); ours, per format: `
      + report.results.filter((r) => r.source !== IMAGES && r.speedupVsImages !== null).map((r) => `${r.source} ${r.speedupVsImages!.toFixed(2)}x`).join(', ') + '.');
  }
  lines.push('');
  return lines;
}

/** report.md: settings, machine, cache statement, the table, the preset comparison, and the chart. */
export function renderMarkdown(report: BenchReport): string {
  const c = report.config;
  return [
    `# retina bench formats${c.preset ? ` (preset ${c.preset})` : ''}`,
    '',
    `- Date: ${report.createdAt} (took ${formatSeconds(report.totalSeconds)} s)`,
    `- Machine: ${describeMachine(report.machine)}`,
    `- Data: ${c.count} images${c.split ? `, ${c.split.train} train / ${c.split.val} validation` : ''}, ${c.data === 'synthetic' ? `a synthetic Kaggle-layout set (generateFixtures, seed ${c.seed})` : `${c.images} with labels ${c.labels}${c.limit !== null ? ` (first ${c.limit} rows)` : ''}${c.rejected ? `, ${c.rejected} invalid rows left out (--skip-invalid; rejects.csv)` : ''}`}; tensors ${c.size}x${c.size}x3 uint8`,
    `- Training: ${c.model}, ${c.epochs} epoch${c.epochs === 1 ? '' : 's'}, batch ${c.batchSize}, seed ${c.seed}${c.cacheFeatures ? ', feature cache on (backbone features computed once per training, so each source is read once per training, not every epoch)' : ', feature cache off (every epoch reads its source)'}`,
    `- Repeats: ${c.repeat}; each figure is the median, with min–max in brackets; the speed-up is images' training time over the format's, computed within each repeat, then the median`,
    `- Cache: ${report.cache.statement}`,
    '',
    renderMarkdownTable(report.results),
    'Columns: "read" is sequential reading into uint8 batches (for images: JPEG decode + transform), "float" into float32 batches scaled to [-1, 1], "random" one record at a time in a shuffled order; "cached" is the share of the files resident in the page cache just before the reads; "train s" is the whole training call (model build, feature extraction when cached, every epoch with validation) and "s/epoch" that divided by the epochs.',
    '',
    ...publishedLines(report),
    '![chart](chart.svg)',
    ...(report.recordsSheet ? ['', `Records trained on: ${report.recordsSheet.tiles} training records of the ${report.recordsSheet.format} dataset, up to 4 per grade, read back through its reader (\`retina inspect DATASET --sheet FILE\` draws such a sheet of any dataset).`, '', `![records trained on](${basename(report.recordsSheet.file)})`] : []),
    '',
  ].join('\n');
}

/**
 * Write report.json, report.md, chart.svg and chart.html into `dir` (created if needed), each
 * atomically. Returns the report with `outputs` filled in.
 */
export async function writeReport(report: BenchReport, dir: string): Promise<BenchReport> {
  const abs = resolve(dir);
  await mkdir(abs, { recursive: true });
  const outputs = {
    dir: abs,
    reportJson: join(abs, 'report.json'),
    reportMd: join(abs, 'report.md'),
    chartHtml: join(abs, 'chart.html'),
    chartSvg: join(abs, 'chart.svg'),
  };
  const full: BenchReport = { ...report, outputs };
  await writeFileAtomic(outputs.chartSvg, renderChartSvg(full));
  await writeFileAtomic(outputs.chartHtml, renderChartHtml(full));
  await writeFileAtomic(outputs.reportMd, renderMarkdown(full));
  await writeFileAtomic(outputs.reportJson, JSON.stringify(full, null, 2) + '\n');
  return full;
}
