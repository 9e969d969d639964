import { resolve } from 'node:path';
import { Flags } from '@oclif/core';
import { RetinaCommand } from '../_base/retina-command.js';
import { oclifFlags } from '../_base/oclif-flags.js';
import { flagValues } from '../../src/cli/flag-spec.js';
import { TRAIN_FLAGS } from '../../src/cli/train-flags.js';
import { resourcesFromFlags, slurmResourceFlags } from '../_base/slurm-flags.js';
import { defaultTrainLogDir, resolveTrainFlags } from '../../slurm/render-train.js';
import { slurmTrain, type SlurmTrainResult } from '../../slurm/train-job.js';

export default class SlurmTrain extends RetinaCommand<SlurmTrainResult> {
  static override summary = 'Run retina train as a Slurm job.';
  static override description = 'Without --submit, prints the sbatch script (or writes it with --script). The train flags are passed on to retina train unchanged.';
  static override examples = [
    '<%= config.bin %> slurm train --source lmdb --epochs 15 --cpus-per-task 16 --mem 32G --time 04:00:00',
    '<%= config.bin %> slurm train --source lmdb --gpus 1 --partition gpu --submit --wait',
  ];

  static override flags = {
    ...oclifFlags(TRAIN_FLAGS, { forSlurm: true }),
    gpus: Flags.integer({ min: 0, helpGroup: 'SLURM', summary: 'GPUs per node (#SBATCH --gres=gpu:G).' }),
    'log-dir': Flags.string({ helpGroup: 'SLURM', summary: 'Folder for the job log; default DATASET/logs (or ./logs for --source images).' }),
    ...slurmResourceFlags,
  };

  public async run(): Promise<SlurmTrainResult> {
    const { flags } = await this.parse(SlurmTrain);
    const train = resolveTrainFlags(flagValues(TRAIN_FLAGS, flags));
    const logDir = flags['log-dir'] === undefined ? defaultTrainLogDir(train) : resolve(flags['log-dir']);
    const resources = resourcesFromFlags(flags, flags['job-name'] ?? 'retina-train', flags.gpus);
    this.onStop('stopping the wait; the job keeps running'); // Ctrl-C stops the wait (ABORTED), not the job
    const result = await slurmTrain({
      spec: { train, resources, logDir }, scriptFile: flags.script, submit: flags.submit, wait: flags.wait, logger: this.logger,
      waitOptions: { signal: this.signal, ...(flags['wait-timeout'] === undefined ? {} : { timeoutMs: flags['wait-timeout'] * 1000 }) },
    });
    if (this.jsonEnabled()) return result;
    if (result.jobId !== null) this.log(`train job ${result.jobId}`);
    else if (result.scriptFile === null) this.log(result.script);
    return result;
  }
}
