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
      const r = await prepareUserImages({ images: join(KAGGLE_SAMPLE, 'train'), labels: join(KAGGLE_SAMPLE, 'trainLabels.csv'), count: 0, work: dir });
      expect(r.count).toBe(10);
      expect(r.skipped).toBe(35_126 - 10);
      const csv = (await readFile(r.labels, 'utf8')).trim().split('\n');
      expect(csv[0]).toBe('image,level');
      expect(csv.slice(1).map((l) => l.split(',')[0])).toEqual(['10_left', '10_right', '13_left', '13_right', '15_left', '15_right', '16_left', '16_right', '17_left', '17_right']);
      const limited = await prepareUserImages({ images: join(KAGGLE_SAMPLE, 'train'), labels: join(KAGGLE_SAMPLE, 'trainLabels.csv'), count: 4, work: dir });
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
      await expect(prepareUserImages({ images: join(dir, 'train'), labels: join(dir, 'labels.csv'), count: 0, work: dir }))
        .rejects.toSatisfy((e: unknown) => e instanceof RetinaError && e.code === 'BAD_INPUT' && /Only 0 rows/.test(e.message));
    } finally {
      await cleanup();
    }
  });
});
