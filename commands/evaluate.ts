import { Flags } from '@oclif/core';
import { RetinaCommand } from './_base/retina-command.js';
import { oclifFlag, type OptionFlag } from './_base/oclif-flags.js';
import { TRAIN_FLAGS } from '../src/cli/train-flags.js';
import type { EvaluateResult } from '../src/train/evaluate.js';

export default class Evaluate extends RetinaCommand<EvaluateResult> {
  static override summary = 'Score a trained model on a dataset split: loss, accuracy, quadratic weighted kappa, confusion matrix.';
  static override examples = [
    '<%= config.bin %> evaluate --model runs/exp3 --data retina-data/lmdb',
    '<%= config.bin %> evaluate --model runs/exp3 --images ./train --labels ./trainLabels.csv --split all',
  ];

  static override flags = {
    model: Flags.string({ required: true, summary: 'Run folder (RUN_DIR), its model/ folder, or a model.json.' }),
    data: Flags.directory({ summary: 'Dataset folder (any format).', exclusive: ['images'] }),
    images: Flags.directory({ summary: 'Or an images folder, transformed as the model\'s training data was.' }),
    labels: Flags.file({ summary: 'Labels CSV for --images [default: ./trainLabels.csv].' }),
    split: Flags.option({ options: ['val', 'train', 'all'] as const, default: 'val' as const, summary: 'Which records to score.' })(),
    'batch-size': Flags.integer({ min: 1, default: 32, summary: 'Images per forward pass.' }),
    'val-fraction': oclifFlag('val-fraction', TRAIN_FLAGS['val-fraction']) as OptionFlag<number>,
    'split-seed': oclifFlag('split-seed', TRAIN_FLAGS['split-seed']) as OptionFlag<number>,
    backend: oclifFlag('backend', TRAIN_FLAGS.backend) as OptionFlag<string>,
  };

  public async run(): Promise<EvaluateResult> {
    const { flags } = await this.parse(Evaluate);
    const { evaluate, formatEvaluation } = await import('../src/train/evaluate.js');
    const result = await evaluate({
      model: flags.model, data: flags.data, images: flags.images, labels: flags.labels, split: flags.split,
      batchSize: flags['batch-size'], valFraction: flags['val-fraction'], splitSeed: flags['split-seed'],
      backend: flags.backend, logger: this.logger,
    });
    // The result on stdout (the log line on stderr is progress, gone with --log-level warn).
    if (!this.jsonEnabled()) for (const line of formatEvaluation(result)) this.log(line);
    return result;
  }
}
