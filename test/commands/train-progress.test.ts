import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { makeFixtures, writeImageDataset } from '../helpers/train-data.js';

/**
 * Issue #14 item 10: feature extraction shows progress in a log (stderr not a terminal, as in a
 * Slurm job's .out), as preprocess does: `features: N/N (100.0 %), R images/s, ETA ...`.
 */
describe('feature extraction progress in logs', () => {
  let dir: string, cleanup: () => Promise<void>;
  let data: string;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('retina-fprog-'));
    const fx = await makeFixtures(join(dir, 'fx'), 16, 5, { width: 64, height: 48 });
    data = join(dir, 'raw');
    await writeImageDataset(fx, data, { transform: { size: 32, crop: 'auto', normalize: 'none', dtype: 'uint8' }, valFraction: 0.25 });
  }, 300_000);
  afterAll(() => cleanup?.());

  for (const threads of ['1', '2']) {
    it(`prints progress lines when stderr is a file (${threads === '1' ? 'in-process' : 'worker threads'}); none with --json`, async () => {
      const args = ['train', '--source', 'raw', '--data', data, '--model', 'small-cnn', '--epochs', '1', '--batch-size', '8', '--backend', 'wasm', '--threads', threads];
      const r = await runCli([...args, '--out', join(dir, `run-${threads}`), '--cache-dir', join(dir, `cache-${threads}`)]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/^features: 16\/16 \(100\.0 %\), [\d.]+ images\/s, ETA /m);
      expect(r.stderr).not.toContain('\r');
      const j = await runCli([...args, '--out', join(dir, `json-${threads}`), '--cache-dir', join(dir, `cache-json-${threads}`), '--json']);
      expect(j.code, j.stderr).toBe(0);
      expect(j.stderr).not.toMatch(/^features: \d+\/\d+/m);
    });
  }
});
