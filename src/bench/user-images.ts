import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-write.js';
import { RetinaError } from '../core/errors.js';
import { invalidInputError, readLabelledImages } from '../labelled-images.js';
import { writeRejects } from '../preprocess/rejects.js';

/**
 * The user's images for the study: the labels joined with the images folder as preprocess does
 * (validateInputs, the same `--limit` and `--skip-invalid`, the same error and hint), then the
 * first `count` usable rows (all of them when `count` is 0), written as a small `image,level` CSV
 * under `work`, so that preprocessing and the `images` source see exactly the same set. With
 * skipInvalid the rows left out go to `rejectsFile`, in preprocess's rejects.csv format.
 *
 * @throws RetinaError NOT_FOUND / BAD_INPUT from reading the labels or the folder, BAD_INPUT for
 *   invalid rows without skipInvalid, and when fewer than 4 usable images remain.
 */
export async function prepareUserImages(opts: {
  images: string; labels: string; count: number; work: string;
  limit?: number | undefined; skipInvalid?: boolean | undefined; rejectsFile?: string | undefined;
}): Promise<{ images: string; labels: string; count: number; skipped: number }> {
  const { items, problems } = await readLabelledImages(opts);
  if (problems.length > 0 && !opts.skipInvalid) throw invalidInputError(opts.labels, problems, items.length, opts.images);
  if (problems.length > 0 && opts.rejectsFile) await writeRejects(opts.rejectsFile, problems);
  const chosen = opts.count > 0 ? items.slice(0, opts.count) : items;
  const rows = chosen.map((it) => `${csvField(it.id)},${it.label}`);
  if (rows.length < 4) {
    throw new RetinaError('BAD_INPUT', `Only ${rows.length} rows of ${opts.labels} have an image in ${opts.images}; the study needs at least 4 (train and validation)`, {
      location: { file: opts.labels }, hint: 'Point --images at the folder holding the images the CSV names.',
    });
  }
  await mkdir(opts.work, { recursive: true });
  const csv = join(opts.work, 'study-labels.csv');
  await writeFileAtomic(csv, `image,level\n${rows.join('\n')}\n`);
  return { images: opts.images, labels: csv, count: rows.length, skipped: problems.length };
}

/** Quote a CSV field when it holds a comma, a quote or a line break. */
function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
