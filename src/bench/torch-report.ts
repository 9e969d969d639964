import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { xml } from './chart.js';
import { describeMachine } from './machine.js';
import { writeFileAtomic as writeAtomic } from '../core/atomic-write.js';
import { formatBytes, formatRate, formatSeconds } from './table.js';
import type { MachineInfo } from './bench-types.js';

/** One source of the PyTorch consumer study, as retina_data.bench_torch measured it. */
export interface TorchBenchSource {
  source: string;
  /** retina: a retina format read by RetinaDataset; seed: the seed's torch.save files or PIL path. */
  kind: 'retina' | 'seed';
  bytesOnDisk: number;
  records: number;
  /** DataLoader into float32 batches, in one process: per wall second and per CPU second (per core). */
  readImagesPerSecond: number;
  readImagesPerCpuSecond: number;
  train?: { epochSeconds: number; dataWaitSeconds: number; computeSeconds: number; imagesPerSecond: number; trainLoss: number };
  preprocess?: { seconds: number; imagesPerSecond: number } | null;
}

export interface TorchBenchReport {
  kind: 'retina-bench-formats-torch';
  version: 1;
  createdAt: string;
  machine: MachineInfo;
  config: Record<string, unknown>;
  sources: TorchBenchSource[];
  torchSaveWriteSeconds: number;
  outputs: { dir: string; reportJson: string; reportMd: string; chartSvg: string; chartHtml: string } | null;
  totalSeconds: number;
}

const TORCH_FILES = 'torch.save files';

/** Read rate per core and disk of each source against the seed's per-file torch.load. */
export function versusTorchLoad(sources: readonly TorchBenchSource[]): Map<string, { perCore: number; disk: number }> {
  const base = sources.find((s) => s.source === TORCH_FILES);
  const out = new Map<string, { perCore: number; disk: number }>();
  if (!base) return out;
  for (const s of sources) out.set(s.source, { perCore: s.readImagesPerCpuSecond / base.readImagesPerCpuSecond, disk: base.bytesOnDisk / s.bytesOnDisk });
  return out;
}

export function torchTableRows(report: TorchBenchReport): { header: string[]; rows: string[][] } {
  const vs = versusTorchLoad(report.sources);
  const header = ['source', 'on disk', 'read img/s', 'img/CPU-s', 'vs torch.load', 'disk vs torch.save', 's/epoch', 'data wait', 'compute', 'train img/s'];
  const rows = report.sources.map((s) => {
    const v = vs.get(s.source);
    return [
      s.source, formatBytes(s.bytesOnDisk), formatRate(s.readImagesPerSecond), formatRate(s.readImagesPerCpuSecond),
      v ? `${v.perCore.toFixed(2)}x` : '–', v ? `${v.disk.toFixed(2)}x less` : '–',
      formatSeconds(s.train?.epochSeconds ?? null), formatSeconds(s.train?.dataWaitSeconds ?? null), formatSeconds(s.train?.computeSeconds ?? null),
      formatRate(s.train?.imagesPerSecond ?? null),
    ];
  });
  return { header, rows };
}

export function renderTorchTable(report: TorchBenchReport): string {
  const { header, rows } = torchTableRows(report);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n';
}

export function renderTorchMarkdown(report: TorchBenchReport): string {
  const { header, rows } = torchTableRows(report);
  const c = report.config;
  return [
    '# retina bench formats --consumer torch',
    '',
    `- Date: ${report.createdAt}`,
    `- Machine: ${describeMachine(report.machine)}`,
    `- Records: ${String(c['count'])} images at ${String(c['size'])}x${String(c['size'])}x3 uint8 (${String(c['data'])}), batch ${String(c['batchSize'])}, ${String(c['epochs'])} epoch(s) of ${String(c['model'])} (frozen backbone) per source`,
    `- Total: ${formatSeconds(report.totalSeconds)} s`,
    '',
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    'Reads: a PyTorch DataLoader (num_workers=0, in one process, one torch thread) over every record in one epoch\'s order into float32 CHW batches in [-1, 1], median of timed passes after a warm-up pass (page cache warm). "img/CPU-s" divides by the process\'s CPU time: the rate per core. "torch.save files" is the seed\'s way (one float32 tensor file per image, torch.load per sample); "images (PIL)" the seed\'s on-the-fly JPEG decode + torchvision Resize/CenterCrop/ToTensor. Training: retina_data.train in the same process, data wait = time blocked on the DataLoader.',
    '',
    '![chart](chart.svg)',
    '',
  ].join('\n');
}

