import { resolve } from 'node:path';
import { Flags } from '@oclif/core';
import { RetinaCommand, type RetinaFlags } from '../_base/retina-command.js';
import { oclifFlags } from '../_base/oclif-flags.js';
import { RetinaError } from '../../src/core/errors.js';
import { flagValues, type PassedValues } from '../../src/cli/flag-spec.js';
import { TRAIN_FLAGS } from '../../src/cli/train-flags.js';
import { defaultRunDir } from '../../src/defaults.js';
import { resourcesFromFlags, slurmResourceFlags } from '../_base/slurm-flags.js';
import { defaultTrainLogDir, resolveTrainFlags } from '../../slurm/render-train.js';
import { slurmTrain, type SlurmTrainResult } from '../../slurm/train-job.js';
import type { SlurmTorchTrainResult } from '../../slurm/torch-train-job.js';

/** The Slurm-only flags (the train flags come from TRAIN_FLAGS, as `retina train` has them). */
const SLURM_TRAIN_FLAGS = {
  gpus: Flags.integer({ min: 0, helpGroup: 'SLURM', summary: 'GPUs per node (#SBATCH --gres=gpu:G).' }),
  'log-dir': Flags.string({ helpGroup: 'SLURM', summary: 'Folder for the job log; default DATASET/logs (or ./logs for --source images).' }),
  ...slurmResourceFlags,
  nodes: Flags.integer({ min: 1, default: 1, helpGroup: 'ENGINE', summary: 'Nodes (#SBATCH --nodes), --engine torch.' }),
  'ntasks-per-node': Flags.integer({ min: 1, default: 1, helpGroup: 'ENGINE', summary: 'Ranks per node (#SBATCH --ntasks-per-node), --engine torch; usually one per GPU.' }),
  'gpus-per-node': Flags.integer({ min: 0, helpGroup: 'ENGINE', summary: 'GPUs per node (#SBATCH --gres=gpu:G), --engine torch; rank i of a node uses GPU i mod G.' }),
};

export default class SlurmTrain extends RetinaCommand<SlurmTrainResult | SlurmTorchTrainResult> {
  static override summary = 'Run retina train as a Slurm job.';
  static override description = 'Without --submit, prints the sbatch script (or writes it with --script). The train flags are retina train\'s own (same checks) and are passed on to it unchanged.';
  static override examples = [
    '<%= config.bin %> slurm train --source lmdb --epochs 15 --cpus-per-task 16 --mem 32G --time 04:00:00',
    '<%= config.bin %> slurm train --source lmdb --gpus 1 --partition gpu --submit --wait',
    '<%= config.bin %> slurm train --engine torch --source lmdb --data ./retina-data/lmdb --nodes 2 --ntasks-per-node 4 --gpus-per-node 4 --out ./runs/ddp --submit',
  ];

  static override flags = {
    ...oclifFlags(TRAIN_FLAGS, { forSlurm: true }),
    ...SLURM_TRAIN_FLAGS,
  };

  public async run(): Promise<SlurmTrainResult | SlurmTorchTrainResult> {
    const { flags } = await this.parse(SlurmTrain);
    const values = flagValues(TRAIN_FLAGS, flags) as PassedValues<typeof TRAIN_FLAGS>;
    // Ctrl-C stops the wait (ABORTED), not the job.
    this.onStop('stopping the wait; the job keeps running');
    if (values.engine === 'torch') return this.runTorch(values, flags);
    for (const f of ['nodes', 'ntasks-per-node'] as const) {
      if (flags[f] !== 1) throw new RetinaError('BAD_ARGUMENT', `--${f} needs --engine torch (retina's tfjs trainer runs in one process)`, { hint: 'Add --engine torch, or drop the flag.' });
    }
    const train = resolveTrainFlags(values);
    const logDir = flags['log-dir'] === undefined ? defaultTrainLogDir(train) : resolve(flags['log-dir']);
    const resources = resourcesFromFlags(flags, flags['job-name'] ?? 'retina-train', flags.gpus);
    const result = await slurmTrain({
      spec: { train, resources, logDir }, scriptFile: flags.script, submit: flags.submit, wait: flags.wait, logger: this.logger,
      waitOptions: { signal: this.signal, ...(flags['wait-timeout'] === undefined ? {} : { timeoutMs: flags['wait-timeout'] * 1000 }) },
    });
    if (this.jsonEnabled()) return result;
    if (result.jobId !== null) this.log(`train job ${result.jobId}`);
    else if (result.scriptFile === null) this.log(result.script);
    return result;
  }

  private async runTorch(v: PassedValues<typeof TRAIN_FLAGS>, flags: RetinaFlags<typeof SlurmTrain>): Promise<SlurmTorchTrainResult> {
    const { refuseTfjsOnly } = await import('../../src/train/torch-argv.js');
    refuseTfjsOnly({ backend: v.backend, 'cache-features': v.cacheFeatures, 'cache-dir': v.cacheDir, crop: v.crop, normalize: v.normalize, 'split-seed': v.splitSeed });
    if (flags.gpus !== undefined && flags['gpus-per-node'] !== undefined && flags.gpus !== flags['gpus-per-node']) {
      throw new RetinaError('BAD_ARGUMENT', `--gpus ${flags.gpus} and --gpus-per-node ${flags['gpus-per-node']} disagree`, { hint: 'Give one of them.' });
    }
    const { pythonInterpreter, pythonPackageDir } = await import('../../src/train/torch-engine.js');
    const { slurmTorchTrain } = await import('../../slurm/torch-train-job.js');
    const paths = resolveTrainFlags({ source: v.source, data: v.data, images: v.images, labels: v.labels, weights: v.weights, out: v.out });
    // A requeued job must find its run folder again: fix its name now, not when the job starts.
    const out = paths.out ?? `${defaultRunDir(v.model ?? 'inception-v3', v.source)}-torch`;
    const train = {
      source: v.source, data: paths.data, images: paths.images, labels: paths.labels, model: v.model, weights: paths.weights,
      fineTune: v.fineTune, epochs: v.epochs, batchSize: v.batchSize, microBatch: v.microBatch, lr: v.lr,
      seed: v.seed, out, force: v.force, threads: v.threads, workers: v.workers, device: v.device,
      imageSize: v.imageSize, valFraction: v.valFraction,
    };
    const logDir = flags['log-dir'] === undefined ? defaultTrainLogDir({ source: v.source, data: paths.data }) : resolve(flags['log-dir']);
    const resources = resourcesFromFlags(flags, flags['job-name'] ?? 'retina-train-torch', flags['gpus-per-node'] ?? flags.gpus);
    const result = await slurmTorchTrain({
      spec: { train, resources, nodes: flags.nodes, tasksPerNode: flags['ntasks-per-node'], python: pythonInterpreter(v.python), pythonPath: pythonPackageDir(), logDir },
      scriptFile: flags.script, submit: flags.submit, wait: flags.wait, logger: this.logger,
      waitOptions: { signal: this.signal, ...(flags['wait-timeout'] === undefined ? {} : { timeoutMs: flags['wait-timeout'] * 1000 }) },
    });
    if (this.jsonEnabled()) return result;
    if (result.jobId !== null) this.log(`train job ${result.jobId} (${result.worldSize} ranks); run folder ${out}`);
    else if (result.scriptFile === null) this.log(result.script);
    return result;
  }
}
