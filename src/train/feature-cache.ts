import { readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { xxh64 } from '@node-rs/xxhash';
import { writeDirAtomic } from '../core/atomic-write.js';

/**
 * Pooled backbone features of every record of a source, stored as a small dataset:
 * `DIR/features.f32` (count x dim float32, record order) and `DIR/meta.json`, written to a
 * temporary folder and renamed into place, so a folder that exists is complete.
 */
export interface FeatureCacheMeta {
  kind: 'retina-features';
  version: 1;
  key: string;
  count: number;
  dim: number;
  sourceIdentity: string;
  backboneIdentity: string;
  seconds: number;
  threads: number;
  createdAt: string;
}

/** Default cache root: $RETINA_CACHE_DIR, else $XDG_CACHE_HOME/retina, else ~/.cache/retina. */
export function defaultCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RETINA_CACHE_DIR) return env.RETINA_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'retina');
}

export function featureCacheKey(sourceIdentity: string, backboneIdentity: string): string {
  return xxh64(JSON.stringify({ v: 1, sourceIdentity, backboneIdentity })).toString(16).padStart(16, '0');
}

export function featureCacheDir(root: string, key: string): string {
  return join(root, 'features', key);
}

/** The cached features, or undefined when absent or not matching (then they are recomputed). */
export async function loadFeatureCache(dir: string, key: string, count: number, dim: number): Promise<{ features: Float32Array; meta: FeatureCacheMeta } | undefined> {
  let meta: unknown;
  try {
    meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8'));
  } catch {
    return undefined;
  }
  const m = meta as Partial<FeatureCacheMeta>;
  if (m.kind !== 'retina-features' || m.key !== key || m.count !== count || m.dim !== dim) return undefined;
  const bytes = await readFile(join(dir, 'features.f32')).catch(() => undefined);
  if (!bytes || bytes.byteLength !== count * dim * 4) return undefined;
  const features = new Float32Array(count * dim);
  new Uint8Array(features.buffer).set(bytes);
  return { features, meta: m as FeatureCacheMeta };
}

export async function saveFeatureCache(dir: string, features: Float32Array, meta: FeatureCacheMeta): Promise<void> {
  await writeDirAtomic(dir, async (tmp) => {
    await writeFile(join(tmp, 'features.f32'), new Uint8Array(features.buffer, features.byteOffset, features.byteLength));
    await writeFile(join(tmp, 'meta.json'), JSON.stringify(meta, null, 2));
  });
}
