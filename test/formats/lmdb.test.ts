import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataset, shardPath } from '../../formats/dataset.js';
import type { TensorSpec } from '../../formats/types.js';
import { tempDir } from '../helpers/cli.js';
import { tensorBytes, writeShard } from '../helpers/tensors.js';

describe('lmdb format', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir('retina-lmdb-')));
  afterAll(() => cleanup());

  it('stores one environment per shard, uint32 keys to raw tensor bytes, readable by plain lmdb', async () => {
    const spec: TensorSpec = { dtype: 'float32', shape: [4, 4, 3] };
    const m = await writeShard(dir, 'lmdb', spec, 0, 1, 12);
    expect(m.files.map((f) => f.name)).toEqual(['data.mdb', 'records.json']); // no lock file in the manifest
    const shard = shardPath(dir, 0, 1);
    const db = open<Buffer, number>({ path: join(shard, 'data.mdb'), noSubdir: true, readOnly: true, encoding: 'binary', keyEncoding: 'uint32' });
    try {
      expect(db.getStats()).toMatchObject({ entryCount: 12 });
      for (let i = 0; i < 12; i++) expect(Buffer.from(db.get(i)!).equals(Buffer.from(tensorBytes(spec, i)))).toBe(true);
    } finally {
      await db.close();
    }
  });

  it('keeps records correct across many and concurrent reads (getBinaryFast buffers are copied before the next read)', async () => {
    const spec: TensorSpec = { dtype: 'uint8', shape: [20, 20, 3] };
    const ds = join(dir, 'many');
    await writeShard(ds, 'lmdb', spec, 0, 1, 40);
    const r = await openDataset(ds);
    const kept = await Promise.all([3, 17, 29].map(async (i) => ({ i, bytes: Uint8Array.from((await r.get(i)).tensor) })));
    for (const k of kept) expect(Buffer.from(k.bytes).equals(Buffer.from(tensorBytes(spec, k.i)))).toBe(true);
    const batch = new Uint8Array(40 * 1200);
    for (let i = 39; i >= 0; i--) await r.readInto(i, batch, i * 1200);
    for (let i = 0; i < 40; i++) expect(Buffer.from(batch.subarray(i * 1200, (i + 1) * 1200)).equals(Buffer.from(tensorBytes(spec, i)))).toBe(true);
    await r.close();
    expect((await readdir(shardPath(ds, 0, 1))).sort()).toContain('data.mdb');
  });
});
