import { resolve } from 'node:path';
import { RetinaError } from '../core/errors.js';
import { DEFAULT_IMAGES, DEFAULT_LABELS, defaultDatasetDir } from '../defaults.js';
import type { TransformOptions } from '../transform.js';
import type { ModelName } from './models/model-registry.js';
import { NUM_CLASSES } from './models/model-registry.js';
import { openDatasetSource, openSource, type SampleSource } from './sources.js';

/** Where training data comes from: `--source` and its companions. */
export interface SourceOptions {
  /** A registered format name (the dataset's) or `images` (JPEGs decoded every epoch). */
  source: string;
  /** Dataset folder for a format source; default ./retina-data/<source>. */
  data?: string;
  /** Images folder for `images`; default ./train. */
  images?: string;
  /** Labels CSV for `images`; default ./trainLabels.csv. */
  labels?: string;
  /** Side of the square tensors `images` makes; default 299 (inception-v3) or 64 (small-cnn). */
  imageSize?: number;
  crop?: TransformOptions['crop'];
  normalize?: TransformOptions['normalize'];
  /** Patient-level validation share for `images` (as `retina preprocess --val-fraction`). */
  valFraction?: number;
  /** Split seed for `images` (as `retina preprocess --seed`, default 0). */
  splitSeed?: number;
  /** Labels columns for --source images (as retina preprocess --id-column/--label-column). */
  idColumn?: string | undefined;
  labelColumn?: string | undefined;
  /** `images`: only the first N data rows of the labels file (as `retina preprocess --limit`). */
  limit?: number;
  /** `images`: go on without invalid rows, listed in RUN_DIR/rejects.csv (as `retina preprocess --skip-invalid`). */
  skipInvalid?: boolean;
}

/** Open the source the options name, with the defaults documented on SourceOptions. */
export async function openTrainingSource(opts: SourceOptions, model: ModelName): Promise<SampleSource> {
  if (opts.source !== 'images' && (opts.limit !== undefined || opts.skipInvalid)) {
    throw new RetinaError('BAD_ARGUMENT', `${opts.limit !== undefined ? '--limit' : '--skip-invalid'} applies to --source images; a dataset's rows were chosen when it was preprocessed`, {
      hint: 'Drop the flag, or pass it to retina preprocess (then train from the dataset).',
    });
  }
    if (opts.source !== 'images') return openDatasetSource(opts.data ?? defaultDatasetDir(opts.source), opts.source);
  const size = opts.imageSize ?? (model === 'inception-v3' ? 299 : 64);
  if (!Number.isInteger(size) || size < 16 || size > 4096) throw new RetinaError('BAD_ARGUMENT', `Expected an integer in [16, 4096] for --image-size but received ${size}`);
  return openSource({
    kind: 'images',
    images: resolve(opts.images ?? DEFAULT_IMAGES),
    labels: resolve(opts.labels ?? DEFAULT_LABELS),
    transform: { size, crop: opts.crop ?? 'auto', normalize: opts.normalize ?? 'none', dtype: 'uint8' },
    valFraction: opts.valFraction ?? 0.1,
    splitSeed: opts.splitSeed ?? 0,
    idColumn: opts.idColumn,
    labelColumn: opts.labelColumn,
    ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
    ...(opts.skipInvalid ? { skipInvalid: true } : {}),
  });
}

/**
 * Check what the model needs of the data: HWC tensors with 3 channels in a known dtype, labels
 * within the head's classes, and records in both splits. Returns the split indices.
 */
export function checkRecords(source: SampleSource): { trainIdx: number[]; valIdx: number[] } {
  const { shape, dtype } = source.spec;
  const where = source.descriptor.kind === 'dataset' ? source.descriptor.dir : source.descriptor.images;
  if (shape.length !== 3 || shape[2] !== 3) {
    throw new RetinaError('BAD_INPUT', `Expected HxWx3 image tensors but ${where} holds shape ${JSON.stringify(shape)}`, { location: { file: where } });
  }
  if (!['uint8', 'float16', 'float32'].includes(dtype)) {
    throw new RetinaError('BAD_INPUT', `Expected uint8, float16 or float32 tensors but ${where} holds ${dtype}`, { location: { file: where } });
  }
  for (let i = 0; i < source.count; i++) {
    const m = source.meta(i);
    if (!Number.isInteger(m.label) || m.label < 0 || m.label >= NUM_CLASSES) {
      throw new RetinaError('BAD_INPUT', `Record ${i} (${m.id}) of ${where} has label ${m.label}; the head predicts grades 0-${NUM_CLASSES - 1}`, {
        location: { file: where, record: i, id: m.id }, hint: 'Fix the labels and preprocess again.',
      });
    }
  }
  const trainIdx = source.indicesOf('train'), valIdx = source.indicesOf('val');
  for (const [name, idx] of [['train', trainIdx], ['val', valIdx]] as const) {
    if (idx.length === 0) {
      // A dataset's split was fixed when it was preprocessed: train --val-fraction cannot change it.
      const hint = source.descriptor.kind === 'dataset'
        ? `The split is written at preprocessing: run retina preprocess again with --val-fraction ${name === 'val' ? '0.1 (any value above 0 gives 1+ patients when there are 2+)' : 'smaller'} and --force (same --format and --out), or train with --source images --val-fraction.`
        : `Pass ${name === 'val' ? '--val-fraction 0.1 (any value above 0 gives 1+ patients when there are 2+)' : 'a smaller --val-fraction'}, or use more images (both eyes of a patient stay in one split).`;
      throw new RetinaError('BAD_INPUT', `The ${name} split of ${where} is empty (${source.count} records in all)`, { location: { file: where }, hint });
    }
  }
  return { trainIdx, valIdx };
}
