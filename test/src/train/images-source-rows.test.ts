import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { train, type TrainOptions } from '../../../src/train/train.js';
import { rejection } from '../../helpers/errors.js';
import { tempDir } from '../../helpers/cli.js';
import { makeFixtures } from '../../helpers/train-data.js';

/** Issue #14 item 5: --source images takes preprocess's --skip-invalid and --limit. */
describe('train --source images: rows without an image', () => {
  let dir: string, cleanup: () => Promise<void>;
  let base: TrainOptions;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('retina-imgrows-'));
    const fx = await makeFixtures(join(dir, 'fx'), 8, 5, { width: 64, height: 48 });
    await appendFile(fx.labels, '900_left,0\n900_right,2\n');
    base = {
      source: 'images', images: fx.images, labels: fx.labels, model: 'small-cnn', imageSize: 16, epochs: 1, batchSize: 4,
      valFraction: 0.25, backend: 'wasm', threads: 1, cacheDir: join(dir, 'cache'),
    };
  });
  afterAll(() => cleanup?.());

  it('stops as preprocess does (BAD_INPUT, counts and lines, the --skip-invalid hint)', async () => {
    const err = await rejection(train({ ...base, out: join(dir, 'stop') }));
    expect(err.code).toBe('BAD_INPUT');
    expect(err.message).toContain('2 missing image files');
    expect(err.message).toContain('line 10 (900_left)');
    expect(err.hint).toContain('--skip-invalid');
  });

  it('--skip-invalid goes on and lists the rows in RUN_DIR/rejects.csv, preprocess\'s format', async () => {
    const r = await train({ ...base, skipInvalid: true, out: join(dir, 'skip') });
    expect(r.trainImages + r.valImages).toBe(8);
    expect(r.rejected).toBe(2);
    expect(r.rejectsFile).toBe(join(dir, 'skip', 'rejects.csv'));
    const rows = (await readFile(r.rejectsFile!, 'utf8')).trim().split('\n');
    expect(rows[0]).toBe('id,line,reason');
    expect(rows.slice(1).map((l) => l.split(',').slice(0, 2).join(','))).toEqual(['900_left,10', '900_right,11']);
  });

  it('--limit takes the first N rows of the labels file', async () => {
    const r = await train({ ...base, limit: 6, out: join(dir, 'limit') });
    expect(r.trainImages + r.valImages).toBe(6);
    expect(r.rejected).toBe(0);
    expect(r.rejectsFile).toBeNull();
  });

  it('a dataset source refuses them: its rows were chosen at preprocessing', async () => {
    const err = await rejection(train({ ...base, source: 'raw', data: join(dir, 'nowhere'), skipInvalid: true, out: join(dir, 'ds') }));
    expect(err.code).toBe('BAD_ARGUMENT');
    expect(err.message).toContain('--skip-invalid applies to --source images');
  });
});
