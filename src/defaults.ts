import { join, resolve } from 'node:path';

/**
 * The default paths, in one place: the Kaggle layout in the current folder, datasets under
 * `./retina-data/<format>`, runs under `./runs/<time>-<model>-<source>`. Commands, their Slurm
 * twins and the library all ask here, so they cannot drift apart.
 */
export const DEFAULT_IMAGES = './train';
export const DEFAULT_LABELS = './trainLabels.csv';

/** `./retina-data/<format>`, absolute against `cwd`. */
export function defaultDatasetDir(format: string, cwd: string = process.cwd()): string {
  return resolve(cwd, 'retina-data', format);
}

/** `./runs/<UTC time>-<model>-<source>`, absolute against `cwd`. */
export function defaultRunDir(model: string, source: string, now: Date = new Date(), cwd: string = process.cwd()): string {
  return resolve(cwd, join('runs', `${now.toISOString().replace(/[:.]/g, '-')}-${model}-${source}`));
}
