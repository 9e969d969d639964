import { RetinaCommand } from './_base/retina-command.js';
import { oclifFlags } from './_base/oclif-flags.js';
import type { PreprocessResult } from '../src/preprocess/run.js';
import { parseShard, shardFromSlurm } from '../src/shard-assign.js';
import { flagValues } from '../src/cli/flag-spec.js';
import { PREPROCESS_FLAGS } from '../src/cli/preprocess-flags.js';
import { defaultDatasetDir } from '../src/defaults.js';

export default class Preprocess extends RetinaCommand<PreprocessResult> {
  static override summary = 'Turn labelled fundus images (Kaggle layout) into a sharded tensor dataset.';
  static override description = 'Validates every row first, crops each image to the retina, resizes it into a square, optionally applies Ben Graham normalization, splits by patient, and writes this task\'s shard crash-safely. In a Slurm array job the shard comes from SLURM_ARRAY_TASK_ID/MIN/COUNT and the CPUs from SLURM_CPUS_PER_TASK.';
  static override examples = [
    '<%= config.bin %> preprocess --format lmdb',
    '<%= config.bin %> preprocess --images ./train --labels ./trainLabels.csv --out ./data --format raw --size 512 --normalize ben-graham',
    '<%= config.bin %> preprocess --format raw --labels train.csv --images train_images --id-column id_code --label-column diagnosis',
    '<%= config.bin %> preprocess --format lmdb --shard 3/8 --threads 4',
  ];

  static override flags = oclifFlags(PREPROCESS_FLAGS);

  public async run(): Promise<PreprocessResult> {
    const { flags } = await this.parse(Preprocess);
    const f = flagValues(PREPROCESS_FLAGS, flags);
    const shard = f.shard !== undefined ? parseShard(f.shard)
      : shardFromSlurm(slurmEnv({ ID: f.arrayTaskId, MIN: f.arrayTaskMin, MAX: f.arrayTaskMax, STEP: f.arrayTaskStep, COUNT: f.arrayTaskCount })) ?? { index: 0, count: 1 };
    this.onStop('stopping after the images in flight; the partial shard is removed');
    const { preprocess } = await import('../src/preprocess/run.js');
    const result = await preprocess({
      images: f.images, labels: f.labels, out: f.out ?? defaultDatasetDir(f.format), format: f.format,
      transform: { size: f.size, dtype: f.dtype, crop: f.crop, normalize: f.normalize },
      valFraction: f.valFraction, seed: f.seed, shard, threads: f.threads, limit: f.limit,
      skipInvalid: f.skipInvalid, force: f.force, allowEmpty: f.allowEmpty, decodeBudgetMP: f.decodeBudget, idColumn: f.idColumn, labelColumn: f.labelColumn,
      logger: this.logger, progress: this.progress, progressIntervalS: f.progressInterval, signal: this.signal,
    });
    this.logger.info(`${result.skipped ? 'kept' : 'wrote'} shard ${result.shard} of ${result.dataset}: ${result.records} records`
      + `${result.skipped ? '' : `, ${result.imagesPerSecond} images/s`}${result.rejected ? `, ${result.rejected} rejected (${result.rejectsFile})` : ''}`);
    return result;
  }
}

/** The array variables as `shardFromSlurm` reads them (oclif has already read them through `env:`). */
function slurmEnv(vars: Record<string, number | undefined>): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(vars).filter(([, v]) => v !== undefined).map(([k, v]) => [`SLURM_ARRAY_TASK_${k}`, String(v)]));
}
