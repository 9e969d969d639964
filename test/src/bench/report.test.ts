import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderChartHtml, renderChartSvg } from '../../../src/bench/chart.js';
import { renderMarkdown, writeReport } from '../../../src/bench/report.js';
import { renderTable } from '../../../src/bench/table.js';
import type { BenchReport } from '../../../src/bench/bench-types.js';
import { tempDir } from '../../helpers/cli.js';
import { sampleReport } from './sample-report.js';

describe('table', () => {
  it('has a header, a rule and one aligned row per source', () => {
    const text = renderTable(sampleReport().results);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^source\s+on disk\s+per record\s+write img\/s\s+read img\/s/);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines[2]).toMatch(/^images .* 1\.00x$/);
    // raw: median read 30,000 with the slow repeat's 15,000 as min.
    expect(lines[3]).toMatch(/^raw .*30,000 \(15,000–30,000\)/);
    expect(lines[3]).toMatch(/53\.6 MB/);
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
