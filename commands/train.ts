import { RetinaCommand } from './_base/retina-command.js';
import { oclifFlags } from './_base/oclif-flags.js';
import type { TrainResult } from '../src/train/train.js';
import { flagValues } from '../src/cli/flag-spec.js';
import { TRAIN_FLAGS } from '../src/cli/train-flags.js';

export default class Train extends RetinaCommand<TrainResult> {
  static override summary = 'Train a DR grader (tfjs InceptionV3 transfer learning or a small CNN) from a dataset or from JPEGs.';
  static override examples = [
    '<%= config.bin %> train --source lmdb',
    '<%= config.bin %> train --source images --images ./train --labels ./trainLabels.csv --epochs 15',
    '<%= config.bin %> train --source raw --data ./retina-data/raw --model small-cnn --fine-tune --lr 3e-3',
  ];

  static override flags = oclifFlags(TRAIN_FLAGS);

  public async run(): Promise<TrainResult> {
    const { flags } = await this.parse(Train);
    this.onStop('stopping at the next batch');
    const { train } = await import('../src/train/train.js');
    return train({ ...flagValues(TRAIN_FLAGS, flags), logger: this.logger, progress: this.progress, signal: this.signal });
  }
}
