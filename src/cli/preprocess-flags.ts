import { DEFAULT_IMAGES, DEFAULT_LABELS } from '../defaults.js';
import { fraction, type FlagRecord } from './flag-spec.js';

/**
 * `retina preprocess` flags, declared once (see flag-spec.ts): `retina slurm preprocess` offers
 * the same flags with the same checks and passes them on to every array task, in this order.
 */
export const PREPROCESS_FLAGS = {
  format: { kind: 'string', required: true, summary: 'Storage format: raw, msgpack, lmdb, tfjs.' },
  images: { kind: 'string', path: 'directory', default: DEFAULT_IMAGES, summary: 'Folder of images named <id>.jpeg/.jpg/.png/.tif.' },
  labels: { kind: 'string', path: 'file', default: DEFAULT_LABELS, summary: 'Labels CSV with a header row (Kaggle image,level by default).' },
  out: { kind: 'string', path: 'directory', summary: 'Dataset folder to write. [default: ./retina-data/<format>]' },
  size: { kind: 'integer', default: 299, min: 8, max: 4096, summary: 'Side of the square output in pixels.' },
  dtype: { kind: 'string', options: ['uint8', 'float32', 'float16'], default: 'uint8', summary: 'Stored element type (floats hold pixel / 255).' },
  crop: { kind: 'string', options: ['auto', 'none'], default: 'auto', summary: 'auto: crop to the retina; none: whole image, letterboxed.' },
  normalize: { kind: 'string', options: ['none', 'ben-graham'], default: 'none', summary: 'Ben Graham local-contrast normalization.' },
  'val-fraction': { kind: 'number', parse: fraction, default: 0.1, summary: 'Share of patients in the validation split.' },
  seed: { kind: 'integer', default: 0, summary: 'Seed of the train/val split.' },
  limit: { kind: 'integer', min: 1, summary: 'Only the first N data rows of the labels file.' },
  'id-column': { kind: 'string', summary: 'Column of image ids. [default: image, id_code, id, image_id or filename]' },
  'label-column': { kind: 'string', summary: 'Column of grades 0-4. [default: level, diagnosis, label or grade]' },
  'skip-invalid': { kind: 'boolean', default: false, summary: 'Go on without invalid rows and undecodable images; list them in rejects.csv.' },
  force: { kind: 'boolean', default: false, summary: 'Redo the shard even when a complete one exists.' },
  'decode-budget': {
    kind: 'integer',
    min: 1,
    summary: 'Megapixels decoding at once over all decode slots (bounds decode memory). [default: max(64, 32 x decode slots)]',
  },
  'allow-empty': { kind: 'boolean', default: false, summary: 'Write an empty dataset when the labels file has no usable row (default: an error).' },
  'progress-interval': { kind: 'integer', default: 10, min: 1, summary: 'Seconds between progress lines when stderr is not a terminal.' },
  // Each array task takes these from Slurm.
  shard: { kind: 'string', slurm: 'skip', summary: "This task's shard, INDEX/COUNT. [default: from the Slurm array, else 0/1]" },
  threads: { kind: 'integer', min: 1, slurm: 'skip', summary: 'CPUs to use. [default: SLURM_CPUS_PER_TASK, cgroup limit, or CPU affinity]' },
  'array-task-id': { kind: 'integer', hidden: true, env: 'SLURM_ARRAY_TASK_ID', slurm: 'skip', summary: 'Slurm array task id.' },
  'array-task-min': { kind: 'integer', hidden: true, env: 'SLURM_ARRAY_TASK_MIN', slurm: 'skip', summary: 'Slurm array: first task id.' },
  'array-task-max': { kind: 'integer', hidden: true, env: 'SLURM_ARRAY_TASK_MAX', slurm: 'skip', summary: 'Slurm array: last task id.' },
  'array-task-step': { kind: 'integer', hidden: true, env: 'SLURM_ARRAY_TASK_STEP', slurm: 'skip', summary: 'Slurm array: task id step.' },
  'array-task-count': { kind: 'integer', hidden: true, env: 'SLURM_ARRAY_TASK_COUNT', slurm: 'skip', summary: 'Slurm array: number of tasks.' },
} as const satisfies FlagRecord;
