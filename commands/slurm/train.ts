import { resolve } from 'node:path';
import { Flags } from '@oclif/core';
import { RetinaCommand } from '../_base/retina-command.js';
import { stopOnSignals } from '../../slurm/stop-signal.js';
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
    source: Flags.string({ required: true, summary: 'retina train --source: a format name or images.' }),
    data: Flags.string({ summary: 'retina train --data.' }),
    images: Flags.string({ summary: 'retina train --images.' }),
    labels: Flags.string({ summary: 'retina train --labels.' }),
    model: Flags.string({ summary: 'retina train --model (inception-v3, small-cnn).' }),
    weights: Flags.string({ summary: 'retina train --weights.' }),
    'fine-tune': Flags.boolean({ summary: 'retina train --fine-tune.' }),
    epochs: Flags.integer({ min: 1, summary: 'retina train --epochs.' }),
    'batch-size': Flags.integer({ min: 1, summary: 'retina train --batch-size.' }),
    lr: Flags.string({ summary: 'retina train --lr.' }),
    seed: Flags.integer({ summary: 'retina train --seed.' }),
    backend: Flags.string({ summary: 'retina train --backend.' }),
    out: Flags.string({ summary: 'retina train --out (the run folder).' }),
    force: Flags.boolean({ summary: 'retina train --force.' }),
    'cache-features': Flags.boolean({ allowNo: true, summary: 'retina train --cache-features / --no-cache-features.' }),
    'cache-dir': Flags.string({ summary: 'retina train --cache-dir.' }),
    'micro-batch': Flags.integer({ min: 1, summary: 'retina train --micro-batch.' }),
    threads: Flags.integer({ min: 1, summary: 'retina train --threads [default: the job\'s CPUs].' }),
    'image-size': Flags.integer({ min: 16, summary: 'retina train --image-size.' }),
    crop: Flags.option({ options: ['auto', 'none'] as const, summary: 'retina train --crop.' })(),
    normalize: Flags.option({ options: ['none', 'ben-graham'] as const, summary: 'retina train --normalize.' })(),
    'val-fraction': Flags.string({ summary: 'retina train --val-fraction.' }),
    'split-seed': Flags.integer({ summary: 'retina train --split-seed.' }),
    gpus: Flags.integer({ min: 0, helpGroup: 'SLURM', summary: 'GPUs per node (#SBATCH --gres=gpu:G).' }),
    'log-dir': Flags.string({ helpGroup: 'SLURM', summary: 'Folder for the job log; default DATASET/logs (or ./logs for --source images).' }),
    ...slurmResourceFlags,
  };

  public async run(): Promise<SlurmTrainResult> {
    const { flags } = await this.parse(SlurmTrain);
    const train = resolveTrainFlags({
      source: flags.source, data: flags.data, images: flags.images, labels: flags.labels, model: flags.model, weights: flags.weights,
      fineTune: flags['fine-tune'], epochs: flags.epochs, batchSize: flags['batch-size'], lr: flags.lr, seed: flags.seed,
      backend: flags.backend, out: flags.out, force: flags.force, cacheFeatures: flags['cache-features'], cacheDir: flags['cache-dir'],
      microBatch: flags['micro-batch'], threads: flags.threads, imageSize: flags['image-size'], crop: flags.crop, normalize: flags.normalize,
      valFraction: flags['val-fraction'], splitSeed: flags['split-seed'],
    });
    const logDir = flags['log-dir'] === undefined ? defaultTrainLogDir(train) : resolve(flags['log-dir']);
    const resources = resourcesFromFlags(flags, flags['job-name'] ?? 'retina-train', flags.gpus);
    const stop = stopOnSignals(); // Ctrl-C stops the wait (ABORTED), not the jobs
    const result = await slurmTrain({
      spec: { train, resources, logDir }, scriptFile: flags.script, submit: flags.submit, wait: flags.wait, logger: this.logger,
      waitOptions: { signal: stop.signal, ...(flags['wait-timeout'] === undefined ? {} : { timeoutMs: flags['wait-timeout'] * 1000 }) },
    }).finally(stop.dispose);
    if (this.jsonEnabled()) return result;
    if (result.jobId !== null) this.log(`train job ${result.jobId}`);
    else if (result.scriptFile === null) this.log(result.script);
    return result;
  }
}
