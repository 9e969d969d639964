import { readFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RetinaError } from '../src/core/errors.js';
import { writeFileAtomic } from '../src/core/atomic-write.js';

/** File in the dataset folder recording how `retina slurm preprocess` made it. */
export const JOB_RECORD = 'slurm-job.json';

/** One `--submit`. */
export interface Submission {
  arrayJobId: string;
  /** Empty when the index job could not be submitted. */
  indexJobId: string;
  shards: number[];
  submittedAt: string;
}

/**
 * Contents of `DATASET/slurm-job.json`: the `retina slurm preprocess` flags that render this
 * dataset's array job (absolute paths, no --only/--submit), so that `retina index` can print the
 * exact command that resubmits only the missing shards, plus every submission so far.
 */
export interface JobRecord {
  kind: 'retina-slurm-job';
  version: 1;
  dataset: string;
  tasks: number;
  offset: number;
  argv: string[];
  submissions: Submission[];
}

/** Validate parsed JSON as a JobRecord; undefined when it is not one. */
export function asJobRecord(value: unknown): JobRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const ints = (x: unknown) => Number.isInteger(x) && (x as number) >= 0;
  if (v.kind !== 'retina-slurm-job' || v.version !== 1 || typeof v.dataset !== 'string' || !ints(v.tasks) || !ints(v.offset)) return undefined;
  if (!Array.isArray(v.argv) || !v.argv.every((a) => typeof a === 'string')) return undefined;
  if (!Array.isArray(v.submissions)) return undefined;
  const subs: Submission[] = [];
  for (const s of v.submissions as unknown[]) {
    if (typeof s !== 'object' || s === null) return undefined;
    const o = s as Record<string, unknown>;
    if (typeof o.arrayJobId !== 'string' || typeof o.indexJobId !== 'string' || typeof o.submittedAt !== 'string') return undefined;
    if (!Array.isArray(o.shards) || !o.shards.every(ints)) return undefined;
    subs.push({ arrayJobId: o.arrayJobId, indexJobId: o.indexJobId, shards: o.shards as number[], submittedAt: o.submittedAt });
  }
  return { kind: 'retina-slurm-job', version: 1, dataset: v.dataset, tasks: v.tasks as number, offset: v.offset as number, argv: v.argv as string[], submissions: subs };
}

/** Read `DATASET/slurm-job.json`; undefined when absent. A present but invalid file is CORRUPT. */
export async function readJobRecord(dataset: string): Promise<JobRecord | undefined> {
  const file = join(dataset, JOB_RECORD);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new RetinaError('CORRUPT', `${file} is not JSON`, { location: { file }, hint: 'Delete it; it only feeds the resubmit hint.', cause: err });
  }
  const record = asJobRecord(parsed);
  if (!record) throw new RetinaError('CORRUPT', `${file} is not a retina Slurm job record`, { location: { file }, hint: 'Delete it; it only feeds the resubmit hint.' });
  return record;
}

/**
 * Record a submission: keep earlier submissions when the base flags are the same (a resubmission
 * of some shards), start afresh otherwise. Written to a temporary name and renamed into place.
 */
export async function recordSubmission(base: Omit<JobRecord, 'kind' | 'version' | 'submissions'>, submission: Submission): Promise<string> {
  const previous = await readJobRecord(base.dataset).catch(() => undefined);
  const same = previous !== undefined && previous.tasks === base.tasks && previous.offset === base.offset
    && JSON.stringify(previous.argv) === JSON.stringify(base.argv);
  const record: JobRecord = { kind: 'retina-slurm-job', version: 1, ...base, submissions: [...(same ? previous.submissions : []), submission] };
  await mkdir(base.dataset, { recursive: true });
  const file = join(base.dataset, JOB_RECORD);
  await writeFileAtomic(file, JSON.stringify(record, null, 2) + '\n');
  return file;
}
