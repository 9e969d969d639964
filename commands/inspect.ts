import { Args } from '@oclif/core';
import { RetinaCommand } from './_base/retina-command.js';
// The library is imported in run(): `retina --help` loads every command class and must stay light.
import type { InspectResult } from '../formats/verify.js';

export default class Inspect extends RetinaCommand<InspectResult> {
  static override summary = 'Print a dataset\'s format, tensor shape and dtype, record count, and counts per split and grade.';
  static override examples = ['<%= config.bin %> inspect ./retina-data/lmdb', '<%= config.bin %> inspect ./retina-data/raw --json'];
  static override args = { dataset: Args.string({ required: true, description: 'Dataset folder (holds shards/ and manifest.json).' }) };

  public async run(): Promise<InspectResult> {
    const { args } = await this.parse(Inspect);
    const r = await (await import('../formats/verify.js')).inspectDataset(args.dataset);
    this.log(`dataset  ${r.dataset}`);
    this.log(`format   ${r.format} (${r.shards} shard${r.shards === 1 ? '' : 's'})`);
    this.log(`tensor   ${r.dtype} [${r.shape.join(', ')}]`);
    this.log(`records  ${r.records} (train ${r.splits.train}, val ${r.splits.val})`);
    this.log(`grades   ${Object.entries(r.labels).map(([k, n]) => `${k}: ${n}`).join(', ')}`);
    return r;
  }
}
