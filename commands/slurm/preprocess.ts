import { Flags } from '@oclif/core';
import { RetinaCommand } from '../_base/retina-command.js';
import { oclifFlags } from '../_base/oclif-flags.js';
import { flagValues } from '../../src/cli/flag-spec.js';
import { PREPROCESS_FLAGS } from '../../src/cli/preprocess-flags.js';
import { defaultDatasetDir } from '../../src/defaults.js';
import { resourcesFromFlags, slurmResourceFlags } from '../_base/slurm-flags.js';
import { parseOnly, planArray } from '../../slurm/array-spec.js';
import { resolvePreprocessFlags } from '../../slurm/preprocess-spec.js';
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
    ...oclifFlags(PREPROCESS_FLAGS, { forSlurm: true }),
    throttle: Flags.integer({ min: 1, helpGroup: 'SLURM', summary: 'At most this many tasks at once (--array=...%K).' }),
    only: Flags.string({ helpGroup: 'SLURM', summary: 'Only these shards, e.g. 2,5 or 4-7 (the resubmit of failed ones).' }),
    'array-offset': Flags.integer({ min: 0, default: 0, helpGroup: 'SLURM', summary: 'Number array tasks from this (shard s is task s+offset), e.g. 1 for --array=1-N.' }),
    ...slurmResourceFlags,
  };

  public async run(): Promise<SlurmPreprocessResult> {
    const { flags } = await this.parse(SlurmPreprocess);
    const f = flagValues(PREPROCESS_FLAGS, flags);
    const preprocess = resolvePreprocessFlags({ ...f, out: f.out ?? defaultDatasetDir(f.format) });
    const plan = planArray({ tasks: flags.tasks, offset: flags['array-offset'], throttle: flags.throttle, only: flags.only === undefined ? undefined : parseOnly(flags.only, flags.tasks) });
    const resources = resourcesFromFlags(flags, flags['job-name'] ?? 'retina-preprocess');
    const indexResources = { ...resources, jobName: `${resources.jobName}-index`, cpusPerTask: 1, mem: '2G', gpus: undefined };
    this.onStop('stopping the wait; the jobs keep running'); // Ctrl-C stops the wait (ABORTED), not the jobs
    const result = await slurmPreprocess({
      spec: { plan, preprocess, resources, indexResources }, scriptFile: flags.script, submit: flags.submit, wait: flags.wait,
      logger: this.logger, waitOptions: { signal: this.signal, ...(flags['wait-timeout'] === undefined ? {} : { timeoutMs: flags['wait-timeout'] * 1000 }) },
    });
    if (this.jsonEnabled()) return result;
    if (result.arrayJobId !== null) this.log(`array job ${result.arrayJobId}\nindex job ${result.indexJobId}`);
    else if (result.scriptFile === null) this.log(`${result.script}\n# ---- index script (submit after the array) ----\n${result.indexScript}`);
    return result;
  }
}
