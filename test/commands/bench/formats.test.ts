import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../../../src/bench/bench-types.js';
import { chromium } from '../../helpers/chromium.js';
import { BIN, KAGGLE_SAMPLE, parseJson, runCli, tempDir } from '../../helpers/cli.js';
import { chromiumBrowser, kaggleSample } from '../../helpers/requirements.js';

const sample = kaggleSample();
const browser = chromiumBrowser();

/**
 * `retina bench formats` end to end, as a user runs it, on a small configuration: a generated
 * Kaggle-layout set, two formats, real preprocessing, real reads, real small-cnn training.
 * Figures are not asserted (speed is reported, never tested); their presence, consistency and the
 * files are.
 */
describe.sequential('retina bench formats', () => {
  let dir = '';
  let cleanup: () => Promise<void> = async () => {};
  let report: BenchReport;
  let stderr = '';

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('retina-bench-e2e-'));
    const r = await runCli(['bench', 'formats', '--count', '24', '--formats', 'raw,lmdb', '--epochs', '1', '--repeat', '2', '--size', '32',
      '--batch-size', '8', '--val-fraction', '0.25', '--out', join(dir, 'out'), '--json'], { timeoutMs: 600_000 });
    stderr = r.stderr;
    expect(r.code, r.stderr).toBe(0);
    report = parseJson<BenchReport>(r);
  }, 600_000);

  afterAll(async () => cleanup());

  it('prints the --json contract: machine and one result per format plus images', () => {
    expect(report.machine).toMatchObject({ node: process.version });
    expect(report.machine.cpus).toBeGreaterThan(0);
    expect(report.machine.cpuModel).not.toBe('');
    expect(['onnxruntime', 'wasm', 'cpu', 'tensorflow']).toContain(report.machine.backend);
    expect(report.results.map((r) => r.source)).toEqual(['images', 'raw', 'lmdb']);
    for (const r of report.results) {
      for (const key of ['bytesOnDisk', 'readImagesPerSecond', 'readFloatImagesPerSecond', 'randomReadImagesPerSecond', 'trainSeconds', 'speedupVsImages'] as const) {
        expect(typeof r[key], `${r.source}.${key}`).toBe('number');
        expect(r[key]!, `${r.source}.${key}`).toBeGreaterThan(0);
      }
      expect('writeImagesPerSecond' in r).toBe(true);
      expect(r.records).toBe(24);
    }
    const images = report.results[0]!;
    expect(images.speedupVsImages).toBe(1);
    expect(images.writeImagesPerSecond).toBeNull();
    for (const r of report.results.slice(1)) {
      expect(r.writeImagesPerSecond!).toBeGreaterThan(0);
      // 24 uint8 tensors of 32x32x3 = 73,728 bytes at least, plus manifests and indexes.
      expect(r.bytesOnDisk).toBeGreaterThanOrEqual(24 * 32 * 32 * 3);
    }
  });

  it('keeps every repeat and takes medians and per-repeat ratios from them', () => {
    expect(report.runs).toHaveLength(2 * 3);
    for (const r of report.results) {
      const mine = report.runs.filter((x) => x.source === r.source);
      expect(mine.map((x) => x.repeat).sort()).toEqual([0, 1]);
      expect(r.spread.trainSeconds?.runs).toEqual(mine.map((x) => x.trainSeconds));
      expect(r.trainSeconds).toBeCloseTo((mine[0]!.trainSeconds + mine[1]!.trainSeconds) / 2, 9);
      for (const run of mine) expect(run.epochSeconds).toHaveLength(1);
    }
    const raw = report.results.find((r) => r.source === 'raw')!;
    const ratios = [0, 1].map((k) => report.runs.find((x) => x.source === 'images' && x.repeat === k)!.trainSeconds / report.runs.find((x) => x.source === 'raw' && x.repeat === k)!.trainSeconds);
    expect(raw.speedupVsImages).toBeCloseTo((ratios[0]! + ratios[1]!) / 2, 9);
  });

  it('trains on the same tensors from every source: identical validation results', () => {
    // images decodes with the very transform preprocess stored, and training is seeded, so a
    // format that returned different bytes would show here.
    const first = report.runs[0]!;
    for (const run of report.runs) {
      expect(run.valAccuracy, `${run.source} repeat ${run.repeat}`).toBe(first.valAccuracy);
      expect(run.valKappa, `${run.source} repeat ${run.repeat}`).toBe(first.valKappa);
    }
  });

  it('says how the page cache was used', () => {
    expect(report.cache.mode).toBe('warm');
    expect(report.cache.statement).toMatch(/^warm: /);
  });

  it('writes report.json, report.md and a chart that renders in Chromium, and removes its work data', async () => {
    const out = join(dir, 'out');
    const json = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as BenchReport;
    expect(json.results).toEqual(report.results);
    const md = await readFile(join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/\| raw \|/);
    expect(existsSync(join(out, 'chart.svg'))).toBe(true);
    expect((await readdir(out)).filter((n) => n.startsWith('work'))).toEqual([]);
    // #19: a contact sheet of the training records (first format's dataset) beside the report.
    expect(report.recordsSheet).toMatchObject({ file: join(out, 'records.png'), format: 'raw', split: 'train' });
    expect(report.recordsSheet!.tiles).toBe(report.recordsSheet!.ids.length);
    expect(report.recordsSheet!.tiles).toBeGreaterThan(0);
    expect(md).toContain('![records trained on](records.png)');
    const sheet = await sharp(join(out, 'records.png')).metadata();
    expect(sheet.format).toBe('png');
    expect(sheet.width).toBeGreaterThan(4 * 32);
    if (!browser.available) return; // the reason was printed (chromiumBrowser)
    const dom = await chromium(join(out, 'chart.html'), { dumpDom: true });
    // 3 epoch bars + 3 sources x 3 read bars.
    expect(dom).toMatch(/<body data-bars="12"/);
    expect(dom).toContain(`Machine: ${report.machine.cpuModel}`);
  });

  it('keeps stdout pure JSON and progress on stderr', () => {
    expect(stderr).not.toMatch(/\{"machine"/);
  });
});

