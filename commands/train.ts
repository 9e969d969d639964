import { Flags } from '@oclif/core';
import { RetinaCommand, type RetinaFlags } from './_base/retina-command.js';
import { backendFlag, decimal } from './_base/train-flags.js';
import type { TrainResult } from '../src/train/train.js';
import type { TorchTrainResult } from '../src/train/torch-engine.js';
import { MODEL_NAMES } from '../src/train/models/names.js';

export default class Train extends RetinaCommand<TrainResult | TorchTrainResult> {
  static override summary = 'Train a DR grader (tfjs InceptionV3 transfer learning or a small CNN) from a dataset or from JPEGs.';
  static override examples = [
    '<%= config.bin %> train --source lmdb',
    '<%= config.bin %> train --source images --images ./train --labels ./trainLabels.csv --epochs 15',
    '<%= config.bin %> train --source raw --data ./retina-data/raw --model small-cnn --fine-tune --lr 3e-3',
    '<%= config.bin %> train --engine torch --source lmdb --data ./retina-data/lmdb --weights ./inception_v3_google.pth',
  ];

  static override flags = {
    source: Flags.string({ required: true, summary: 'A format (raw, msgpack, lmdb, tfjs) to read a dataset, or images to decode JPEGs every epoch.' }),
    data: Flags.directory({ summary: 'Dataset folder for a format source [default: ./retina-data/<source>].' }),
    images: Flags.directory({ summary: 'Images folder for --source images [default: ./train].' }),
    labels: Flags.file({ summary: 'Labels CSV for --source images [default: ./trainLabels.csv].' }),
    model: Flags.option({ options: MODEL_NAMES, default: 'inception-v3' as const, summary: 'Network.' })(),
    weights: Flags.file({ summary: 'Backbone weights: Keras\' InceptionV3 .h5 (the ImageNet file: see `retina weights`) or a tfjs layers model.json [default: random, which learns little frozen].' }),
    'fine-tune': Flags.boolean({ default: false, summary: 'Train every layer (default: frozen backbone, new 5-grade head).' }),
    epochs: Flags.integer({ min: 1, default: 15, summary: 'Epochs.' }),
    'batch-size': Flags.integer({ min: 1, default: 32, summary: 'Images per step.' }),
    'micro-batch': Flags.integer({ min: 1, summary: 'Images per gradient computation when fine-tuning; gradients add up to --batch-size [default: 4 for inception-v3 on wasm, else the batch size].' }),
    lr: decimal({ default: 1e-4, summary: 'Adam learning rate.' }),
    seed: Flags.integer({ default: 1, summary: 'Seed of the weight init and the per-epoch shuffle.' }),
    backend: backendFlag,
    out: Flags.directory({ summary: 'Run folder [default: ./runs/<time>-<model>-<source>].' }),
    force: Flags.boolean({ default: false, summary: 'Overwrite a run folder that holds a finished run.' }),
    'cache-features': Flags.boolean({ allowNo: true, summary: 'Compute the frozen backbone\'s features once and train the head on them [default: on when frozen].' }),
    'cache-dir': Flags.directory({ env: 'RETINA_CACHE_DIR', summary: 'Feature cache root [default: ~/.cache/retina].' }),
    threads: Flags.integer({ min: 1, summary: 'Worker threads for the frozen backbone\'s forward pass: feature extraction, or every epoch with --no-cache-features (1: in-process) [default: usable CPUs].' }),
    'image-size': Flags.integer({ min: 16, summary: 'Square side for --source images [default: 299, or 64 for small-cnn].' }),
    crop: Flags.option({ options: ['auto', 'none'] as const, default: 'auto' as const, summary: 'Transform for --source images (as retina preprocess).' })(),
    normalize: Flags.option({ options: ['none', 'ben-graham'] as const, default: 'none' as const, summary: 'Transform for --source images (as retina preprocess).' })(),
    'val-fraction': decimal({ default: 0.1, summary: 'Validation share of patients for --source images (as retina preprocess).' }),
    'split-seed': Flags.integer({ default: 0, summary: 'Split seed for --source images (as retina preprocess --seed).' }),
    engine: Flags.option({ options: ['tfjs', 'torch'] as const, default: 'tfjs' as const, helpGroup: 'ENGINE', summary: 'tfjs: retina\'s own trainer; torch: PyTorch (python -m retina_data.train, torchvision InceptionV3; --weights takes a torchvision state_dict file).' })(),
    python: Flags.string({ env: 'RETINA_PYTHON', helpGroup: 'ENGINE', summary: 'Python interpreter for --engine torch (with torch and torchvision) [default: /usr/bin/python3].' }),
    device: Flags.option({ options: ['auto', 'cpu', 'cuda'] as const, helpGroup: 'ENGINE', summary: 'Device for --engine torch [default: auto: cuda when available].' })(),
    workers: Flags.integer({ min: 0, helpGroup: 'ENGINE', summary: 'DataLoader worker processes for --engine torch [default: 0 on CPU, up to 8 on a GPU].' }),
  };

