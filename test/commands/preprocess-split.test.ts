import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KAGGLE_SAMPLE, parseJson, runCli, tempDir } from '../helpers/cli.js';
import { kaggleSample } from '../helpers/requirements.js';
import { makeFixtures } from '../helpers/train-data.js';

interface Result { records: number; splits: { train: number; val: number } }

describe('an empty split is found at preprocessing, and the training error names the flags that fix it', () => {
  let dir: string, cleanup: () => Promise<void>;
  let fx: { images: string; labels: string };
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('retina-split-'));
    fx = await makeFixtures(join(dir, 'fx'), 6, 5, { width: 64, height: 48 }); // 3 patients
  });
  afterAll(() => cleanup?.());

  it('0.1 of 3 patients gives 1; --val-fraction 0 warns with the fraction that gives one; train then names preprocess\' flags', async () => {
    const args = ['preprocess', '--format', 'raw', '--images', fx.images, '--labels', fx.labels, '--size', '32', '--json'];
    const tenth = await runCli([...args, '--out', join(dir, 'tenth'), '--val-fraction', '0.1']);
    expect(tenth.code).toBe(0);
    expect(parseJson<Result>(tenth).splits).toEqual({ train: 4, val: 2 });
    expect(tenth.stderr).not.toContain('split is empty');

    const none = await runCli([...args, '--out', join(dir, 'none'), '--val-fraction', '0']);
    expect(none.code).toBe(0);
    expect(parseJson<Result>(none).splits).toEqual({ train: 6, val: 0 });
    expect(none.stderr).toContain('the validation split is empty (train 6, val 0 images of 3 patients at --val-fraction 0)');
    expect(none.stderr).toContain('--val-fraction 0.1 (any value above 0 gives at least 1 of the 3 patients)');

    const t = await runCli(['train', '--source', 'raw', '--data', join(dir, 'none'), '--model', 'small-cnn', '--epochs', '1', '--val-fraction', '0.5',
      '--out', join(dir, 'run'), '--cache-dir', join(dir, 'cache'), '--json']);
    expect(t.code).toBe(3);
    const err = parseJson<{ error: { code: string; message: string; hint: string } }>(t).error;
    expect(err.message).toContain('The val split of');
    expect(err.hint).toContain('run retina preprocess again with --val-fraction 0.1');
    expect(err.hint).toContain('--force');
  });

  const sample = kaggleSample();
  it.skipIf(!sample.available)(`the real 10-image sample (5 patients) gets a validation patient at 0.1 and 0.2${sample.titleSuffix}`, async () => {
    for (const fraction of ['0.1', '0.2']) {
      const r = await runCli(['preprocess', '--format', 'raw', '--images', join(KAGGLE_SAMPLE, 'train'), '--labels', join(KAGGLE_SAMPLE, 'trainLabels.csv'),
        '--limit', '10', '--size', '32', '--val-fraction', fraction, '--out', join(dir, `sample-${fraction}`), '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(parseJson<Result>(r).splits.val).toBe(2); // one patient, both eyes
      expect(r.stderr).not.toContain('split is empty');
    }
  });
});
