import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { xxh64File } from '../src/core/checksum.js';
import { RetinaError } from '../src/core/errors.js';
import { readShardManifest, SHARDS_DIR, shardPath } from './layout.js';
import { canonicalJson } from './manifest.js';
import { isTransientName } from '../src/core/atomic-write.js';
import { shardDirName, type ShardManifest, type TensorSpec } from './types.js';

/** Is one shard complete? What a rerun of a preprocess task asks before writing it. */

/**
 * Remove temporary (`.tmp-…`) and set-aside (`.old-…`) folders of shard `index` of `count` left by
 * killed writers. Call it only as the one writer of that shard (e.g. a rerun of its task): it
 * cannot tell a dead writer on another host from a live one. Returns the folders removed.
 */
export async function removeStaleShardFolders(datasetDir: string, index: number, count: number): Promise<string[]> {
  const base = shardDirName(index, count);
  let names: string[];
  try {
    names = await readdir(join(datasetDir, SHARDS_DIR));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const stale = names.filter((n) => n.startsWith(`${base}.`) && isTransientName(n));
  for (const n of stale) await rm(join(datasetDir, SHARDS_DIR, n), { recursive: true, force: true });
  return stale.map((n) => join(datasetDir, SHARDS_DIR, n));
}

/** Outcome of looking for a finished shard. */
export type ShardStatus =
  | { state: 'complete'; dir: string; manifest: ShardManifest }
  | { state: 'missing' | 'invalid'; dir: string; reason: string };

/**
 * Is shard `index` of `count` of `datasetDir` complete? With `verify`, every file is checksummed
 * (what a rerun does before skipping a shard). `expect` also requires the same format, spec and
 * params, so a rerun with other parameters does not keep an old shard.
 */
export async function shardStatus(
  datasetDir: string,
  index: number,
  count: number,
  opts: { verify?: boolean; expect?: { format?: string; spec?: TensorSpec; params?: Record<string, unknown> } } = {},
): Promise<ShardStatus> {
  const dir = shardPath(datasetDir, index, count);
  let manifest: ShardManifest;
  try {
    manifest = await readShardManifest(dir);
  } catch (err) {
    const missing = err instanceof RetinaError && err.code === 'NOT_FOUND';
    return { state: missing ? 'missing' : 'invalid', dir, reason: (err as Error).message };
  }
  if (manifest.index !== index || manifest.count !== count) return { state: 'invalid', dir, reason: `shard.json says shard ${manifest.index} of ${manifest.count}` };
  const e = opts.expect ?? {};
  if (e.format !== undefined && e.format !== manifest.format) return { state: 'invalid', dir, reason: `format is ${manifest.format}, not ${e.format}` };
  if (e.spec !== undefined && canonicalJson(e.spec) !== canonicalJson(manifest.spec)) return { state: 'invalid', dir, reason: `spec is ${canonicalJson(manifest.spec)}, not ${canonicalJson(e.spec)}` };
  if (e.params !== undefined && canonicalJson(e.params) !== canonicalJson(manifest.params)) return { state: 'invalid', dir, reason: 'written with other parameters' };
  for (const f of manifest.files) {
    const path = join(dir, f.name);
    try {
      if (opts.verify) {
        const got = await xxh64File(path);
        if (got.bytes !== f.bytes || got.xxh64 !== f.xxh64) return { state: 'invalid', dir, reason: `file ${f.name} fails its checksum` };
      } else if ((await stat(path)).size !== f.bytes) {
        return { state: 'invalid', dir, reason: `file ${f.name} has the wrong size` };
      }
    } catch {
      return { state: 'invalid', dir, reason: `file ${f.name} is missing` };
    }
  }
  return { state: 'complete', dir, manifest };
}

/** The manifest of shard `index` of `count` when it is complete (checksums checked with `verify`), else undefined. */
export async function findCompleteShard(
  datasetDir: string,
  index: number,
  count: number,
  opts: { verify?: boolean; expect?: { format?: string; spec?: TensorSpec; params?: Record<string, unknown> } } = { verify: true },
): Promise<ShardManifest | undefined> {
  const s = await shardStatus(datasetDir, index, count, opts);
  return s.state === 'complete' ? s.manifest : undefined;
}