  public async run(): Promise<TrainResult | TorchTrainResult> {
    const { flags } = await this.parse(Train);
    if (flags.engine === 'torch') return this.runTorch(flags);
    const controller = new AbortController();
    const onSignal = (signal: NodeJS.Signals) => {
      this.logger.warn(`${signal}: stopping at the next batch`);
      controller.abort(signal);
      // The first signal stops the run cleanly; should cleanup itself hang, do not outlive it by much.
      setTimeout(() => { process.stderr.write(`${signal}: cleanup did not finish in 60 s; exiting\n`); process.exit(130); }, 60_000).unref();
    };
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
    try {
      const { train } = await import('../src/train/train.js');
      return await train({
        source: flags.source, data: flags.data, images: flags.images, labels: flags.labels,
        model: flags.model, weights: flags.weights, fineTune: flags['fine-tune'],
        epochs: flags.epochs, batchSize: flags['batch-size'], microBatch: flags['micro-batch'], lr: flags.lr, seed: flags.seed,
        backend: flags.backend, out: flags.out, force: flags.force,
        cacheFeatures: flags['cache-features'], cacheDir: flags['cache-dir'], threads: flags.threads,
        imageSize: flags['image-size'], crop: flags.crop, normalize: flags.normalize,
        valFraction: flags['val-fraction'], splitSeed: flags['split-seed'],
        logger: this.logger, progress: !this.jsonEnabled() && (this.logger.level === 'info' || this.logger.level === 'debug'), signal: controller.signal,
      });
    } finally {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    }
  }

  private async runTorch(flags: RetinaFlags<typeof Train>): Promise<TorchTrainResult> {
    const f = flags;
    const { refuseTfjsOnly } = await import('../src/train/torch-argv.js');
    refuseTfjsOnly({
      backend: f.backend === 'auto' ? undefined : f.backend, 'cache-features': f['cache-features'], 'cache-dir': f['cache-dir'],
      crop: f.crop === 'auto' ? undefined : f.crop, normalize: f.normalize === 'none' ? undefined : f.normalize,
      'split-seed': f['split-seed'] === 0 ? undefined : f['split-seed'],
    });
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
    try {
      const { trainWithTorch } = await import('../src/train/torch-engine.js');
      return await trainWithTorch({
        source: flags.source, data: flags.data, images: flags.images, labels: flags.labels, model: flags.model, weights: flags.weights,
        fineTune: flags['fine-tune'], epochs: flags.epochs, batchSize: flags['batch-size'], microBatch: flags['micro-batch'], lr: flags.lr,
        seed: flags.seed, out: flags.out, force: flags.force, threads: flags.threads, workers: flags.workers, device: flags.device,
        imageSize: flags['image-size'], valFraction: flags['val-fraction'], python: flags.python, logLevel: this.logger.level,
        logger: this.logger, signal: controller.signal,
      });
    } finally {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    }
  }
}
