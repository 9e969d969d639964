import { describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createShardWriter, indexDataset, openDataset, shardPath } from '../../formats/dataset.js';
import { verifyDataset } from '../../formats/verify.js';
import { formatNames, loadFormat, registerFormat } from '../../formats/format-registry.js';
import { RetinaError } from '../../src/core/errors.js';
import { tempDir } from '../helpers/cli.js';
import { recordMeta, tensorBytes } from '../helpers/tensors.js';

describe('format registry', () => {
  it('lists the four built-in formats and names them in an unknown-format error', async () => {
    expect(formatNames()).toEqual(['raw', 'msgpack', 'lmdb', 'tfjs']);
    const err = await loadFormat('parquet').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetinaError);
    expect((err as RetinaError).code).toBe('BAD_ARGUMENT');
    expect((err as RetinaError).message).toContain('raw, msgpack, lmdb, tfjs');
  });

  it('takes a third-party format through registerFormat(): written, read, indexed and verified like a built-in', async () => {
    registerFormat('files', async () => (await import('./files-format.js')).filesFormat);
    expect(formatNames()).toContain('files');
    const { dir, cleanup } = await tempDir();
    try {
      const spec = { dtype: 'float32' as const, shape: [3, 2, 3] };
      for (const s of [0, 1]) {
        const w = await createShardWriter(dir, 'files', { index: s, count: 2, spec });
        for (let i = 0; i < 3; i++) await w.append(recordMeta(i, s), tensorBytes(spec, s * 100_000 + i));
        expect((await w.close()).format).toBe('files');
      }
      expect((await indexDataset(dir)).complete).toBe(true);
      const r = await openDataset(dir);
      expect(r.count).toBe(6);
      expect(Buffer.from((await r.get(4)).tensor).equals(Buffer.from(tensorBytes(spec, 100_001)))).toBe(true);
      await r.close();
      const one = join(shardPath(dir, 1, 2), '000002.bin');
      const bytes = await readFile(one);
      bytes[5]! ^= 1;
      await writeFile(one, bytes);
      const v = await verifyDataset(dir);
      expect(v.errors).toContainEqual(expect.objectContaining({ shard: 1, record: 2 }));
    } finally {
      await cleanup();
    }
  });
});
