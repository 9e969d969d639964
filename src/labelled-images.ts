import type { Split } from '../formats/types.js';
import { RetinaError } from './core/errors.js';
import { readLabels, type ProblemKind, type ReadLabelsResult, type RowProblem } from './labels.js';
import { indexImages, type ImageIndex } from './preprocess/image-index.js';
import { compareIds } from './shard-assign.js';
import { assignSplits } from './split.js';

/**
 * Labelled images, once: the labels CSV (src/labels.ts) joined with the images folder
 * (src/preprocess/image-index.ts), every row either an item or a problem, then the patient split
 * and the storage order. `retina preprocess`, the `images` training source and the bench all take
 * their images from here, so they see the same rows, the same rejects and the same split.
 */

export interface LabelledImagesOptions {
  images: string;
  labels: string;
  /** Column names (default: auto-detected, see readLabels). */
  idColumn?: string | undefined;
  labelColumn?: string | undefined;
  /** Only the first N data rows. */
  limit?: number | undefined;
}

export interface LabelledImages extends Validation {
  labels: ReadLabelsResult;
  images: ImageIndex;
}

/** Read the labels and index the folder (in parallel), then join them (`validateInputs`). */
export async function readLabelledImages(opts: LabelledImagesOptions): Promise<LabelledImages> {
  const [labels, images] = await Promise.all([
    readLabels(opts.labels, { idColumn: opts.idColumn, labelColumn: opts.labelColumn, limit: opts.limit }),
    indexImages(opts.images),
  ]);
  return { ...validateInputs(labels, images), labels, images };
}

/** An item with its split, in storage order. */
export interface SplitItem extends InputItem {
  split: Split;
}

/**
 * The patient split of `items` (src/split.ts) and the order datasets store records in (sorted
 * ids; a Slurm task takes its slice of this order), so a dataset and the images source serve the
 * same records in the same order.
 */
export function splitAndOrder(items: readonly InputItem[], valFraction: number, seed: number): { items: SplitItem[]; splits: Map<string, Split> } {
  const splits = assignSplits(items, valFraction, seed);
  const ordered = items.map((it) => ({ ...it, split: splits.get(it.id) ?? 'train' as Split })).sort((a, b) => compareIds(a.id, b.id));
  return { items: ordered, splits };
}

/** A row ready to transform: its image exists and its label is valid. */
export interface InputItem {
  id: string;
  label: number;
  line: number;
  file: string;
}

export interface Validation {
  items: InputItem[];
  problems: RowProblem[];
}

const KIND_TEXT: Record<ProblemKind, string> = {
  'malformed': 'malformed rows',
  'empty': 'empty rows or ids',
  'bad-grade': 'grades outside 0-4',
  'duplicate': 'duplicate ids',
  'unsafe-id': 'ids that would escape the images folder',
  'missing-file': 'missing image files',
  'decode': 'images that failed to decode',
};

/** Rows shown per kind of problem in an error message. */
const SHOWN = 5;

/** Join the labels with the images folder: every row either becomes an item or a problem. */
export function validateInputs(labels: ReadLabelsResult, images: ImageIndex): Validation {
  const items: InputItem[] = [];
  const problems = [...labels.problems];
  // Duplicates are judged on the file an id resolves to, not on the id's text: `10_left` and
  // `10_left.jpeg` (or a symlink to another image) would store one image twice, maybe with two grades.
  const byFile = new Map<string, { id: string; line: number }>();
  for (const row of labels.rows) {
    const file = images.find(row.id);
    if (file === undefined) {
      problems.push({ kind: 'missing-file', id: row.id, line: row.line, reason: `no image file ${row.id}.jpeg/.jpg/.png/.tif/.tiff in ${images.dir}` });
      continue;
    }
    const real = images.realPath(file);
    const first = byFile.get(real);
    if (first) {
      problems.push({ kind: 'duplicate', id: row.id, line: row.line, reason: `the same image file as ${first.id} on line ${first.line} (${real})` });
      continue;
    }
    byFile.set(real, { id: row.id, line: row.line });
    items.push({ ...row, file });
  }
  problems.sort((a, b) => a.line - b.line);
  return { items, problems };
}

/**
 * Counts and the first CSV lines of each kind of problem, one kind per line, e.g.
 * `35116 missing image files: line 12 (13_left), line 13 (13_right), ... and 35111 more`.
 */
export function summarizeProblems(problems: readonly RowProblem[], imagesDir?: string): string {
  const byKind = new Map<ProblemKind, RowProblem[]>();
  for (const p of problems) {
    const list = byKind.get(p.kind) ?? [];
    list.push(p);
    byKind.set(p.kind, list);
  }
  const lines: string[] = [];
  for (const [kind, list] of byKind) {
    // A missing file's reason is the same every time: say it once, in the heading.
    const terse = kind === 'missing-file';
    const shown = list.slice(0, SHOWN).map((p) => `line ${p.line}${p.id ? ` (${p.id})` : ''}${terse ? '' : `: ${p.reason}`}`);
    const more = list.length > SHOWN ? `; and ${list.length - SHOWN} more` : '';
    const where = terse && imagesDir ? ` (no <id>.jpeg/.jpg/.png/.tif/.tiff in ${imagesDir})` : '';
    lines.push(`  ${list.length} ${KIND_TEXT[kind]}${where}: ${shown.join('; ')}${more}`);
  }
  return lines.join('\n');
}

/** The error that stops a run with invalid input (no `--skip-invalid`). */
export function invalidInputError(labelsFile: string, problems: readonly RowProblem[], usable: number, imagesDir?: string,
  hint = 'Fix the rows, or pass --skip-invalid to go on without them (they are listed in rejects.csv next to the dataset).'): RetinaError {
  const first = problems[0];
  return new RetinaError(
    'BAD_INPUT',
    `${problems.length} of the rows of ${labelsFile} cannot be used (${usable} can); nothing was written:\n${summarizeProblems(problems, imagesDir)}`,
    {
      location: { file: labelsFile, ...(first ? { line: first.line, id: first.id } : {}) },
      hint,
    },
  );
}
