import { Flags } from '@oclif/core';
import { RetinaCommand } from '../_base/retina-command.js';
import { stopOnSignals } from '../../slurm/stop-signal.js';
import { badArgument } from '../../src/core/errors.js';
import { resourcesFromFlags, slurmResourceFlags } from '../_base/slurm-flags.js';
import { parseOnly, planArray } from '../../slurm/array-spec.js';
import { defaultDatasetDir, resolvePreprocessFlags } from '../../slurm/preprocess-spec.js';
import { slurmPreprocess, type SlurmPreprocessResult } from '../../slurm/preprocess-job.js';

export default class SlurmPreprocess extends RetinaCommand<SlurmPreprocessResult> {
  static override summary = 'Run retina preprocess as a Slurm array job (one task per shard), then retina index.';
  static override description = 'Without --submit, prints the two sbatch scripts (or writes them with --script) for you to read or edit. '
    + 'With --submit, submits the array and an index job that runs after it (afterok), records the flags in DATASET/slurm-job.json, and prints both job ids.';
  static override examples = [
    '<%= config.bin %> slurm preprocess --tasks 16 --format lmdb --cpus-per-task 8 --mem 8G --time 00:30:00 --partition cpu',
    '<%= config.bin %> slurm preprocess --tasks 16 --format lmdb --submit --wait',
    '<%= config.bin %> slurm preprocess --tasks 16 --format lmdb --only 2,5 --submit',
  ];

  static override flags = {
    tasks: Flags.integer({ min: 1, required: true, summary: 'Array tasks = shards of the dataset.' }),
    format: Flags.string({ required: true, summary: 'Storage format (raw, msgpack, lmdb, tfjs).' }),
    images: Flags.string({ default: './train', summary: 'Folder of images (retina preprocess --images).' }),
    labels: Flags.string({ default: './trainLabels.csv', summary: 'Labels CSV (retina preprocess --labels).' }),
    out: Flags.string({ summary: 'Dataset folder; default ./retina-data/<format>. Logs go to OUT/logs.' }),
    size: Flags.integer({ min: 1, summary: 'retina preprocess --size.' }),
    dtype: Flags.option({ options: ['uint8', 'float16', 'float32'] as const, summary: 'retina preprocess --dtype.' })(),
    crop: Flags.option({ options: ['auto', 'none'] as const, summary: 'retina preprocess --crop.' })(),
    normalize: Flags.option({ options: ['none', 'ben-graham'] as const, summary: 'retina preprocess --normalize.' })(),
    'val-fraction': Flags.string({ summary: 'retina preprocess --val-fraction.' }),
    seed: Flags.integer({ summary: 'retina preprocess --seed.' }),
    limit: Flags.integer({ min: 1, summary: 'retina preprocess --limit.' }),
    'id-column': Flags.string({ summary: 'retina preprocess --id-column.' }),
    'label-column': Flags.string({ summary: 'retina preprocess --label-column.' }),
    'skip-invalid': Flags.boolean({ summary: 'retina preprocess --skip-invalid.' }),
    force: Flags.boolean({ summary: 'retina preprocess --force.' }),
    throttle: Flags.integer({ min: 1, helpGroup: 'SLURM', summary: 'At most this many tasks at once (--array=...%K).' }),
    only: Flags.string({ helpGroup: 'SLURM', summary: 'Only these shards, e.g. 2,5 or 4-7 (the resubmit of failed ones).' }),
    'array-offset': Flags.integer({ min: 0, default: 0, helpGroup: 'SLURM', summary: 'Number array tasks from this (shard s is task s+offset), e.g. 1 for --array=1-N.' }),
    ...slurmResourceFlags,
  };

  public async run(): Promise<SlurmPreprocessResult> {
    const { flags } = await this.parse(SlurmPreprocess);
    const valFraction = flags['val-fraction'] === undefined ? undefined : Number(flags['val-fraction']);
    if (valFraction !== undefined && !(valFraction >= 0 && valFraction < 1)) throw badArgument('--val-fraction', 'a number in [0, 1)', flags['val-fraction']);
    const preprocess = resolvePreprocessFlags({
      format: flags.format, images: flags.images, labels: flags.labels, out: flags.out ?? defaultDatasetDir(flags.format),
      size: flags.size, dtype: flags.dtype, crop: flags.crop, normalize: flags.normalize, valFraction, seed: flags.seed,
      limit: flags.limit, idColumn: flags['id-column'], labelColumn: flags['label-column'], skipInvalid: flags['skip-invalid'], force: flags.force,
    });
    const plan = planArray({ tasks: flags.tasks, offset: flags['array-offset'], throttle: flags.throttle, only: flags.only === undefined ? undefined : parseOnly(flags.only, flags.tasks) });
    const resources = resourcesFromFlags(flags, flags['job-name'] ?? 'retina-preprocess');
    const indexResources = { ...resources, jobName: `${resources.jobName}-index`, cpusPerTask: 1, mem: '2G', gpus: undefined };
    const stop = stopOnSignals(); // Ctrl-C stops the wait (ABORTED), not the jobs
    const result = await slurmPreprocess({
      spec: { plan, preprocess, resources, indexResources }, scriptFile: flags.script, submit: flags.submit, wait: flags.wait,
      logger: this.logger, waitOptions: { signal: stop.signal, ...(flags['wait-timeout'] === undefined ? {} : { timeoutMs: flags['wait-timeout'] * 1000 }) },
    }).finally(stop.dispose);
    if (this.jsonEnabled()) return result;
    if (result.arrayJobId !== null) this.log(`array job ${result.arrayJobId}\nindex job ${result.indexJobId}`);
    else if (result.scriptFile === null) this.log(`${result.script}\n# ---- index script (submit after the array) ----\n${result.indexScript}`);
    return result;
  }
}
