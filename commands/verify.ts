import { Args } from '@oclif/core';
import { RetinaCommand } from './_base/retina-command.js';
// The library is imported in run(): `retina --help` loads every command class and must stay light.
import type { VerifyResult } from '../formats/verify.js';

export default class Verify extends RetinaCommand<VerifyResult> {
  static override summary = 'Check every file and record checksum of a dataset, naming each bad shard and record.';
  static override description = 'Reads everything: each shard file against its xxh64 in shard.json, then every record against its own checksum. '
    + 'Exits 0 when all is well, 5 when something is damaged, 6 when only shards are missing.';
  static override examples = ['<%= config.bin %> verify ./retina-data/lmdb', '<%= config.bin %> verify ./retina-data/raw --json'];
  static override args = { dataset: Args.string({ required: true, description: 'Dataset folder (holds shards/ and manifest.json).' }) };

  public async run(): Promise<VerifyResult> {
    const { args } = await this.parse(Verify);
    const result = await (await import('../formats/verify.js')).verifyDataset(args.dataset, {
      onShard: (shard, count, records, problems) => this.logger.info(`shard ${shard}/${count}: ${records} records, ${problems ? `${problems} problem(s)` : 'ok'}`),
    });
    if (result.ok) {
      this.log(`ok: ${result.records} records in ${result.shards} ${result.format} shards of ${result.dataset}`);
    } else {
      for (const e of result.errors) {
        this.logger.error(`${e.shard < 0 ? 'dataset' : `shard ${e.shard}/${result.shardCount}`}${e.record === null ? '' : `, record ${e.record}${e.id ? ` (${e.id})` : ''}`}${e.file ? `, ${e.file}` : ''}: ${e.reason}`);
      }
      this.log(`FAILED: ${result.errors.length} problem(s) in ${result.dataset} (${result.records} records read)`);
      const onlyMissing = result.errors.every((e) => e.record === null && / is missing$/.test(e.reason));
      this.exitWith(onlyMissing ? 'INCOMPLETE' : 'CORRUPT');
    }
    return result;
  }
}
