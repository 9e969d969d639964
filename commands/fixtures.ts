import { Flags } from '@oclif/core';
import { RetinaCommand } from './_base/retina-command.js';
import type { FixtureResult } from '../fixtures/generate.js';
import { usableCpus } from '../src/core/cpus.js';

export default class Fixtures extends RetinaCommand<FixtureResult> {
  static override summary = 'Write a synthetic fundus dataset in the Kaggle layout (train/*.jpeg + trainLabels.csv).';
  static override examples = [
    '<%= config.bin %> fixtures --out ./kaggle-synth --count 200 --seed 1',
    '<%= config.bin %> fixtures --out ./big --count 20 --size 4928x3264 --distribution balanced',
  ];

  static override flags = {
    out: Flags.directory({ required: true, summary: 'Folder to write train/ and trainLabels.csv into.' }),
    count: Flags.integer({ min: 1, default: 200, summary: 'Number of images.' }),
    seed: Flags.integer({ default: 1, summary: 'Random seed; the same seed gives the same bytes.' }),
    size: Flags.string({ default: 'mixed', summary: 'mixed (camera sizes / 4), full (camera sizes), or WxH.' }),
    distribution: Flags.option({ options: ['kaggle', 'balanced'] as const, default: 'kaggle' as const, summary: 'Grade distribution.' })(),
  };

  public async run(): Promise<FixtureResult> {
    const { flags } = await this.parse(Fixtures);
    const { generateFixtures, parseSize } = await import('../fixtures/generate.js');
    const result = await generateFixtures({
      out: flags.out,
      count: flags.count,
      seed: flags.seed,
      size: parseSize(flags.size),
      distribution: flags.distribution,
      concurrency: usableCpus().cpus,
      logger: this.logger,
    });
    this.logger.info(`wrote ${result.images} images and ${result.labels} in ${result.seconds.toFixed(1)} s`);
    return result;
  }
}
