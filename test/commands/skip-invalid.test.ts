import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KAGGLE_SAMPLE, parseJson, runCli, tempDir } from '../helpers/cli.js';
import { kaggleSample } from '../helpers/requirements.js';

const sample = kaggleSample();
type ErrorJson = { error: { code: string; message: string; hint?: string } };

/**
 * Issue #14 item 5 with the real CSV (35,126 rows, 10 images): train --source images and
 * bench formats --images take preprocess's --skip-invalid and --limit, with its error and hint.
 */
describe.skipIf(!sample.available)(`--skip-invalid and --limit beyond preprocess${sample.titleSuffix}`, () => {
  let dir: string, cleanup: () => Promise<void>;
  const inputs = ['--images', join(KAGGLE_SAMPLE, 'train'), '--labels', join(KAGGLE_SAMPLE, 'trainLabels.csv')];
  beforeAll(async () => ({ dir, cleanup } = await tempDir('retina-skip-')));
  afterAll(() => cleanup?.());

  it('train --source images: stops like preprocess; --skip-invalid lists the 35,116 rows; --limit 10 takes the sample', async () => {
    const args = ['train', '--source', 'images', ...inputs, '--model', 'small-cnn', '--image-size', '16', '--epochs', '1', '--batch-size', '4',
      '--val-fraction', '0.2', '--backend', 'wasm', '--threads', '1', '--cache-dir', join(dir, 'cache'), '--json'];
    const bad = await runCli([...args, '--out', join(dir, 'bad')]);
    expect(bad.code).toBe(3);
    const err = parseJson<ErrorJson>(bad).error;
    expect(err.message).toContain('35116 missing image files');
    expect(err.hint).toContain('--skip-invalid');
    const skip = await runCli([...args, '--out', join(dir, 'skip'), '--skip-invalid']);
    expect(skip.code, skip.stderr).toBe(0);
    expect(parseJson<{ rejected: number; trainImages: number; valImages: number }>(skip)).toMatchObject({ rejected: 35_116, trainImages: 8, valImages: 2 });
    expect(readFileSync(join(dir, 'skip', 'rejects.csv'), 'utf8').trim().split('\n')).toHaveLength(35_117);
    const limit = await runCli([...args, '--out', join(dir, 'limit'), '--limit', '10']);
    expect(limit.code, limit.stderr).toBe(0);
    expect(parseJson<{ rejected: number; trainImages: number; valImages: number }>(limit)).toMatchObject({ rejected: 0, trainImages: 8, valImages: 2 });
  });

  it('bench formats --images: stops like preprocess without --skip-invalid, nothing left behind', async () => {
    const out = join(dir, 'bench');
    const r = await runCli(['bench', 'formats', ...inputs, '--formats', 'raw', '--out', out, '--json']);
    expect(r.code).toBe(3);
    expect(parseJson<ErrorJson>(r).error.hint).toContain('--skip-invalid');
    expect(existsSync(out)).toBe(false);
  });
});
