import { Args } from '@oclif/core';
import { RetinaCommand } from './_base/retina-command.js';
import { oclifFlag, type OptionFlag } from './_base/oclif-flags.js';
import { BACKEND_FLAG } from '../src/cli/train-flags.js';
import { Flags } from '@oclif/core';
import type { PredictResult } from '../src/train/predict.js';

export default class Predict extends RetinaCommand<PredictResult> {
  static override summary = 'Grade images with a trained model: probabilities of DR grades 0-4 per image.';
  static override examples = ['<%= config.bin %> predict --model runs/exp3 train/10_left.jpeg train/10_right.jpeg'];
  static override strict = false;

  static override args = {
    image: Args.file({ required: true, description: 'Image files (JPEG, PNG, TIFF) to grade.' }),
  };

  static override flags = {
    model: Flags.string({ required: true, summary: 'Run folder (RUN_DIR), its model/ folder, or a model.json.' }),
    backend: oclifFlag('backend', BACKEND_FLAG) as OptionFlag<string>,
  };

  public async run(): Promise<PredictResult> {
    const { flags, argv } = await this.parse(Predict);
    const { predict } = await import('../src/train/predict.js');
    const result = await predict({ model: flags.model, images: argv as string[], backend: flags.backend, logger: this.logger });
    if (!this.jsonEnabled()) {
      for (const p of result.predictions) this.log(`${p.image}\tgrade ${p.grade}\t${p.probabilities.map((v) => v.toFixed(3)).join(' ')}`);
    }
    return result;
  }
}
