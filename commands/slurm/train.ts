import { resolve } from 'node:path';
import { Flags } from '@oclif/core';
import { RetinaCommand, type RetinaFlags } from '../_base/retina-command.js';
import { RetinaError } from '../../src/core/errors.js';
import { stopOnSignals } from '../../slurm/stop-signal.js';
import { resourcesFromFlags, slurmResourceFlags } from '../_base/slurm-flags.js';
import { defaultTrainLogDir, resolveTrainFlags } from '../../slurm/render-train.js';
import { slurmTrain, type SlurmTrainResult } from '../../slurm/train-job.js';
import type { SlurmTorchTrainResult } from '../../slurm/torch-train-job.js';

export default class SlurmTrain extends RetinaCommand<SlurmTrainResult | SlurmTorchTrainResult> {
  static override summary = 'Run retina train as a Slurm job.';
  static override description = 'Without --submit, prints the sbatch script (or writes it with --script). The train flags are passed on to retina train unchanged.';
  static override examples = [
    '<%= config.bin %> slurm train --source lmdb --epochs 15 --cpus-per-task 16 --mem 32G --time 04:00:00',
    '<%= config.bin %> slurm train --source lmdb --gpus 1 --partition gpu --submit --wait',
    '<%= config.bin %> slurm train --engine torch --source lmdb --data ./retina-data/lmdb --nodes 2 --ntasks-per-node 4 --gpus-per-node 4 --out ./runs/ddp --submit',
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
    engine: Flags.option({ options: ['tfjs', 'torch'] as const, default: 'tfjs' as const, helpGroup: 'ENGINE', summary: 'retina train --engine: torch runs one PyTorch rank per task (srun python -m retina_data.train, torch.distributed).' })(),
    nodes: Flags.integer({ min: 1, default: 1, helpGroup: 'ENGINE', summary: 'Nodes (#SBATCH --nodes), --engine torch.' }),
    'ntasks-per-node': Flags.integer({ min: 1, default: 1, helpGroup: 'ENGINE', summary: 'Ranks per node (#SBATCH --ntasks-per-node), --engine torch; usually one per GPU.' }),
    'gpus-per-node': Flags.integer({ min: 0, helpGroup: 'ENGINE', summary: 'GPUs per node (#SBATCH --gres=gpu:G), --engine torch; rank i of a node uses GPU i mod G.' }),
    python: Flags.string({ env: 'RETINA_PYTHON', helpGroup: 'ENGINE', summary: 'Python interpreter on the compute nodes, --engine torch [default: /usr/bin/python3].' }),
    device: Flags.option({ options: ['auto', 'cpu', 'cuda'] as const, helpGroup: 'ENGINE', summary: 'retina train --device (--engine torch).' })(),
    workers: Flags.integer({ min: 0, helpGroup: 'ENGINE', summary: 'retina train --workers (--engine torch).' }),
  };

  public async run(): Promise<SlurmTrainResult | SlurmTorchTrainResult> {
    const { flags } = await this.parse(SlurmTrain);
    if (flags.engine === 'torch') return this.runTorch(flags);
    for (const f of ['nodes', 'ntasks-per-node'] as const) {
      if (flags[f] !== 1) throw new RetinaError('BAD_ARGUMENT', `--${f} needs --engine torch (retina's tfjs trainer runs in one process)`, { hint: 'Add --engine torch, or drop the flag.' });
    }
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

  private async runTorch(flags: RetinaFlags<typeof SlurmTrain>): Promise<SlurmTorchTrainResult> {
    const { refuseTfjsOnly } = await import('../../src/train/torch-argv.js');
    refuseTfjsOnly({ backend: flags.backend, 'cache-features': flags['cache-features'], 'cache-dir': flags['cache-dir'], crop: flags.crop, normalize: flags.normalize, 'split-seed': flags['split-seed'] });
    if (flags.gpus !== undefined && flags['gpus-per-node'] !== undefined && flags.gpus !== flags['gpus-per-node']) {
      throw new RetinaError('BAD_ARGUMENT', `--gpus ${flags.gpus} and --gpus-per-node ${flags['gpus-per-node']} disagree`, { hint: 'Give one of them.' });
    }
    const { pythonInterpreter, pythonPackageDir } = await import('../../src/train/torch-engine.js');
    const { slurmTorchTrain } = await import('../../slurm/torch-train-job.js');
    const paths = resolveTrainFlags({ source: flags.source, data: flags.data, images: flags.images, labels: flags.labels, weights: flags.weights, out: flags.out });
    // A requeued job must find its run folder again: fix its name now, not when the job starts.
    const out = paths.out ?? resolve('runs', `${new Date().toISOString().replace(/[:.]/g, '-')}-${flags.model ?? 'inception-v3'}-${flags.source}-torch`);
    const train = {
      source: flags.source, data: paths.data, images: paths.images, labels: paths.labels, model: flags.model, weights: paths.weights,
      fineTune: flags['fine-tune'], epochs: flags.epochs, batchSize: flags['batch-size'], microBatch: flags['micro-batch'], lr: flags.lr,
      seed: flags.seed, out, force: flags.force, threads: flags.threads, workers: flags.workers, device: flags.device,
      imageSize: flags['image-size'], valFraction: flags['val-fraction'],
    };
    const logDir = flags['log-dir'] === undefined ? defaultTrainLogDir({ source: flags.source, data: paths.data }) : resolve(flags['log-dir']);
    const resources = resourcesFromFlags(flags, flags['job-name'] ?? 'retina-train-torch', flags['gpus-per-node'] ?? flags.gpus);
    const stop = stopOnSignals();
    const result = await slurmTorchTrain({
      spec: { train, resources, nodes: flags.nodes, tasksPerNode: flags['ntasks-per-node'], python: pythonInterpreter(flags.python), pythonPath: pythonPackageDir(), logDir },
      scriptFile: flags.script, submit: flags.submit, wait: flags.wait, logger: this.logger,
      waitOptions: { signal: stop.signal, ...(flags['wait-timeout'] === undefined ? {} : { timeoutMs: flags['wait-timeout'] * 1000 }) },
    }).finally(stop.dispose);
    if (this.jsonEnabled()) return result;
    if (result.jobId !== null) this.log(`train job ${result.jobId} (${result.worldSize} ranks); run folder ${out}`);
    else if (result.scriptFile === null) this.log(result.script);
    return result;
  }
}
