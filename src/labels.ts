import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import { RetinaError, messageOf } from './core/errors.js';

/** One usable row of a labels CSV. `line` is the 1-based line of the CSV where the row starts. */
export interface LabelRow {
  id: string;
  label: number;
  line: number;
}

/** Every way a row (or, later, its image) can be unusable. */
export type ProblemKind =
  | 'malformed'
  | 'empty'
  | 'bad-grade'
  | 'duplicate'
  | 'unsafe-id'
  | 'missing-file'
  | 'decode';

/** A row that cannot be used, with where it is and why. */
export interface RowProblem {
  kind: ProblemKind;
  id: string;
  line: number;
  reason: string;
}

export interface LabelColumns {
  id: string;
  label: string;
}

export interface ReadLabelsResult {
  rows: LabelRow[];
  problems: RowProblem[];
  columns: LabelColumns;
  /** Data rows seen (header excluded, empty rows included). */
  total: number;
}

/** Column names tried, in order, when `--id-column` / `--label-column` are not given. */
export const ID_COLUMNS = ['image', 'id_code', 'id', 'image_id', 'filename'] as const;
export const LABEL_COLUMNS = ['level', 'diagnosis', 'label', 'grade'] as const;

/** The highest diabetic-retinopathy grade (0 none ... 4 proliferative). */
export const MAX_GRADE = 4;

/**
 * Stream a labels CSV with a header row and return its usable rows and its problems, each with
 * its CSV line number. Understands Kaggle's `trainLabels.csv` (`image,level`), the resized
 * variant `trainLabels_cropped.csv` (two unnamed index columns before `image,level`), APTOS
 * (`id_code,diagnosis`) and any other layout through explicit column names. Duplicate ids are
 * reported on every occurrence: which label is right cannot be known. `limit` reads only the
 * first N data rows.
 *
 * @throws RetinaError NOT_FOUND when the file is missing, BAD_INPUT when it is not CSV at all or
 *   the columns are not there, BAD_ARGUMENT when a named column does not exist.
 */
export async function readLabels(file: string, opts: { idColumn?: string; labelColumn?: string; limit?: number } = {}): Promise<ReadLabelsResult> {
  const source = createReadStream(file);
  const parser = source.pipe(
    parse({ info: true, relax_column_count: true, skip_empty_lines: false, trim: true, bom: true }),
  );
  // pipe() does not forward a read error (a missing file): hand it to the parser's iterator.
  source.on('error', (err) => parser.destroy(err));
  const rows: LabelRow[] = [];
  const problems: RowProblem[] = [];
  const firstLine = new Map<string, number>();
  const duplicated = new Set<string>();
  let columns: LabelColumns | undefined;
  let idAt = -1, labelAt = -1, width = 0, total = 0;
  try {
    for await (const item of parser as AsyncIterable<unknown>) {
      const { record, line } = asRecord(item);
      if (!columns) {
        ({ columns, idAt, labelAt } = resolveColumns(record, file, opts));
        width = record.length;
        continue;
      }
      // --limit: the first N data rows of the file, so a trial run sees a predictable subset.
      if (opts.limit !== undefined && total >= opts.limit) break;
      total++;
      if (record.every((cell) => cell === '')) {
        problems.push({ kind: 'empty', id: '', line, reason: 'empty row' });
        continue;
      }
      if (record.length !== width) {
        problems.push({ kind: 'malformed', id: record[idAt] ?? '', line, reason: `expected ${width} columns, found ${record.length}` });
        continue;
      }
      const id = record[idAt] ?? '';
      const gradeText = record[labelAt] ?? '';
      if (id === '') {
        problems.push({ kind: 'empty', id, line, reason: `empty ${columns.id}` });
        continue;
      }
      if (!isSafeId(id)) {
        problems.push({ kind: 'unsafe-id', id, line, reason: 'id is not a plain file name (path separators or "..")' });
        continue;
      }
      if (!/^\d+$/.test(gradeText) || Number(gradeText) > MAX_GRADE) {
        const reason = gradeText === '' ? `empty ${columns.label}` : `grade ${JSON.stringify(gradeText)} is not an integer 0-${MAX_GRADE}`;
        problems.push({ kind: 'bad-grade', id, line, reason });
        continue;
      }
      const seen = firstLine.get(id);
      if (seen !== undefined) {
        duplicated.add(id);
        problems.push({ kind: 'duplicate', id, line, reason: `duplicate id, first on line ${seen}` });
        continue;
      }
      firstLine.set(id, line);
      rows.push({ id, label: Number(gradeText), line });
    }
  } catch (err) {
    if (err instanceof RetinaError) throw err;
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOENT') {
      throw new RetinaError('NOT_FOUND', `Labels file ${file} does not exist`, {
        location: { file }, hint: 'Pass --labels CSV, or run in the folder holding trainLabels.csv.', cause: err,
      });
    }
    const line = (err as { lines?: unknown }).lines;
    throw new RetinaError('BAD_INPUT', `Cannot parse ${file} as CSV: ${messageOf(err)}`, {
      location: { file, ...(typeof line === 'number' ? { line } : {}) }, cause: err,
    });
  } finally {
    source.destroy();
  }
  if (!columns) throw new RetinaError('BAD_INPUT', `Labels file ${file} is empty: expected a header row such as "image,level"`, { location: { file } });
  // The first occurrence of a duplicated id is as doubtful as the later ones.
  const kept: LabelRow[] = [];
  for (const row of rows) {
    if (duplicated.has(row.id)) problems.push({ kind: 'duplicate', id: row.id, line: row.line, reason: 'duplicate id, repeated later' });
    else kept.push(row);
  }
  problems.sort((a, b) => a.line - b.line);
  return { rows: kept, problems, columns, total };
}

/** An id usable as a file name inside the images folder: no separators, not "." or "..", no NUL. */
export function isSafeId(id: string): boolean {
  return id !== '.' && id !== '..' && !/[/\\\0]/.test(id);
}

function asRecord(item: unknown): { record: string[]; line: number } {
  const o = item as { record?: unknown; info?: { lines?: unknown } };
  if (!Array.isArray(o.record) || typeof o.info?.lines !== 'number') throw new Error('csv-parse returned an unexpected shape');
  return { record: o.record.map(String), line: o.info.lines };
}

function resolveColumns(header: string[], file: string, opts: { idColumn?: string; labelColumn?: string }) {
  const pick = (flag: string, given: string | undefined, candidates: readonly string[]): [string, number] => {
    if (given !== undefined) {
      const at = header.indexOf(given);
      if (at < 0) {
        throw new RetinaError('BAD_ARGUMENT', `Expected a column "${given}" (${flag}) in ${file} but its header is ${JSON.stringify(header.join(','))}`, {
          location: { file, line: 1 }, hint: `Pass ${flag} with one of: ${header.filter(Boolean).join(', ')}`,
        });
      }
      return [given, at];
    }
    for (const name of candidates) {
      const at = header.indexOf(name);
      if (at >= 0) return [name, at];
    }
    throw new RetinaError('BAD_INPUT', `Expected one of the columns ${candidates.join(', ')} in ${file} but its header is ${JSON.stringify(header.join(','))}`, {
      location: { file, line: 1 }, hint: `Name the column with ${flag}.`,
    });
  };
  const [id, idAt] = pick('--id-column', opts.idColumn, ID_COLUMNS);
  const [label, labelAt] = pick('--label-column', opts.labelColumn, LABEL_COLUMNS);
  return { columns: { id, label }, idAt, labelAt };
}
