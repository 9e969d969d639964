import { Flags } from '@oclif/core';
import { RetinaCommand } from './_base/retina-command.js';
import type { PreprocessResult } from '../src/preprocess/run.js';
import { parseShard, shardFromSlurm } from '../src/shard-assign.js';
import { badArgument } from '../src/core/errors.js';

export default class Preprocess extends RetinaCommand<PreprocessResult> {
  static override summary = 'Turn labelled fundus images (Kaggle layout) into a sharded tensor dataset.';
  static override description = 'Validates every row first, crops each image to the retina, resizes it into a square, optionally applies Ben Graham normalization, splits by patient, and writes this task\'s shard crash-safely. In a Slurm array job the shard comes from SLURM_ARRAY_TASK_ID/MIN/COUNT and the CPUs from SLURM_CPUS_PER_TASK.';
  static override examples = [
    '<%= config.bin %> preprocess --format lmdb',
    '<%= config.bin %> preprocess --images ./train --labels ./trainLabels.csv --out ./data --format raw --size 512 --normalize ben-graham',
    '<%= config.bin %> preprocess --format raw --labels train.csv --images train_images --id-column id_code --label-column diagnosis',
    '<%= config.bin %> preprocess --format lmdb --shard 3/8 --threads 4',
  ];

  static override flags = {
    images: Flags.directory({ default: './train', summary: 'Folder of images named <id>.jpeg/.jpg/.png/.tif.' }),
    labels: Flags.file({ default: './trainLabels.csv', summary: 'Labels CSV with a header row (Kaggle image,level by default).' }),
    out: Flags.directory({ summary: 'Dataset folder to write. [default: ./retina-data/<format>]' }),
    format: Flags.string({ required: true, summary: 'Storage format: raw, msgpack, lmdb, tfjs.' }),
    size: Flags.integer({ default: 299, min: 8, max: 4096, summary: 'Side of the square output in pixels.' }),
    dtype: Flags.option({ options: ['uint8', 'float32', 'float16'] as const, default: 'uint8' as const, summary: 'Stored element type (floats hold pixel / 255).' })(),
    crop: Flags.option({ options: ['auto', 'none'] as const, default: 'auto' as const, summary: 'auto: crop to the retina; none: whole image, letterboxed.' })(),
    normalize: Flags.option({ options: ['none', 'ben-graham'] as const, default: 'none' as const, summary: 'Ben Graham local-contrast normalization.' })(),
    'val-fraction': Flags.custom<number>({ default: 0.1, parse: async (s) => parseFraction(s), summary: 'Share of patients in the validation split.' })(),
    seed: Flags.integer({ default: 0, summary: 'Seed of the train/val split.' }),
    shard: Flags.string({ summary: 'This task\'s shard, INDEX/COUNT. [default: from the Slurm array, else 0/1]' }),
    threads: Flags.integer({ min: 1, summary: 'CPUs to use. [default: SLURM_CPUS_PER_TASK, cgroup limit, or CPU affinity]' }),
    limit: Flags.integer({ min: 1, summary: 'Only the first N data rows of the labels file.' }),
    'skip-invalid': Flags.boolean({ default: false, summary: 'Go on without invalid rows and undecodable images; list them in rejects.csv.' }),
    force: Flags.boolean({ default: false, summary: 'Redo the shard even when a complete one exists.' }),
    'decode-budget': Flags.integer({ min: 1, summary: 'Megapixels decoding at once over all decode slots (bounds decode memory). [default: max(64, 32 x decode slots)]' }),
    'allow-empty': Flags.boolean({ default: false, summary: 'Write an empty dataset when the labels file has no usable row (default: an error).' }),
    'id-column': Flags.string({ summary: 'Column of image ids. [default: image, id_code, id, image_id or filename]' }),
    'label-column': Flags.string({ summary: 'Column of grades 0-4. [default: level, diagnosis, label or grade]' }),
    'progress-interval': Flags.integer({ default: 10, min: 1, summary: 'Seconds between progress lines when stderr is not a terminal.' }),
    'array-task-id': Flags.integer({ hidden: true, env: 'SLURM_ARRAY_TASK_ID' }),
    'array-task-min': Flags.integer({ hidden: true, env: 'SLURM_ARRAY_TASK_MIN' }),
    'array-task-max': Flags.integer({ hidden: true, env: 'SLURM_ARRAY_TASK_MAX' }),
    'array-task-step': Flags.integer({ hidden: true, env: 'SLURM_ARRAY_TASK_STEP' }),
    'array-task-count': Flags.integer({ hidden: true, env: 'SLURM_ARRAY_TASK_COUNT' }),
  };

  public async run(): Promise<PreprocessResult> {
    const { flags } = await this.parse(Preprocess);
    const shard = flags.shard !== undefined ? parseShard(flags.shard)
      : shardFromSlurm(slurmEnv({ ID: flags['array-task-id'], MIN: flags['array-task-min'], MAX: flags['array-task-max'], STEP: flags['array-task-step'], COUNT: flags['array-task-count'] })) ?? { index: 0, count: 1 };
    const controller = new AbortController();
    const onSignal = (signal: NodeJS.Signals) => {
      this.logger.warn(`${signal}: stopping after the images in flight; the partial shard is removed`);
      controller.abort(signal);
      // The first signal stops the run cleanly; should cleanup itself hang, do not outlive it by much.
      setTimeout(() => { process.stderr.write(`${signal}: cleanup did not finish in 30 s; exiting\n`); process.exit(130); }, 30_000).unref();
    };
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
    try {
      const { preprocess } = await import('../src/preprocess/run.js');
      const result = await preprocess({
        images: flags.images, labels: flags.labels, out: flags.out ?? `./retina-data/${flags.format}`, format: flags.format,
        transform: { size: flags.size, dtype: flags.dtype, crop: flags.crop, normalize: flags.normalize },
        valFraction: flags['val-fraction'], seed: flags.seed, shard, threads: flags.threads, limit: flags.limit,
        skipInvalid: flags['skip-invalid'], force: flags.force, allowEmpty: flags['allow-empty'], decodeBudgetMP: flags['decode-budget'], idColumn: flags['id-column'], labelColumn: flags['label-column'],
        logger: this.logger, progress: this.logger.level === 'info' || this.logger.level === 'debug',
        progressIntervalS: flags['progress-interval'], signal: controller.signal,
      });
      this.logger.info(`${result.skipped ? 'kept' : 'wrote'} shard ${result.shard} of ${result.dataset}: ${result.records} records`
        + `${result.skipped ? '' : `, ${result.imagesPerSecond} images/s`}${result.rejected ? `, ${result.rejected} rejected (${result.rejectsFile})` : ''}`);
      return result;
    } finally {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    }
  }
}

function parseFraction(s: string): number {
  const v = Number(s);
  if (s.trim() === '' || !(v >= 0 && v < 1)) throw badArgument('--val-fraction', 'a number in [0, 1)', s);
  return v;
}

/** The array variables as `shardFromSlurm` reads them (oclif has already read them through `env:`). */
function slurmEnv(vars: Record<string, number | undefined>): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(vars).filter(([, v]) => v !== undefined).map(([k, v]) => [`SLURM_ARRAY_TASK_${k}`, String(v)]));
}
