import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createShardWriter, findCompleteShard, indexDataset, openDataset, removeStaleShardFolders, shardPath, shardStatus } from '../../formats/dataset.js';
import { verifyDataset } from '../../formats/verify.js';
import { tempDir } from '../helpers/cli.js';
import { recordMeta, tensorBytes, writeShard } from '../helpers/tensors.js';
import type { TensorSpec } from '../../formats/types.js';
import { rejection } from '../helpers/errors.js';

const spec: TensorSpec = { dtype: 'uint8', shape: [6, 5, 3] };

describe('dataset', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir('retina-ds-')));
  afterEach(() => cleanup());

  it('names the missing shards of an incomplete dataset, in the reader and in index', async () => {
    for (const i of [0, 1, 3, 4, 6, 7]) await writeShard(dir, 'raw', spec, i, 8, 3);
    const err = await rejection(openDataset(dir));
    expect(err.code).toBe('INCOMPLETE');
    expect(err.message).toContain('shards 2, 5 of 8 are missing');
    expect(err.hint).toContain('retina index');
    const idx = await indexDataset(dir);
    expect(idx).toMatchObject({ complete: false, missingShards: [2, 5], shards: 6, shardCount: 8, records: 18, manifest: null });
    expect(existsSync(join(dir, 'manifest.json'))).toBe(false);
    await writeShard(dir, 'raw', spec, 2, 8, 3);
    await writeShard(dir, 'raw', spec, 5, 8, 1);
    const done = await indexDataset(dir);
    expect(done).toMatchObject({ complete: true, missingShards: [], records: 22, format: 'raw' });
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { records: number; shards: unknown[] };
    expect(manifest.records).toBe(22);
    expect(manifest.shards).toHaveLength(8);
    expect((await readdir(dir)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('sees all shards as one dataset, with and without manifest.json', async () => {
    await writeShard(dir, 'raw', spec, 0, 2, 4);
    await writeShard(dir, 'raw', spec, 1, 2, 3);
    for (const withIndex of [false, true]) {
      if (withIndex) await indexDataset(dir);
      const r = await openDataset(dir);
      expect(r.count).toBe(7);
      expect(r.meta(5)).toEqual(recordMeta(1, 1));
      expect(Buffer.from((await r.get(5)).tensor).equals(Buffer.from(tensorBytes(spec, 100_001)))).toBe(true);
      expect(r.indicesOf('val')).toEqual([3]);
      await r.close();
    }
  });

  it('refuses shards that do not belong together', async () => {
    await writeShard(dir, 'raw', spec, 0, 2, 2, { size: 6 });
    await writeShard(dir, 'raw', spec, 1, 2, 2, { size: 7 });
    const err = await rejection(openDataset(dir));
    expect(err.code).toBe('BAD_INPUT');
    expect(err.message).toMatch(/shard 1 of 2 has parameters/);
    await rm(shardPath(dir, 1, 2), { recursive: true });
    await writeShard(dir, 'raw', { dtype: 'float32', shape: [6, 5, 3] }, 1, 2, 2, { size: 6 });
    expect((await rejection(indexDataset(dir))).message).toMatch(/shard 1 of 2 has spec/);
  });

  it('index removes a stale manifest.json when a shard has gone missing since', async () => {
    await writeShard(dir, 'raw', spec, 0, 2, 2);
    await writeShard(dir, 'raw', spec, 1, 2, 2);
    expect((await indexDataset(dir)).complete).toBe(true);
    await rm(shardPath(dir, 1, 2), { recursive: true });
    expect((await rejection(openDataset(dir))).code).toBe('INCOMPLETE');
    expect(await indexDataset(dir)).toMatchObject({ complete: false, missingShards: [1] });
    expect(existsSync(join(dir, 'manifest.json'))).toBe(false);
  });

  it('detects a shard rewritten after manifest.json', async () => {
    await writeShard(dir, 'raw', spec, 0, 1, 2);
    await indexDataset(dir);
    await writeShard(dir, 'raw', spec, 0, 1, 3);
    const err = await rejection(openDataset(dir));
    expect(err.code).toBe('CORRUPT');
    expect(err.hint).toContain('retina index');
  });

  it('findCompleteShard: complete shards pass, damaged or unfinished ones do not', async () => {
    expect(await findCompleteShard(dir, 0, 2, { verify: true })).toBeUndefined();
    const m = await writeShard(dir, 'raw', spec, 0, 2, 3, { seed: 1 });
    expect((await findCompleteShard(dir, 0, 2, { verify: true }))?.records).toBe(3);
    expect(await findCompleteShard(dir, 0, 2, { verify: true, expect: { format: 'raw', spec, params: { seed: 2 } } })).toBeUndefined();
    // flip one byte in the data: same size, so only the checksum can tell
    const data = join(shardPath(dir, 0, 2), 'data.npy');
    const bytes = await readFile(data);
    bytes[bytes.length - 1]! ^= 0x40;
    await writeFile(data, bytes);
    expect((await shardStatus(dir, 0, 2, { verify: true })).state).toBe('invalid');
    expect((await shardStatus(dir, 0, 2, { verify: false })).state).toBe('complete');
    expect(m.files.map((f) => f.name)).toEqual(['data.npy', 'records.json']);
  });

  it('abort() leaves nothing; close() replaces an older shard folder', async () => {
    const w = await createShardWriter(dir, 'raw', { index: 0, count: 1, spec });
    await w.append(recordMeta(0), tensorBytes(spec, 0));
    await w.abort();
    expect(await readdir(join(dir, 'shards'))).toEqual([]);
    await writeShard(dir, 'raw', spec, 0, 1, 2);
    await writeShard(dir, 'raw', spec, 0, 1, 5);
    expect(await readdir(join(dir, 'shards'))).toEqual(['shard-00000-of-00001']);
    const r = await openDataset(dir);
    expect(r.count).toBe(5);
    await r.close();
  });

  it('a damaged records.json or shard.json is named, never read as data', async () => {
    await writeShard(dir, 'raw', spec, 0, 2, 3);
    await writeShard(dir, 'raw', spec, 1, 2, 3);
    const table = join(shardPath(dir, 1, 2), 'records.json');
    const text = await readFile(table, 'utf8');
    await writeFile(table, text.replace('"labels":[0', '"labels":[4'));
    const err = await rejection(openDataset(dir));
    expect(err.code).toBe('CORRUPT');
    expect(err.location).toMatchObject({ shard: 1 });
    expect(err.message).toMatch(/records\.json fails its checksum/);
    expect((await verifyDataset(dir)).errors).toContainEqual(expect.objectContaining({ shard: 1, file: 'records.json' }));
    await writeFile(table, text);
    await writeFile(join(shardPath(dir, 0, 2), 'shard.json'), '{"kind": "retina-shard", "version": 1, "form');
    const inc = await rejection(openDataset(dir));
    expect(inc.code).toBe('INCOMPLETE');
    expect(inc.message).toMatch(/shard 0 of 2 is missing \(unusable: shard-00000-of-00002: .*not valid JSON/);
  });

  it('removeStaleShardFolders removes only the leftovers of that shard', async () => {
    const keep = await createShardWriter(dir, 'raw', { index: 1, count: 2, spec });
    const dead = await createShardWriter(dir, 'raw', { index: 0, count: 2, spec });
    await dead.append(recordMeta(0), tensorBytes(spec, 0)); // never closed: as if killed
    await writeShard(dir, 'raw', spec, 0, 2, 2);
    const removed = await removeStaleShardFolders(dir, 0, 2);
    expect(removed).toHaveLength(1);
    expect(removed[0]).toMatch(/shard-00000-of-00002\.tmp-/);
    const left = (await readdir(join(dir, 'shards'))).sort();
    expect(left[0]).toBe('shard-00000-of-00002');
    expect(left[1]).toMatch(/^shard-00001-of-00002\.tmp-/);
    await keep.abort();
    await dead.abort();
    expect((await findCompleteShard(dir, 0, 2))?.records).toBe(2);
  });

  it('two writers of one shard closing at once leave one complete shard', async () => {
    const writers = await Promise.all([3, 4].map(async (n) => {
      const w = await createShardWriter(dir, 'raw', { index: 0, count: 1, spec });
      for (let i = 0; i < n; i++) await w.append(recordMeta(i), tensorBytes(spec, i));
      return w;
    }));
    const closed = await Promise.allSettled(writers.map((w) => w.close()));
    expect(closed.some((c) => c.status === 'fulfilled')).toBe(true);
    expect(await readdir(join(dir, 'shards'))).toEqual(['shard-00000-of-00001']);
    const r = await openDataset(dir);
    expect([3, 4]).toContain(r.count);
    await r.close();
  });

  it('rejects bad records with BAD_ARGUMENT naming them', async () => {
    const w = await createShardWriter(dir, 'raw', { index: 0, count: 1, spec });
    expect((await rejection(w.append({ id: 'a', label: 1, split: 'train' }, new Uint8Array(3)))).message).toMatch(/record 0 \(a\)/);
    expect((await rejection(w.append({ id: 'b', label: 1.5, split: 'train' }, tensorBytes(spec, 0)))).code).toBe('BAD_ARGUMENT');
    await w.abort();
  });
});
