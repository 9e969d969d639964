import { join } from 'node:path';
import { generateFixtures } from '../../fixtures/generate.js';
import { preprocess } from '../../src/preprocess/run.js';
import type { TransformOptions } from '../../src/transform.js';

/** A small balanced synthetic Kaggle-layout set (lesions grow with grade). */
export async function makeFixtures(out: string, count: number, seed = 3, size = { width: 96, height: 72 }): Promise<{ images: string; labels: string }> {
  await generateFixtures({ out, count, seed, size, distribution: 'balanced', concurrency: 2 });
  return { images: join(out, 'train'), labels: join(out, 'trainLabels.csv') };
}

/** Serialize a fixture folder with the real `retina preprocess` library call (one shard). */
export async function writeImageDataset(
  fx: { images: string; labels: string }, dir: string,
  opts: { format?: string; transform: TransformOptions; valFraction?: number; splitSeed?: number },
): Promise<void> {
  await preprocess({
    images: fx.images, labels: fx.labels, out: dir, format: opts.format ?? 'raw', transform: opts.transform,
    valFraction: opts.valFraction ?? 0.1, seed: opts.splitSeed ?? 0, shard: { index: 0, count: 1 },
    skipInvalid: false, force: true, threads: 2,
  });
}
