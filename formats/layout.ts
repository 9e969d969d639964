import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RetinaError } from '../src/core/errors.js';
import { parseShardManifest } from './manifest.js';
import { SHARD_MANIFEST } from './shard-staging.js';
import { shardDirName, type ShardManifest } from './types.js';

/** Where things are in a dataset folder (see formats/types.ts for the layout). */

export const DATASET_MANIFEST = 'manifest.json';
export const SHARDS_DIR = 'shards';
export const SHARD_NAME = /^shard-(\d{5,})-of-(\d{5,})$/;

/** Folder of shard `index` of `count` in `datasetDir`. */
export function shardPath(datasetDir: string, index: number, count: number): string {
  return join(datasetDir, SHARDS_DIR, shardDirName(index, count));
}

/** Read and parse a JSON file; invalid JSON is a CORRUPT error naming it. */
export async function readJson(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new RetinaError('CORRUPT', `${path} is not valid JSON`, { location: { file: path }, cause: err, hint: 'Rewrite it (rerun the task that wrote it, or `retina index` for manifest.json).' });
  }
}

/** Read and validate `shard.json` of a shard folder; NOT_FOUND when there is none. */
export async function readShardManifest(shardDir: string): Promise<ShardManifest> {
  const path = join(shardDir, SHARD_MANIFEST);
  try {
    return parseShardManifest(await readJson(path), path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new RetinaError('NOT_FOUND', `No shard manifest at ${path}`, { location: { file: path }, cause: err });
    }
    throw err;
  }
}

