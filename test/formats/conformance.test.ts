import { spawn } from 'node:child_process';
import { readdir, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShardWriter, findCompleteShard, indexDataset, openDataset, shardPath } from '../../formats/dataset.js';
import { formatNames } from '../../formats/format-registry.js';
import { typedArrayOf } from '../../formats/typed.js';
import { byteLength, DTYPES, type TensorSpec } from '../../formats/types.js';
import { verifyDataset } from '../../formats/verify.js';
import type { RetinaError } from '../../src/core/errors.js';
import { createRng, shuffleInPlace } from '../../src/rng.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import { dataFile, flipInRecord, recordMeta, tensorBytes, writeShard } from '../helpers/tensors.js';
import { rejection } from '../helpers/errors.js';

/**
 * One suite, every registered format: whatever `formatNames()` lists must behave identically
 * through the dataset API. Format-specific checks live in <format>.test.ts.
 */

const SHAPES: number[][] = [[5, 4, 3], [1, 1, 1], [3, 7, 2], [31, 17, 3]];

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe.each(formatNames())('format %s (conformance)', (format) => {
  let root: string;
  let cleanup: () => Promise<void>;
  let n = 0;
  const fresh = () => join(root, `ds${n++}`);
  beforeAll(async () => ({ dir: root, cleanup } = await tempDir(`retina-conf-${format}-`)));
  afterAll(() => cleanup());

  it('round-trips every dtype and several shapes, meta included', async () => {
    for (const dtype of DTYPES) {
      for (const shape of SHAPES) {
        const spec: TensorSpec = { dtype, shape };
        const ds = fresh();
        const m = await writeShard(ds, format, spec, 0, 1, 4);
        expect(m).toMatchObject({ format, records: 4, spec, index: 0, count: 1 });
        const r = await openDataset(ds);
        expect(r.count).toBe(4);
        for (let i = 0; i < 4; i++) {
          const rec = await r.get(i);
          expect({ id: rec.id, label: rec.label, split: rec.split }).toEqual(recordMeta(i));
          expect(rec.tensor.byteLength).toBe(byteLength(spec));
          expect(same(rec.tensor, tensorBytes(spec, i)), `${dtype} ${shape} record ${i}`).toBe(true);
        }
        await r.close();
      }
    }
  });

  it('a 299x299x3 uint8 record round-trips', async () => {
    const spec: TensorSpec = { dtype: 'uint8', shape: [299, 299, 3] };
    const ds = fresh();
    await writeShard(ds, format, spec, 0, 1, 3);
    const r = await openDataset(ds);
    const batch = new Uint8Array(3 * byteLength(spec));
    for (let i = 0; i < 3; i++) await r.readInto(i, batch, i * byteLength(spec));
    for (let i = 0; i < 3; i++) expect(same(batch.subarray(i * byteLength(spec), (i + 1) * byteLength(spec)), tensorBytes(spec, i))).toBe(true);
    await r.close();
  });

  it('random access, iteration order and several shards (one empty) seen as one dataset', async () => {
    const spec: TensorSpec = { dtype: 'float16', shape: [6, 5, 3] };
    const ds = fresh();
    const sizes = [7, 0, 5, 9];
    for (const [i, size] of sizes.entries()) await writeShard(ds, format, spec, i, sizes.length, size);
    const idx = await indexDataset(ds);
    expect(idx).toMatchObject({ complete: true, records: 21, shards: 4 });
    const expected: { meta: ReturnType<typeof recordMeta>; seed: number }[] = [];
    sizes.forEach((size, s) => {
      for (let i = 0; i < size; i++) expected.push({ meta: recordMeta(i, s), seed: s * 100_000 + i });
    });
    const r = await openDataset(ds);
    expect(r.count).toBe(21);
    // iteration in dataset order
    for (let g = 0; g < r.count; g++) expect(r.meta(g)).toEqual(expected[g]!.meta);
    // random access in a shuffled order, through readInto at rotating offsets of one batch buffer
    const order = shuffleInPlace([...Array(r.count).keys()], createRng(3));
    const rb = byteLength(spec);
    const batch = new Uint8Array(4 * rb);
    for (const [k, g] of order.entries()) {
      const meta = await r.readInto(g, batch, (k % 4) * rb);
      expect(meta).toEqual(expected[g]!.meta);
      expect(same(batch.subarray((k % 4) * rb, (k % 4 + 1) * rb), tensorBytes(spec, expected[g]!.seed))).toBe(true);
    }
    expect(r.indicesOf('val')).toEqual(expected.flatMap((e, g) => (e.meta.split === 'val' ? [g] : [])));
    await expect(r.get(21)).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await r.close();
  });

  it('writes byte-identical data files for the same records, whatever the caller\'s timing', async () => {
    const spec: TensorSpec = { dtype: 'uint8', shape: [16, 16, 3] };
    const sums: string[] = [];
    for (const pauseEvery of [0, 3, 7]) {
      const w = await createShardWriter(fresh(), format, { index: 0, count: 1, spec, params: { p: 1 } });
      for (let i = 0; i < 60; i++) {
        await w.append(recordMeta(i), tensorBytes(spec, i));
        // a macrotask pause, as when a caller awaits decoding between appends
        if (pauseEvery && i % pauseEvery === 0) await new Promise((r) => setTimeout(r, 1));
      }
      sums.push(JSON.stringify((await w.close()).files));
    }
    expect(new Set(sums).size).toBe(1);
  });

  it('keeps call order when appends are not awaited one by one', async () => {
    const spec: TensorSpec = { dtype: 'uint8', shape: [5, 5, 3] };
    const ds = fresh();
    const w = await createShardWriter(ds, format, { index: 0, count: 1, spec });
    const pending = Array.from({ length: 20 }, (_, i) => w.append(recordMeta(i), tensorBytes(spec, i)));
    pending.push(w.append(recordMeta(3), tensorBytes(spec, 3)).then(() => { throw new Error('a repeated id must be refused'); }, (err: unknown) => expect((err as RetinaError).code).toBe('BAD_ARGUMENT')));
    const closing = w.close();
    await Promise.all(pending);
    expect((await closing).records).toBe(20);
    const r = await openDataset(ds);
    for (let i = 0; i < 20; i++) {
      const rec = await r.get(i);
      expect(rec.id).toBe(recordMeta(i).id);
      expect(same(rec.tensor, tensorBytes(spec, i))).toBe(true);
    }
    await r.close();
  });

  it('a dataset of one empty shard opens with zero records', async () => {
    const ds = fresh();
    await writeShard(ds, format, { dtype: 'uint8', shape: [4, 4, 3] }, 0, 1, 0);
    const r = await openDataset(ds);
    expect(r.count).toBe(0);
    await r.close();
    expect((await verifyDataset(ds)).ok).toBe(true);
  });

  it('reads float32 correctly at unaligned byte offsets (in the file and in the target)', async () => {
    const spec: TensorSpec = { dtype: 'float32', shape: [3, 5, 3] };
    const ds = fresh();
    await writeShard(ds, format, spec, 0, 1, 7); // ids of varying length shift record offsets
    const r = await openDataset(ds);
    const rb = byteLength(spec);
    const target = new Uint8Array(rb + 3);
    for (let i = 0; i < 7; i++) {
      await r.readInto(i, target, 1 + (i % 3));
      const got = typedArrayOf(target.subarray(1 + (i % 3), 1 + (i % 3) + rb), 'float32');
      const want = new Float32Array(tensorBytes(spec, i).buffer);
      expect(Array.from(got)).toEqual(Array.from(want));
      const rec = await r.get(i);
      expect(Array.from(typedArrayOf(rec.tensor, 'float32'))).toEqual(Array.from(want));
    }
    await r.close();
  });

  it('detects a flipped byte: the reader and verify name the shard and record', async () => {
    const spec: TensorSpec = { dtype: 'uint8', shape: [8, 8, 3] };
    const ds = fresh();
    await writeShard(ds, format, spec, 0, 2, 4);
    const m = await writeShard(ds, format, spec, 1, 2, 5);
    await flipInRecord(shardPath(ds, 1, 2), m, spec, 100_003);
    const r = await openDataset(ds);
    const err = await rejection(r.get(4 + 3));
    expect(err.code).toBe('CORRUPT');
    expect(err.location).toMatchObject({ shard: 1, record: 3 });
    expect(err.message).toMatch(/Shard 1 .*record 3/);
    expect(same((await r.get(4 + 2)).tensor, tensorBytes(spec, 100_002))).toBe(true); // neighbours still fine
    await r.close();
    const v = await verifyDataset(ds);
    expect(v.ok).toBe(false);
    expect(v.records).toBe(9);
    expect(v.errors).toContainEqual(expect.objectContaining({ shard: 1, record: 3 }));
    expect(v.errors).toContainEqual(expect.objectContaining({ shard: 1, record: null, file: dataFile(m) }));
    expect(v.errors.every((e) => e.shard === 1)).toBe(true);
  });

  it('detects a truncated file on open and in verify, naming the shard', async () => {
    const spec: TensorSpec = { dtype: 'uint8', shape: [8, 8, 3] };
    const ds = fresh();
    const m0 = await writeShard(ds, format, spec, 0, 2, 4);
    await writeShard(ds, format, spec, 1, 2, 4);
    const path = join(shardPath(ds, 0, 2), dataFile(m0));
    await truncate(path, (await stat(path)).size - 100);
    const err = await rejection(openDataset(ds));
    expect(err.code).toBe('CORRUPT');
    expect(err.location.shard).toBe(0);
    expect(err.message).toMatch(/truncated/);
    const v = await verifyDataset(ds);
    expect(v.ok).toBe(false);
    expect(v.errors).toContainEqual(expect.objectContaining({ shard: 0, file: dataFile(m0), reason: expect.stringMatching(/truncated/) }));
  });

  it('serves two readers at once, independently', async () => {
    const spec: TensorSpec = { dtype: 'uint8', shape: [6, 6, 3] };
    const ds = fresh();
    await writeShard(ds, format, spec, 0, 1, 6);
    const a = await openDataset(ds);
    const b = await openDataset(ds);
    for (let i = 0; i < 6; i++) {
      const [x, y] = await Promise.all([a.get(i), b.get(5 - i)]);
      expect(same(x.tensor, tensorBytes(spec, i))).toBe(true);
      expect(same(y.tensor, tensorBytes(spec, 5 - i))).toBe(true);
    }
    // get() returns owned tensors: concurrent gets on one reader do not overwrite each other
    const [p, q] = await Promise.all([a.get(1), a.get(4)]);
    expect(same(p.tensor, tensorBytes(spec, 1)) && same(q.tensor, tensorBytes(spec, 4))).toBe(true);
    await a.close();
    expect(same((await b.get(2)).tensor, tensorBytes(spec, 2))).toBe(true);
    await b.close();
  });

  it('a writer killed before close leaves no shard that readers accept, and an older shard intact', async () => {
    const ds = fresh();
    const kill = async (records: number) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/formats/kill-writer-child.ts'), ds, format, String(records)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        child.on('exit', (code) => reject(new Error(`child exited with ${code} before writing`)));
      });
      child.kill('SIGKILL');
      await new Promise((resolve) => child.on('exit', resolve));
    };
    await kill(5);
    expect((await readdir(join(ds, 'shards'))).some((n) => n.includes('.tmp-'))).toBe(true);
    expect((await rejection(openDataset(ds))).code).toBe('NOT_FOUND');
    expect(await findCompleteShard(ds, 0, 1, { verify: true })).toBeUndefined();
    expect((await rejection(indexDataset(ds))).code).toBe('NOT_FOUND');
    // a complete shard, then a killed rewrite of it: the complete one still reads
    const spec: TensorSpec = { dtype: 'uint8', shape: [8, 8, 3] };
    await writeShard(ds, format, spec, 0, 1, 3);
    await kill(6);
    const r = await openDataset(ds);
    expect(r.count).toBe(3);
    expect(same((await r.get(1)).tensor, tensorBytes(spec, 1))).toBe(true);
    await r.close();
    expect((await verifyDataset(ds)).ok).toBe(true);
  });
});
