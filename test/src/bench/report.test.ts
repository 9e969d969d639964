import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { niceTicks, renderChartHtml, renderChartSvg } from '../../../src/bench/chart.js';
import { renderMarkdown, writeReport } from '../../../src/bench/report.js';
import { renderTable } from '../../../src/bench/table.js';
import type { BenchReport } from '../../../src/bench/bench-types.js';
import { tempDir } from '../../helpers/cli.js';
import { sampleReport } from './sample-report.js';

describe('table', () => {
  it('has a header, a rule and one aligned row per source (--wide: every column with ranges)', () => {
    const text = renderTable(sampleReport().results, { wide: true });
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^source\s+on disk\s+per record\s+write img\/s\s+read img\/s/);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines[2]).toMatch(/^images .* 1\.00x$/);
    // raw: median read 30,000 with the slow repeat's 15,000 as min.
    expect(lines[3]).toMatch(/^raw .*30,000 \(15,000–30,000\)/);
    expect(lines[3]).toMatch(/53\.6 MB/);
  });

  it('fits an 80-column terminal by default: the deciding columns, medians only', () => {
    const lines = renderTable(sampleReport().results).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^source\s+on disk\s+read img\/s\s+random img\/s\s+train s\s+s\/epoch\s+speed-up$/);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(80);
    expect(lines[3]).toMatch(/^raw .*30,000 /);
    expect(lines[3]).not.toContain('(');
  });
});

describe('chart axes', () => {
  it('per-epoch ticks step by 1, 2, 2.5 or 5 x 10^k (0.25, 0.5, ... not 0.24, 0.48, ...)', () => {
    expect(niceTicks(1.13)).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
    expect(niceTicks(0.9)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.137)).toEqual([0, 0.05, 0.1, 0.15]);
    expect(niceTicks(37)).toEqual([0, 10, 20, 30, 40]);
    for (const max of [0.0042, 0.31, 1.2, 3.4, 17, 86, 1234]) {
      const t = niceTicks(max);
      const step = t[1]!;
      expect(t[t.length - 1]!).toBeGreaterThanOrEqual(max);
      expect(t.length).toBeGreaterThanOrEqual(3);
      expect(t.length).toBeLessThanOrEqual(7);
      const mantissa = step / 10 ** Math.floor(Math.log10(step));
      expect([1, 2, 2.5, 5].some((m) => Math.abs(m - mantissa) < 1e-9), `${max}: step ${step}`).toBe(true);
    }
  });
});

describe('report.md', () => {
  it('states settings, machine, cache mode and the table', () => {
    const md = renderMarkdown(sampleReport());
    expect(md).toContain('# retina bench formats');
    expect(md).toContain('Test CPU 9000');
    expect(md).toContain('warm: each dataset was read right after it was written');
    expect(md).toMatch(/\| source \| on disk \|/);
    expect(md).toContain('![chart](chart.svg)');
    expect(md).not.toContain("Seed's Experiment 3");
    expect(md).not.toContain('records trained on');
  });

  it('shows the contact sheet of the records trained on when the study wrote one', () => {
    const md = renderMarkdown({ ...sampleReport(), recordsSheet: { file: '/x/out/records.png', format: 'lmdb', split: 'train', tiles: 12, ids: [] } });
    expect(md).toContain('![records trained on](records.png)');
    expect(md).toContain('12 training records of the lmdb dataset');
  });

  it('prints the seed\'s published figures beside ours with the preset', () => {
    const md = renderMarkdown(sampleReport({ preset: true }));
    expect(md).toContain("Seed's Experiment 3");
    expect(md).toContain('| seed, serialized (15 epochs) | 1054–1154 | 70.3–76.9 | – |');
    expect(md).toContain('| seed, on the fly (15 epochs) | 1271–1297 | 84.7–86.5 | – |');
    expect(md).toMatch(/\| ours, serialized \(raw\) \(3 epochs\) \| 10\.2 \(10\.0–20\.1\) \| 3\.40 \| 13\.2 \|/);
    expect(md).toContain('Ours ran 3 epochs, the seed 15');
  });
});

describe('chart', () => {
  const svgOf = (r: BenchReport) => renderChartSvg(r);
  const barsOf = (svg: string) => [...svg.matchAll(/<rect class="bar" data-source="([^"]+)" data-metric="([^"]+)" data-value="([^"]+)"[^>]* width="([^"]+)"/g)]
    .map((m) => ({ source: m[1], metric: m[2], value: Number(m[3]), width: Number(m[4]) }));

  it('draws an epoch bar and three read bars per source, longer for slower epochs', () => {
    const bars = barsOf(svgOf(sampleReport()));
    for (const source of ['images', 'raw', 'lmdb']) {
      expect(bars.filter((b) => b.source === source && b.metric === 'secondsPerEpoch')).toHaveLength(1);
      expect(bars.filter((b) => b.source === source && b.metric.includes('ImagesPerSecond'))).toHaveLength(3);
    }
    const epoch = (s: string) => bars.find((b) => b.source === s && b.metric === 'secondsPerEpoch')!;
    expect(epoch('images').width).toBeGreaterThan(epoch('lmdb').width);
    expect(epoch('lmdb').width).toBeGreaterThan(epoch('raw').width);
    const read = (s: string) => bars.find((b) => b.source === s && b.metric === 'readImagesPerSecond')!;
    expect(read('raw').width).toBeGreaterThan(read('images').width);
    expect(Math.min(...bars.map((b) => b.width))).toBeGreaterThan(0);
  });

  it('writes the machine on the chart, escaped', () => {
    const svg = svgOf(sampleReport());
    expect(svg).toContain('Test CPU 9000 &lt;&amp;&gt;, 2 CPUs (affinity), 24.0 GiB, Node v20.20.2');
    expect(svg).toContain('tfjs backend wasm');
    expect(svg).not.toContain('<&>');
  });

  it('adds the seed\'s figures with the preset', () => {
    const bars = barsOf(svgOf(sampleReport({ preset: true })));
    expect(bars.find((b) => b.source === 'seed-serialized')?.value).toBe(1104);
    expect(bars.find((b) => b.source === 'seed-on-the-fly')?.value).toBe(1284);
  });

  it('is a self-contained page: no external resources', () => {
    const html = renderChartHtml(sampleReport());
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/\b(src|href)=/);
    expect(html).toContain('<svg');
    expect(html).toContain('<table>');
  });
});

describe('writeReport', () => {
  it('writes report.json, report.md, chart.svg and chart.html and records their paths', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const full = await writeReport(sampleReport(), `${dir}/out`);
      expect(full.outputs?.dir).toBe(`${dir}/out`);
      const json = JSON.parse(await readFile(full.outputs!.reportJson, 'utf8')) as BenchReport;
      expect(json.results.map((r) => r.source)).toEqual(['images', 'raw', 'lmdb']);
      expect(json.outputs?.chartHtml).toBe(`${dir}/out/chart.html`);
      expect(await readFile(full.outputs!.reportMd, 'utf8')).toContain('| raw |');
      expect(await readFile(full.outputs!.chartSvg, 'utf8')).toMatch(/^<svg /);
      expect(await readFile(full.outputs!.chartHtml, 'utf8')).toContain('data-bars="pending"');
    } finally {
      await cleanup();
    }
  });
});
