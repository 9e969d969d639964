import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRng } from '../../src/rng.js';
import { createShardWriter } from '../../formats/dataset.js';
import { byteLength, type RecordMeta, type ShardManifest, type TensorSpec } from '../../formats/types.js';

/** Deterministic pseudo-random tensor bytes for record `i` of a test (any dtype: just bytes). */
export function tensorBytes(spec: TensorSpec, seed: number): Uint8Array {
  const rng = createRng(seed);
  const out = new Uint8Array(byteLength(spec));
  if (spec.dtype === 'float32') {
    const v = new DataView(out.buffer);
    for (let i = 0; i < out.length; i += 4) v.setFloat32(i, rng.range(-1, 1), true);
  } else {
    for (let i = 0; i < out.length; i++) out[i] = rng.int(0, 255);
    // keep float16 finite: clear the top exponent bit of every element
    if (spec.dtype === 'float16') for (let i = 1; i < out.length; i += 2) out[i]! &= 0xbf;
  }
  return out;
}

/** The metadata of test record `i` (ids of varying length so byte offsets vary). */
export function recordMeta(i: number, shard = 0): RecordMeta {
  return { id: `${shard}_${i}${'x'.repeat(i % 3)}_${i % 2 ? 'left' : 'right'}`, label: i % 5, split: i % 4 === 3 ? 'val' : 'train' };
}

/** Write shard `index` of `count` with `n` records; returns its manifest. */
export async function writeShard(dir: string, format: string, spec: TensorSpec, index: number, count: number, n: number, params: Record<string, unknown> = {}): Promise<ShardManifest> {
  const w = await createShardWriter(dir, format, { index, count, spec, params });
  for (let i = 0; i < n; i++) await w.append(recordMeta(i, index), tensorBytes(spec, index * 100_000 + i));
  return w.close();
}

/** The largest file of a shard: where the tensors live in every format. */
export function dataFile(m: ShardManifest): string {
  return [...m.files].sort((a, b) => b.bytes - a.bytes)[0]!.name;
}

/**
 * Flip one byte inside the tensor of the record written with `seed`, found by searching the shard's
 * data file for its (random, unique) leading bytes: works for every format that stores tensors
 * whole. Every copy is flipped: LMDB keeps stale copies of small values in freed pages.
 */
export async function flipInRecord(shardDir: string, m: ShardManifest, spec: TensorSpec, seed: number): Promise<void> {
  const path = join(shardDir, dataFile(m));
  const bytes = await readFile(path);
  const tensor = tensorBytes(spec, seed);
  const needle = Buffer.from(tensor.subarray(0, Math.min(32, tensor.length)));
  let at = bytes.indexOf(needle);
  if (at < 0) throw new Error(`record bytes not found in ${path}`);
  for (; at >= 0; at = bytes.indexOf(needle, at + 1)) bytes[at + Math.floor(tensor.length / 2)]! ^= 0x10;
  await writeFile(path, bytes);
}
