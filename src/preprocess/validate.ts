import { RetinaError } from '../core/errors.js';
import type { ProblemKind, ReadLabelsResult, RowProblem } from '../labels.js';
import type { ImageIndex } from './image-index.js';

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
export function invalidInputError(labelsFile: string, problems: readonly RowProblem[], usable: number, imagesDir?: string): RetinaError {
  const first = problems[0];
  return new RetinaError(
    'BAD_INPUT',
    `${problems.length} of the rows of ${labelsFile} cannot be used (${usable} can); nothing was written:\n${summarizeProblems(problems, imagesDir)}`,
    {
      location: { file: labelsFile, ...(first ? { line: first.line, id: first.id } : {}) },
      hint: 'Fix the rows, or pass --skip-invalid to go on without them (they are listed in rejects.csv next to the dataset).',
    },
  );
}