describe.skipIf(!sample.available)(`retina bench formats on real images${sample.titleSuffix}`, () => {
  it('runs on the real Kaggle sample: the 10 rows of trainLabels.csv with an image', async () => {
    const { dir, cleanup } = await tempDir('retina-bench-real-');
    try {
      const r = await runCli(['bench', 'formats', '--images', join(KAGGLE_SAMPLE, 'train'), '--labels', join(KAGGLE_SAMPLE, 'trainLabels.csv'),
        '--skip-invalid', '--formats', 'raw', '--repeat', '1', '--epochs', '1', '--size', '32', '--val-fraction', '0.4', '--out', dir, '--json'], { timeoutMs: 300_000 });
      expect(r.code, r.stderr).toBe(0);
      const report = parseJson<BenchReport>(r);
      expect(report.config).toMatchObject({ data: 'user', count: 10, skipInvalid: true, rejected: 35_116 });
      expect(existsSync(join(dir, 'rejects.csv'))).toBe(true);
      expect(report.config.split!.train + report.config.split!.val).toBe(10);
      expect(report.results.map((x) => [x.source, x.records])).toEqual([['images', 10], ['raw', 10]]);
      // The originals are megabytes each; a 32x32x3 tensor is 3,072 bytes.
      expect(report.results[0]!.bytesPerRecord).toBeGreaterThan(100_000);
      expect(report.results[1]!.bytesPerRecord).toBeLessThan(20_000);
    } finally {
      await cleanup();
    }
  }, 300_000);
});

describe('retina bench formats, interrupted', () => {
  it('stops cleanly on SIGINT: exit 130, no report, no work data left', async () => {
    const { dir, cleanup } = await tempDir('retina-bench-int-');
    try {
      const child = spawn(process.execPath, [BIN, 'bench', 'formats', '--count', '16', '--formats', 'raw', '--repeat', '3', '--epochs', '1', '--size', '32',
        '--val-fraction', '0.25', '--out', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await new Promise<void>((resolve) => child.stderr.on('data', (d: Buffer) => {
        stderr += String(d);
        if (stderr.includes('[repeat 1/3] raw')) resolve();
      }));
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(stderr).toMatch(/SIGINT: stopping after the current step/);
      expect(stderr).toMatch(/ABORTED|Interrupted/);
      expect(existsSync(join(dir, 'report.json'))).toBe(false);
      expect((await readdir(dir)).filter((n) => n.startsWith('work'))).toEqual([]);
    } finally {
      await cleanup();
    }
  }, 120_000);
});

describe('retina bench formats, arguments', () => {
  it('rejects an unknown format with exit 2, naming it', async () => {
    const r = await runCli(['bench', 'formats', '--formats', 'raw,parquet', '--json']);
    expect(r.code).toBe(2);
    expect(parseJson<{ error: { message: string } }>(r).error.message).toMatch(/--formats.*parquet/);
  });

  it('needs --labels with --images', async () => {
    const r = await runCli(['bench', 'formats', '--images', join(KAGGLE_SAMPLE, 'train')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--labels/);
  });
});
