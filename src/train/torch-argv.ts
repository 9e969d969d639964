import { RetinaError } from '../core/errors.js';

/**
 * The options of the PyTorch engine (`python -m retina_data.train`, python/retina_data/train.py),
 * as `retina train --engine torch` and `retina slurm train --engine torch` pass them on. Paths are
 * passed as given (the callers make them absolute where the process starts elsewhere).
 */
export interface TorchTrainFlags {
  source: string;
  data?: string | undefined;
  images?: string | undefined;
  labels?: string | undefined;
  model?: string | undefined;
  weights?: string | undefined;
  fineTune?: boolean | undefined;
  epochs?: number | undefined;
  batchSize?: number | undefined;
  microBatch?: number | undefined;
  lr?: number | string | undefined;
  seed?: number | undefined;
  out?: string | undefined;
  force?: boolean | undefined;
  threads?: number | undefined;
  workers?: number | undefined;
  device?: string | undefined;
  imageSize?: number | undefined;
  valFraction?: number | string | undefined;
}

const ORDER: ReadonlyArray<readonly [keyof TorchTrainFlags, string]> = [
  ['source', 'source'], ['data', 'data'], ['images', 'images'], ['labels', 'labels'], ['model', 'model'], ['weights', 'weights'],
  ['fineTune', 'fine-tune'], ['epochs', 'epochs'], ['batchSize', 'batch-size'], ['microBatch', 'micro-batch'], ['lr', 'lr'],
  ['seed', 'seed'], ['out', 'out'], ['force', 'force'], ['threads', 'threads'], ['workers', 'workers'], ['device', 'device'],
  ['imageSize', 'image-size'], ['valFraction', 'val-fraction'],
];

/** argv for `python -m retina_data.train` (after the module name). */
export function torchTrainArgv(t: TorchTrainFlags): string[] {
  const argv: string[] = [];
  for (const [key, flag] of ORDER) {
    const v = t[key];
    if (v === undefined || v === false) continue;
    if (v === true) argv.push(`--${flag}`);
    else argv.push(`--${flag}`, String(v));
  }
  return argv;
}

/** The tfjs-only `retina train` flags, refused with --engine torch rather than silently ignored. */
export function refuseTfjsOnly(given: Record<string, unknown>): void {
  const hints: Record<string, string> = {
    backend: 'the torch engine picks its device with --device (auto, cpu, cuda)',
    'cache-features': 'the torch engine runs the frozen backbone every step (no feature cache)',
    'cache-dir': 'the torch engine keeps no feature cache',
    crop: 'the torch engine decodes --source images the seed\'s way (Resize + CenterCrop)',
    normalize: 'the torch engine decodes --source images the seed\'s way (Resize + CenterCrop)',
    'split-seed': 'the torch engine splits --source images by patient with --seed',
  };
  for (const [flag, v] of Object.entries(given)) {
    if (v !== undefined && hints[flag]) {
      throw new RetinaError('BAD_ARGUMENT', `--${flag} applies to the tfjs engine only (${hints[flag]})`, { hint: `Drop --${flag}, or use --engine tfjs.` });
    }
  }
}
