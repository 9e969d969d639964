import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, runCli, tempDir, type CliResult } from '../helpers/cli.js';

const PYTHON = process.env['RETINA_PYTHON'] || '/usr/bin/python3';
const HAS_TORCH = process.env['CI'] === 'true' || (() => {
  try { execFileSync(PYTHON, ['-c', 'import torch, torchvision'], { stdio: 'ignore' }); return true; } catch { return false; }
})();

let tmp: { dir: string; cleanup: () => Promise<void> };
let data: string;
const ok = (r: CliResult) => { expect(r.code, `exit ${r.code}\n${r.stdout}\n${r.stderr}`).toBe(0); return r; };

describe('retina train --engine torch (flags)', () => {
  it('refuses tfjs-only flags with exit 2, and names a missing interpreter with exit 4', async () => {
    const a = await runCli(['train', '--engine', 'torch', '--source', 'raw', '--data', '/nonexistent', '--cache-features']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('--cache-features applies to the tfjs engine only');
    const b = await runCli(['train', '--engine', 'torch', '--source', 'raw', '--data', '/nonexistent', '--python', '/nonexistent/python3']);
    expect(b.code).toBe(4);
    expect(b.stderr).toContain('Cannot start /nonexistent/python3');
  });
});

describe.skipIf(!HAS_TORCH)(`retina train --engine torch and bench --consumer torch (real PyTorch)${HAS_TORCH ? '' : ` [SKIPPED: ${PYTHON} cannot import torch]`}`, { timeout: 300_000 }, () => {
  beforeAll(async () => {
    tmp = await tempDir('retina-torch-');
    const fx = join(tmp.dir, 'fx');
    data = join(tmp.dir, 'raw');
    ok(await runCli(['fixtures', '--out', fx, '--count', '24', '--seed', '3', '--size', '96x72', '--distribution', 'balanced']));
    ok(await runCli(['preprocess', '--images', join(fx, 'train'), '--labels', join(fx, 'trainLabels.csv'), '--out', data, '--format', 'raw', '--size', '32', '--val-fraction', '0.25', '--threads', '1']));
  });
  afterAll(async () => { await tmp?.cleanup(); });

  it('--json gives retina train\'s fields plus engine, worldSize and device; the run folder is retina\'s', async () => {
    const out = join(tmp.dir, 'run');
    const body = parseJson<Record<string, unknown> & { epochs: Record<string, unknown>[] }>(ok(await runCli(['train', '--engine', 'torch', '--source', 'raw', '--data', data,
      '--model', 'small-cnn', '--epochs', '2', '--batch-size', '8', '--threads', '1', '--out', out, '--json'])));
    expect(body).toMatchObject({ engine: 'torch', worldSize: 1, device: 'cpu', model: 'small-cnn', source: 'raw', fineTune: false, out, featureCache: null });
    expect(body.epochs).toHaveLength(2);
    for (const k of ['trainLoss', 'valLoss', 'valAccuracy', 'valKappa', 'confusion', 'seconds', 'dataWaitSeconds', 'computeSeconds', 'imagesPerSecond']) expect(body.epochs[0]).toHaveProperty(k);
    for (const f of ['metrics.jsonl', 'summary.json', 'model.pt', 'checkpoint.pt']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
    // A finished run is kept: exit 7 (EXISTS), as retina train.
    const again = await runCli(['train', '--engine', 'torch', '--source', 'raw', '--data', data, '--model', 'small-cnn', '--epochs', '2', '--batch-size', '8', '--out', out]);
    expect(again.code).toBe(7);
    expect(again.stderr).toContain('already holds a finished run');
  });

  it('bench formats --consumer torch measures every source on the same records and writes table, report and chart', async () => {
    const out = join(tmp.dir, 'bench');
    const body = parseJson<{ kind: string; sources: { source: string; records: number; bytesOnDisk: number; readImagesPerCpuSecond: number; train: { epochSeconds: number } }[] }>(ok(await runCli([
      'bench', 'formats', '--consumer', 'torch', '--formats', 'raw,lmdb', '--count', '12', '--size', '32', '--model', 'small-cnn', '--threads', '1', '--out', out, '--json',
    ])));
    expect(body.kind).toBe('retina-bench-formats-torch');
    expect(body.sources.map((s) => s.source)).toEqual(['raw', 'lmdb', 'raw (RetinaDataset float32)', 'torch.save files', 'images (PIL)']);
    for (const s of body.sources) {
      expect(s.records).toBe(12);
      expect(s.readImagesPerCpuSecond).toBeGreaterThan(0);
      expect(s.train.epochSeconds).toBeGreaterThan(0);
    }
    const raw = body.sources[0]!, files = body.sources[3]!;
    expect(files.bytesOnDisk / raw.bytesOnDisk).toBeGreaterThan(3.5); // float32 files vs uint8 records
    for (const f of ['report.json', 'report.md', 'chart.svg', 'chart.html']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('torch.save files');
  });
});
