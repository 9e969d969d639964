import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLabelledImages, splitAndOrder } from '../../src/labelled-images.js';
import { validatePreprocess } from '../../src/preprocess/run.js';
import { openSource } from '../../src/train/sources.js';
import { tempDir } from '../helpers/cli.js';

let tmp: { dir: string; cleanup: () => Promise<void> };
const IDS = ['1_left', '1_right', '2_left', '2_right', '3_left', '3_right', '10_left', '10_right'];

beforeAll(async () => {
  tmp = await tempDir('retina-labelled-');
  await mkdir(join(tmp.dir, 'img'));
  const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#803020' } }).jpeg().toBuffer();
  for (const id of IDS) await writeFile(join(tmp.dir, 'img', `${id}.jpeg`), jpeg);
  // Columns no default detects: only --id-column/--label-column name them.
  await writeFile(join(tmp.dir, 'odd.csv'), `photo,severity\n${IDS.map((id, i) => `${id},${i % 5}`).join('\n')}\n`);
  await writeFile(join(tmp.dir, 'missing.csv'), `image,level\n${IDS.map((id, i) => `${id},${i % 5}`).join('\n')}\n99_left,1\n`);
});
afterAll(async () => { await tmp.cleanup(); });

const transform = { size: 16, crop: 'none', normalize: 'none', dtype: 'uint8' } as const;

describe('labelled images: one join for preprocess, the images source and the bench', () => {
  it('the images source honours --id-column/--label-column as preprocess does', async () => {
    const images = join(tmp.dir, 'img'), labels = join(tmp.dir, 'odd.csv');
    const li = await readLabelledImages({ images, labels, idColumn: 'photo', labelColumn: 'severity' });
    expect(li.items.map((it) => it.id)).toEqual(IDS);
    const source = await openSource({ kind: 'images', images, labels, idColumn: 'photo', labelColumn: 'severity', transform, valFraction: 0.25, splitSeed: 0 });
    expect(source.count).toBe(IDS.length);
    await expect(openSource({ kind: 'images', images, labels, transform, valFraction: 0.25, splitSeed: 0 })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('the images source rejects a row without an image as preprocess does (BAD_INPUT naming the line), not NOT_FOUND', async () => {
    const images = join(tmp.dir, 'img'), labels = join(tmp.dir, 'missing.csv');
    const fromSource = await openSource({ kind: 'images', images, labels, transform, valFraction: 0.25, splitSeed: 0 }).catch((e: unknown) => e);
    const fromPreprocess = await validatePreprocess({ images, labels, out: join(tmp.dir, 'ds'), format: 'raw', valFraction: 0.25, seed: 0, shard: { count: 1 } }).catch((e: unknown) => e);
    expect(fromSource).toMatchObject({ code: 'BAD_INPUT', location: { file: labels, line: 10, id: '99_left' } });
    expect((fromSource as Error).message).toBe((fromPreprocess as Error).message);
  });

  it('both serve the same split in the same (storage) order', async () => {
    const images = join(tmp.dir, 'img'), labels = join(tmp.dir, 'odd.csv');
    const source = await openSource({ kind: 'images', images, labels, idColumn: 'photo', labelColumn: 'severity', transform, valFraction: 0.25, splitSeed: 3 });
    const checked = await validatePreprocess({ images, labels, idColumn: 'photo', labelColumn: 'severity', out: join(tmp.dir, 'ds2'), format: 'raw', valFraction: 0.25, seed: 3, shard: { count: 1 } });
    const served = Array.from({ length: source.count }, (_, i) => source.meta(i));
    expect(served.map((m) => [m.id, m.split])).toEqual(checked.items.map((it) => [it.id, it.split]));
    expect(served.map((m) => m.id)).toEqual(['1_left', '1_right', '2_left', '2_right', '3_left', '3_right', '10_left', '10_right']);
    const { items } = splitAndOrder(checked.items, 0.25, 3);
    expect(new Set(items.filter((it) => it.split === 'val').map((it) => it.id.split('_')[0])).size).toBeGreaterThan(0);
  });
});