/** Two panels of horizontal bars: reads per CPU-second (log axis) and seconds per epoch. */
export function renderTorchChartSvg(report: TorchBenchReport): string {
  const s = report.sources;
  const left = 150, plot = 480, row = 22, top = 40;
  const panel = (title: string, values: number[], y0: number, log: boolean, fmt: (v: number) => string): string[] => {
    const pos = values.filter((v) => v > 0);
    const max = Math.max(...pos, 1e-9), min = Math.min(...pos, max);
    const lo = Math.floor(Math.log10(min)), hi = Math.max(lo + 1, Math.ceil(Math.log10(max)));
    const x = (v: number) => (v <= 0 ? 0 : log ? Math.max(2, ((Math.log10(v) - lo) / (hi - lo)) * plot) : (v / max) * plot);
    return [
      `<text x="10" y="${y0 - 10}" font-weight="bold">${xml(title)}</text>`,
      ...s.flatMap((src, i) => {
        const y = y0 + i * row;
        const v = values[i] ?? 0;
        return [
          `<text x="${left - 8}" y="${y + 14}" text-anchor="end">${xml(src.source)}</text>`,
          `<rect x="${left}" y="${y + 3}" width="${x(v).toFixed(1)}" height="${row - 7}" fill="${src.kind === 'seed' ? '#8a8f98' : '#2f6fb3'}"/>`,
          `<text x="${left + x(v) + 6}" y="${y + 14}">${xml(fmt(v))}</text>`,
        ];
      }),
    ];
  };
  const h1 = top + 20, h2 = h1 + s.length * row + 50;
  const height = h2 + s.length * row + 20;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="760" height="${height}" font-family="system-ui, Helvetica, Arial, sans-serif" font-size="12">`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${xml(`PyTorch consumer: ${String(report.config['size'])} px uint8 records, ${report.machine.cpuModel}`)}</text>`,
    ...panel('DataLoader -> float batches, images per CPU-second (log scale)', s.map((x) => x.readImagesPerCpuSecond), h1, true, (v) => formatRate(v)),
    ...panel(`Seconds per epoch of ${String(report.config['model'])} (frozen)`, s.map((x) => x.train?.epochSeconds ?? 0), h2, false, (v) => `${formatSeconds(v)} s`),
    '</svg>',
  ].join('\n') + '\n';
}

export async function writeTorchReport(report: TorchBenchReport, dir: string): Promise<TorchBenchReport> {
  const abs = resolve(dir);
  await mkdir(abs, { recursive: true });
  const outputs = { dir: abs, reportJson: join(abs, 'report.json'), reportMd: join(abs, 'report.md'), chartSvg: join(abs, 'chart.svg'), chartHtml: join(abs, 'chart.html') };
  const full: TorchBenchReport = { ...report, outputs };
  const svg = renderTorchChartSvg(full);
  await writeAtomic(outputs.chartSvg, svg);
  await writeAtomic(outputs.chartHtml, `<!doctype html><meta charset="utf-8"><title>retina bench formats --consumer torch</title>\n${svg}`);
  await writeAtomic(outputs.reportMd, renderTorchMarkdown(full));
  await writeAtomic(outputs.reportJson, JSON.stringify(full, null, 2) + '\n');
  return full;
}
