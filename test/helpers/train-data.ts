import { join } from 'node:path';
import { createShardWriter, indexDataset } from '../../formats/dataset.js';
import type { TensorSpec } from '../../formats/types.js';
import { generateFixtures } from '../../fixtures/generate.js';
import { readLabels } from '../../src/labels.js';
import { assignSplits } from '../../src/split.js';
import { transformImage, type TransformOptions } from '../../src/transform.js';

/** A small balanced synthetic Kaggle-layout set (lesions grow with grade). */
export async function makeFixtures(out: string, count: number, seed = 3, size = { width: 96, height: 72 }): Promise<{ images: string; labels: string }> {
  await generateFixtures({ out, count, seed, size, distribution: 'balanced', concurrency: 2 });
  return { images: join(out, 'train'), labels: join(out, 'trainLabels.csv') };
}

/**
 * Turn a fixture folder into a one-shard dataset the way `retina preprocess` does (same transform,
 * same patient split), with an optional label override to build bad inputs.
 */
export async function writeImageDataset(
  fx: { images: string; labels: string }, dir: string,
  opts: { format?: string; transform: TransformOptions; valFraction?: number; splitSeed?: number; label?: (id: string, label: number) => number },
): Promise<void> {
  const { rows } = await readLabels(fx.labels);
  const splits = assignSplits(rows, opts.valFraction ?? 0.1, opts.splitSeed ?? 1);
  const s = opts.transform.size;
  const spec: TensorSpec = { dtype: opts.transform.dtype, shape: [s, s, 3] };
  const w = await createShardWriter(dir, opts.format ?? 'raw', { index: 0, count: 1, spec, params: { crop: opts.transform.crop, normalize: opts.transform.normalize } });
  for (const row of rows) {
    const tensor = await transformImage(join(fx.images, `${row.id}.jpeg`), opts.transform);
    await w.append({ id: row.id, label: opts.label ? opts.label(row.id, row.label) : row.label, split: splits.get(row.id)! }, tensor);
  }
  await w.close();
  await indexDataset(dir);
}
