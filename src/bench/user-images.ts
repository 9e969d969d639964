import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-write.js';
import { RetinaError } from '../core/errors.js';
import { readLabelledImages } from '../labelled-images.js';

/**
 * The user's images for the study: the first `count` labelled rows whose image exists (all of
 * them when `count` is 0), written as a small `image,level` CSV under `work`, so that
 * preprocessing and the `images` source see exactly the same set. The real Kaggle
 * trainLabels.csv lists 35,126 rows; a sample folder holds a few of those images, and rows
 * without an image are simply not part of the study (preprocess would stop on them).
 *
 * @throws RetinaError NOT_FOUND / BAD_INPUT from reading the labels or the folder, and BAD_INPUT
 *   when fewer than 4 usable images remain.
 */
export async function prepareUserImages(opts: { images: string; labels: string; count: number; work: string }): Promise<{ images: string; labels: string; count: number; skipped: number }> {
  const li = await readLabelledImages(opts);
  const taken = opts.count > 0 ? li.items.slice(0, opts.count) : li.items;
  const rows = taken.map((it) => `${csvField(it.id)},${it.label}`);
  // Rows without an image count as skipped up to the last row taken; unusable rows always.
  const last = opts.count > 0 && taken.length === opts.count ? taken[taken.length - 1]!.line : Infinity;
  const skipped = li.problems.filter((p) => p.kind !== 'missing-file' || p.line < last).length;
  if (rows.length < 4) {
    throw new RetinaError('BAD_INPUT', `Only ${rows.length} rows of ${opts.labels} have an image in ${opts.images}; the study needs at least 4 (train and validation)`, {
      location: { file: opts.labels }, hint: 'Point --images at the folder holding the images the CSV names.',
    });
  }
  await mkdir(opts.work, { recursive: true });
  const csv = join(opts.work, 'study-labels.csv');
  await writeFileAtomic(csv, `image,level\n${rows.join('\n')}\n`);
  return { images: opts.images, labels: csv, count: rows.length, skipped };
}

/** Quote a CSV field when it holds a comma, a quote or a line break. */
function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
