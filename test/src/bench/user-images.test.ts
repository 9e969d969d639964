import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareUserImages } from '../../../src/bench/user-images.js';
import { RetinaError } from '../../../src/core/errors.js';
import { KAGGLE_SAMPLE, tempDir } from '../../helpers/cli.js';
import { kaggleSample } from '../../helpers/requirements.js';

const sample = kaggleSample();

describe('prepareUserImages', () => {
  it.skipIf(!sample.available)('keeps the rows of the real Kaggle CSV whose image is in the sample folder', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      // As preprocess: the 35,116 rows without an image stop it, naming --skip-invalid ...
      const err = await prepareUserImages({ images: join(KAGGLE_SAMPLE, 'train'), labels: join(KAGGLE_SAMPLE, 'trainLabels.csv'), count: 0, work: dir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RetinaError);
      expect((err as RetinaError).code).toBe('BAD_INPUT');
      expect((err as RetinaError).message).toContain('35116 missing image files');
      expect((err as RetinaError).hint).toContain('--skip-invalid');
      // ... which lists them in the same rejects file; --limit 10 takes exactly the sample's rows.
      const rejectsFile = join(dir, 'rejects.csv');
      const r = await prepareUserImages({ images: join(KAGGLE_SAMPLE, 'train'), labels: join(KAGGLE_SAMPLE, 'trainLabels.csv'), count: 0, work: dir, skipInvalid: true, rejectsFile });
      expect(r.count).toBe(10);
      expect(r.skipped).toBe(35_126 - 10);
      expect((await readFile(rejectsFile, 'utf8')).trim().split('\n')).toHaveLength(35_117);
      const first10 = await prepareUserImages({ images: join(KAGGLE_SAMPLE, 'train'), labels: join(KAGGLE_SAMPLE, 'trainLabels.csv'), count: 0, work: dir, limit: 10 });
      expect(first10).toMatchObject({ count: 10, skipped: 0 });
      const csv = (await readFile(r.labels, 'utf8')).trim().split('\n');
      expect(csv[0]).toBe('image,level');
      expect(csv.slice(1).map((l) => l.split(',')[0])).toEqual(['10_left', '10_right', '13_left', '13_right', '15_left', '15_right', '16_left', '16_right', '17_left', '17_right']);
      const limited = await prepareUserImages({ images: join(KAGGLE_SAMPLE, 'train'), labels: join(KAGGLE_SAMPLE, 'trainLabels.csv'), count: 4, work: dir, skipInvalid: true });
      expect(limited.count).toBe(4);
    } finally {
      await cleanup();
    }
  });

  it('refuses a folder that holds too few of the listed images', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await mkdir(join(dir, 'train'));
      await writeFile(join(dir, 'labels.csv'), 'image,level\na_left,0\na_right,1\n');
      await expect(prepareUserImages({ images: join(dir, 'train'), labels: join(dir, 'labels.csv'), count: 0, work: dir, skipInvalid: true }))
        .rejects.toSatisfy((e: unknown) => e instanceof RetinaError && e.code === 'BAD_INPUT' && /Only 0 rows/.test(e.message));
    } finally {
      await cleanup();
    }
  });
});
