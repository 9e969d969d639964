// Why commands/index/index.ts and not commands/index.ts: oclif's "pattern" command discovery names a
// command after its path, and a file called index.ts names the command of the folder it is in, so
// commands/index.ts would be the bare `retina` (root) command. Inside a folder named index it is
// the command `retina index`.
import { Args } from '@oclif/core';
import { RetinaCommand } from '../_base/retina-command.js';
// The library is imported in run(): `retina --help` loads every command class and must stay light.
import type { IndexResult } from '../../formats/dataset.js';
import { RetinaError } from '../../src/core/errors.js';

export default class Index extends RetinaCommand<IndexResult> {
  static override summary = 'Combine the shard manifests of a dataset into manifest.json, or name the missing shards.';
  static override description = 'Run after all preprocess tasks (e.g. as a Slurm job depending on the array). '
    + 'Writes DATASET/manifest.json atomically when every shard is complete; otherwise writes nothing, lists the missing shard numbers and exits 6.';
  static override examples = ['<%= config.bin %> index ./retina-data/lmdb', '<%= config.bin %> index ./retina-data/lmdb --json'];
  static override args = { dataset: Args.string({ required: true, description: 'Dataset folder (holds shards/).' }) };

  public async run(): Promise<IndexResult> {
    const { args } = await this.parse(Index);
    // slurm glue: when a Slurm array made the dataset (DATASET/slurm-job.json), name the resubmit command.
    const { formatResubmitHint, resubmitHint } = await import('../../slurm/recovery.js');
    const r = await (await import('../../formats/dataset.js')).indexDataset(args.dataset).catch(async (err: unknown) => {
      // No shard at all: if a Slurm array made it, say how to resubmit every shard (slurm glue).
      const all = err instanceof RetinaError && err.code === 'NOT_FOUND' ? await resubmitHint(args.dataset, 'all') : undefined;
      if (all && err instanceof RetinaError) throw new RetinaError(err.code, err.message, { location: err.location, hint: formatResubmitHint(all) });
      throw err;
    });
    for (const p of r.problems) this.logger.warn(`ignored ${p.name}: ${p.reason}`);
    if (r.complete) {
      this.log(`indexed ${r.records} records in ${r.shards} ${r.format} shards: ${r.manifest}`);
    } else {
      this.logger.error(`${r.missingShards.length} of ${r.shardCount} shards missing: ${r.missingShards.join(', ')}`);
      const resubmit = await resubmitHint(args.dataset, r.missingShards, r.shardCount); // slurm glue: DATASET/slurm-job.json
      if (resubmit) this.logger.error(formatResubmitHint(resubmit));
      else this.logger.error(`Hint: rerun the preprocess tasks of those shards (--shard INDEX/${r.shardCount}), then run this again.`);
      this.exitWith('INCOMPLETE');
    }
    return r;
  }
}
