import { Args } from '@oclif/core';
import { RetinaCommand } from './_base/retina-command.js';
// The library is imported in run(): `retina --help` loads every command class and must stay light.
import type { WeightsResult } from '../src/train/models/imagenet-weights.js';

export default class Weights extends RetinaCommand<WeightsResult> {
  static override summary = 'Where Keras\' ImageNet InceptionV3 weights (for train --weights) live and their published checksum; with FILE, check a download against it.';
  static override examples = [
    '<%= config.bin %> weights',
    '<%= config.bin %> weights ./inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5',
  ];
  static override args = { file: Args.string({ required: false, description: 'A downloaded weights file to check against the published MD5.' }) };

  public async run(): Promise<WeightsResult> {
    const { args } = await this.parse(Weights);
    const { describeImagenetWeights } = await import('../src/train/models/imagenet-weights.js');
    const r = await describeImagenetWeights(args.file);
    this.log(`InceptionV3, ImageNet, Keras (no top): ${r.name}`);
    this.log(`  url     ${r.url}`);
    this.log(`  mirror  ${r.mirror}`);
    this.log(`  md5     ${r.md5} (published in ${r.publishedIn})`);
    this.log(`  cached  ${r.kerasCache ?? 'not in ~/.keras/models (where Keras keeps its download)'}`);
    if (r.verified) this.log(`${r.verified.file}: MD5 matches (${r.verified.bytes.toLocaleString('en')} bytes)`);
    else this.log(`Download it (e.g. curl -fLO URL), check it with \`${this.config.bin} weights FILE\`, then: ${this.config.bin} train --source lmdb --weights FILE`);
    return r;
  }
}
