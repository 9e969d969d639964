import { readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { xxh64 } from '@node-rs/xxhash';
import { xxh64Hex } from '../core/checksum.js';
import { writeDirAtomic } from '../core/atomic-write.js';
import { checkJsonChecksum, withJsonChecksum } from '../core/json-checksum.js';
import { messageOf } from '../core/errors.js';

/**
 * Pooled backbone features of every record of a source, stored as a small dataset:
 * `DIR/features.f32` (count x dim float32, record order) and `DIR/meta.json`, written to a
 * temporary folder and renamed into place, so a folder that exists is complete. meta.json carries
 * the xxh64 of features.f32 and a checksum of its own (src/core/json-checksum.ts): a cache that
 * fails either is reported and recomputed, never trained on.
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
  /** Size and xxh64 of features.f32. */
  features?: { bytes: number; xxh64: string };
  checksum?: string;
}

export const FEATURES_FILE = 'features.f32';
export const META_FILE = 'meta.json';

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

/** What `loadFeatureCache` found. */
export type FeatureCacheLookup =
  | { state: 'hit'; features: Float32Array; meta: FeatureCacheMeta }
  | { state: 'miss' }
  /** A cache folder for this key that must not be used: `reason` says why (for a warning). */
  | { state: 'damaged'; reason: string };

/** The cached features if present, matching and intact. */
export async function loadFeatureCache(dir: string, key: string, count: number, dim: number): Promise<FeatureCacheLookup> {
  let text: string;
  try {
    text = await readFile(join(dir, META_FILE), 'utf8');
  } catch {
    return { state: 'miss' };
  }
  let m: FeatureCacheMeta;
  try {
    const parsed = JSON.parse(text) as unknown;
    checkJsonChecksum(parsed, join(dir, META_FILE));
    m = parsed as FeatureCacheMeta;
  } catch (err) {
    return { state: 'damaged', reason: messageOf(err) };
  }
  if (m.kind !== 'retina-features' || m.key !== key || m.count !== count || m.dim !== dim || m.features === undefined) {
    return { state: 'damaged', reason: `${join(dir, META_FILE)} describes other features (key ${m.key}, ${m.count} x ${m.dim})` };
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, FEATURES_FILE));
  } catch (err) {
    return { state: 'damaged', reason: `${join(dir, FEATURES_FILE)} cannot be read (${messageOf(err)})` };
  }
  if (bytes.byteLength !== count * dim * 4 || bytes.byteLength !== m.features.bytes) {
    return { state: 'damaged', reason: `${join(dir, FEATURES_FILE)} has ${bytes.byteLength} bytes, expected ${count * dim * 4}` };
  }
  const sum = xxh64Hex(bytes);
  if (sum !== m.features.xxh64) return { state: 'damaged', reason: `${join(dir, FEATURES_FILE)} fails its xxh64 checksum (${sum}, meta.json says ${m.features.xxh64})` };
  const features = new Float32Array(count * dim);
  new Uint8Array(features.buffer).set(bytes);
  return { state: 'hit', features, meta: m };
}

/**
 * Store features under `dir` (writeDirAtomic: temporary folders of this key left by killed runs
 * are removed first).
 */
export async function saveFeatureCache(dir: string, features: Float32Array, meta: FeatureCacheMeta): Promise<void> {
  await writeDirAtomic(dir, async (tmp) => {
    const bytes = new Uint8Array(features.buffer, features.byteOffset, features.byteLength);
    await writeFile(join(tmp, FEATURES_FILE), bytes);
    const full = withJsonChecksum({ ...meta, features: { bytes: bytes.byteLength, xxh64: xxh64Hex(bytes) } });
    await writeFile(join(tmp, META_FILE), JSON.stringify(full, null, 2));
  });
}
