import { RetinaCommand } from './_base/retina-command.js';
import { oclifFlags } from './_base/oclif-flags.js';
import type { TrainResult } from '../src/train/train.js';
import type { TorchTrainResult } from '../src/train/torch-engine.js';
import { flagValues, type FlagValues } from '../src/cli/flag-spec.js';
import { TRAIN_FLAGS } from '../src/cli/train-flags.js';

export default class Train extends RetinaCommand<TrainResult | TorchTrainResult> {
  static override summary = 'Train a DR grader (tfjs InceptionV3 transfer learning or a small CNN) from a dataset or from JPEGs.';
  static override examples = [
    '<%= config.bin %> train --source lmdb',
    '<%= config.bin %> train --source images --images ./train --labels ./trainLabels.csv --epochs 15',
    '<%= config.bin %> train --source raw --data ./retina-data/raw --model small-cnn --fine-tune --lr 3e-3',
    '<%= config.bin %> train --engine torch --source lmdb --data ./retina-data/lmdb --weights ./inception_v3_google.pth',
  ];

  static override flags = oclifFlags(TRAIN_FLAGS);

  public async run(): Promise<TrainResult | TorchTrainResult> {
    const { flags } = await this.parse(Train);
    const f = flagValues(TRAIN_FLAGS, flags);
    this.onStop('stopping at the next batch');
    if (f.engine === 'torch') return this.runTorch(f);
    const { train } = await import('../src/train/train.js');
    return train({ ...f, logger: this.logger, progress: this.progress, signal: this.signal });
  }

  private async runTorch(f: FlagValues<typeof TRAIN_FLAGS>): Promise<TorchTrainResult> {
    const { refuseTfjsOnly } = await import('../src/train/torch-argv.js');
    refuseTfjsOnly({
      backend: f.backend === 'auto' ? undefined : f.backend, 'cache-features': f.cacheFeatures, 'cache-dir': f.cacheDir,
      crop: f.crop === 'auto' ? undefined : f.crop, normalize: f.normalize === 'none' ? undefined : f.normalize,
      'split-seed': f.splitSeed === 0 ? undefined : f.splitSeed,
    });
    const { trainWithTorch } = await import('../src/train/torch-engine.js');
    return trainWithTorch({
      source: f.source, data: f.data, images: f.images, labels: f.labels, model: f.model, weights: f.weights,
      fineTune: f.fineTune, epochs: f.epochs, batchSize: f.batchSize, microBatch: f.microBatch, lr: f.lr,
      seed: f.seed, out: f.out, force: f.force, threads: f.threads, workers: f.workers, device: f.device,
      imageSize: f.imageSize, valFraction: f.valFraction, python: f.python, logLevel: this.logger.level,
      logger: this.logger, signal: this.signal,
    });
  }
}
