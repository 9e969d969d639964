/**
 * A third-party format as a plugin would write one, used by registry.test.ts: every record in its
 * own file `NNNNNN.bin`. It is built only from retina's exported pieces (ShardStaging for the
 * crash-safe commit, the record table, the reader helpers), which is the point of the example.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { xxh64Of } from '../../src/core/checksum.js';
import { checkFileSizes, checkIndex, checkTarget, corruptRecord, openRecordTable } from '../../formats/shard-files.js';
import { ShardStaging } from '../../formats/shard-staging.js';
import { byteLength, type RecordMeta, type ShardManifest, type ShardReader, type TensorFormat } from '../../formats/types.js';

const fileOf = (i: number) => `${String(i).padStart(6, '0')}.bin`;

export const filesFormat: TensorFormat = {
  name: 'files',
  description: 'One file per record (example third-party format).',
  async createWriter(opts) {
    const staging = await ShardStaging.create('files', opts);
    return {
      async append(meta, tensor) {
        staging.admit(meta, tensor);
        await writeFile(join(staging.tmpDir, fileOf(staging.table.count)), tensor);
        staging.table.add({ id: meta.id, label: meta.label, split: meta.split, checksum: xxh64Of(tensor) });
      },
      close: () => staging.commit(),
      abort: () => staging.abort(),
    };
  },
  async openReader(dir: string, manifest: ShardManifest): Promise<ShardReader> {
    await checkFileSizes(dir, manifest);
    const table = await openRecordTable(dir, manifest);
    const rb = byteLength(manifest.spec);
    const read = (i: number, target: Uint8Array, offset: number): RecordMeta => {
      checkIndex(i, table.count, `shard ${manifest.index}`);
      checkTarget(target, offset, rb);
      const bytes = readFileSync(join(dir, fileOf(i)));
      if (bytes.length !== rb || xxh64Of(bytes) !== table.checksums[i]) throw corruptRecord(manifest, i, table.meta(i).id, 'bad record file');
      target.set(bytes, offset);
      return table.meta(i);
    };
    return {
      count: table.count,
      manifest,
      meta: (i) => table.meta(i),
      get: async (i) => {
        const tensor = new Uint8Array(rb);
        return { ...read(i, tensor, 0), tensor };
      },
      readInto: async (i, target, offset) => read(i, target, offset),
      close: async () => undefined,
    };
  },
};
