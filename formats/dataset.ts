import { readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { acquireLock } from '../src/core/file-lock.js';
import { withJsonChecksum } from '../src/core/json-checksum.js';
import { RetinaError } from '../src/core/errors.js';
import { CombinedReader } from './dataset-reader.js';
import { DATASET_MANIFEST, readJson, readShardManifest, SHARD_NAME, SHARDS_DIR, shardPath } from './layout.js';
import { canonicalJson, parseDatasetManifest, sumCounts } from './manifest.js';
import { loadFormat } from './format-registry.js';
import { openRecordTable } from './shard-files.js';
import { removeDeadSiblings, writeFileAtomic } from '../src/core/atomic-write.js';
import type { DatasetManifest, DatasetReader, ShardManifest, ShardReader, ShardWriter, Split, TensorSpec } from './types.js';

/**
 * A dataset folder as a whole: where shards go, how complete shards are combined, indexed and
 * opened. See `formats/types.ts` for the layout. Re-exports the layout helpers and the per-shard
 * status checks, so callers import everything dataset-level from here.
 */
export { DATASET_MANIFEST, readShardManifest, SHARDS_DIR, shardPath } from './layout.js';
export { findCompleteShard, removeStaleShardFolders, shardStatus, type ShardStatus } from './shard-status.js';

/**
 * Start writing shard `index` of `count` of `datasetDir` in format `formatName`. The writer works
 * in a temporary sibling folder; `close()` checksums, writes `shard.json` last and renames the
 * folder into place (replacing an older one), `abort()` removes it.
 */
export async function createShardWriter(
  datasetDir: string,
  formatName: string,
  opts: { index: number; count: number; spec: TensorSpec; params?: Record<string, unknown> },
): Promise<ShardWriter> {
  const format = await loadFormat(formatName);
  return format.createWriter({ dir: shardPath(datasetDir, opts.index, opts.count), index: opts.index, count: opts.count, spec: opts.spec, params: opts.params ?? {} });
}

/** A shard folder that could not be used, and why. */
export interface ShardProblem {
  name: string;
  reason: string;
}

/** The complete shards found under `DATASET/shards`, in shard order, and folders that are not. */
export async function scanShards(datasetDir: string): Promise<{ shards: ShardManifest[]; problems: ShardProblem[] }> {
  let names: string[];
  try {
    names = await readdir(join(datasetDir, SHARDS_DIR));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { shards: [], problems: [] };
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') throw notAFolder(datasetDir, err);
    throw err;
  }
  const shards: ShardManifest[] = [];
  const problems: ShardProblem[] = [];
  for (const name of names.sort()) {
    const m = SHARD_NAME.exec(name);
    if (!m) continue; // temporary (.tmp-…) and set-aside (.old-…) folders are not shards
    try {
      const manifest = await readShardManifest(join(datasetDir, SHARDS_DIR, name));
      if (manifest.index !== Number(m[1]) || manifest.count !== Number(m[2])) {
        problems.push({ name, reason: `shard.json says shard ${manifest.index} of ${manifest.count}` });
      } else {
        shards.push(manifest);
      }
    } catch (err) {
      problems.push({ name, reason: (err as Error).message });
    }
  }
  return { shards, problems };
}

function describeMissing(missing: readonly number[], count: number): string {
  const shown = missing.length > 20 ? `${missing.slice(0, 20).join(', ')} … (${missing.length} in all)` : missing.join(', ');
  return `${missing.length === 1 ? 'shard' : 'shards'} ${shown} of ${count} ${missing.length === 1 ? 'is' : 'are'} missing`;
}

/**
 * Check that shards belong together (same format, spec, shard count and producer params) and list
 * the missing shard numbers. Throws BAD_INPUT naming the first disagreeing shard.
 */
export function combineShards(datasetDir: string, shards: readonly ShardManifest[]): { manifest: DatasetManifest; missing: number[] } {
  const first = shards[0];
  if (!first) {
    throw new RetinaError('NOT_FOUND', `No complete shard in ${join(datasetDir, SHARDS_DIR)}`, {
      location: { file: datasetDir },
      hint: 'Write the dataset first (`retina preprocess`); a shard becomes visible only when its task finished.',
    });
  }
  const spec = canonicalJson(first.spec);
  const params = canonicalJson(first.params);
  for (const s of shards) {
    const differs = s.format !== first.format ? `format ${s.format} (shard ${first.index}: ${first.format})`
      : s.count !== first.count ? `shard count ${s.count} (shard ${first.index}: ${first.count})`
      : canonicalJson(s.spec) !== spec ? `spec ${canonicalJson(s.spec)} (shard ${first.index}: ${spec})`
      : canonicalJson(s.params) !== params ? `parameters ${canonicalJson(s.params)} (shard ${first.index}: ${params})`
      : undefined;
    if (differs) {
      throw new RetinaError('BAD_INPUT', `Shards of ${datasetDir} do not belong together: shard ${s.index} of ${s.count} has ${differs}`, {
        location: { file: datasetDir, shard: s.index },
        hint: 'Remove the shards of the other run, or rerun all tasks with the same parameters into an empty folder.',
      });
    }
  }
  const present = new Set(shards.map((s) => s.index));
  const missing: number[] = [];
  for (let i = 0; i < first.count; i++) if (!present.has(i)) missing.push(i);
  const totals = sumCounts(shards);
  const manifest: DatasetManifest = {
    kind: 'retina-dataset',
    version: 1,
    format: first.format,
    spec: first.spec,
    shardCount: first.count,
    records: totals.records,
    splits: totals.splits,
    labels: totals.labels,
    params: first.params,
    shards: [...shards].sort((a, b) => a.index - b.index),
  };
  return { manifest, missing };
}

function incompleteError(datasetDir: string, missing: readonly number[], count: number, problems: readonly ShardProblem[] = []): RetinaError {
  const why = problems.length ? ` (unusable: ${problems.map((p) => `${p.name}: ${p.reason}`).join('; ')})` : '';
  return new RetinaError('INCOMPLETE', `Dataset ${datasetDir} is incomplete: ${describeMissing(missing, count)}${why}`, {
    location: { file: datasetDir, shard: missing[0]! },
    hint: `Rerun the preprocess tasks of the missing shards (e.g. \`retina preprocess --shard ${missing[0]}/${count} …\`), then run \`retina index ${datasetDir}\`.`,
  });
}

/** CORRUPT naming the shard.json files that kept every shard folder from being used. */
export function damagedShardsError(datasetDir: string, problems: readonly ShardProblem[]): RetinaError {
  const first = problems[0]!;
  const m = SHARD_NAME.exec(first.name);
  return new RetinaError('CORRUPT', `Dataset ${datasetDir} has no usable shard: ${problems.map((p) => `${p.name}: ${p.reason}`).join('; ')}`, {
    location: { file: join(datasetDir, SHARDS_DIR, first.name, 'shard.json'), ...(m ? { shard: Number(m[1]) } : {}) },
    hint: 'Rewrite the damaged shard (rerun its preprocess task with --force).',
  });
}

/** A dataset path that names a file (e.g. its manifest.json) instead of the dataset folder. */
function notAFolder(datasetDir: string, cause: unknown): RetinaError {
  const base = basename(datasetDir);
  const hint = base === DATASET_MANIFEST || base === 'shard.json'
    ? `Pass the folder that holds shards/ and ${DATASET_MANIFEST}: ${base === DATASET_MANIFEST ? dirname(datasetDir) : dirname(dirname(dirname(datasetDir)))}`
    : `Pass the dataset folder (it holds shards/ and ${DATASET_MANIFEST}), e.g. ./retina-data/lmdb as written by \`retina preprocess\`.`;
  return new RetinaError('BAD_ARGUMENT', `${datasetDir} is a file, not a dataset folder`, { location: { file: datasetDir }, hint, cause });
}

/** The dataset manifest: `manifest.json` when present, else the shard manifests combined. */
export async function loadDatasetManifest(datasetDir: string): Promise<DatasetManifest> {
  const path = join(datasetDir, DATASET_MANIFEST);
  let raw: unknown;
  try {
    raw = await readJson(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') throw notAFolder(datasetDir, err);
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    try {
      await stat(datasetDir);
    } catch (e) {
      throw new RetinaError('NOT_FOUND', `No dataset at ${datasetDir}`, { location: { file: datasetDir }, cause: e, hint: 'Check the path; datasets are written by `retina preprocess`.' });
    }
    const { shards, problems } = await scanShards(datasetDir);
    // Shard folders whose shard.json is damaged are not "missing": say which file is corrupt.
    if (shards.length === 0 && problems.length > 0) throw damagedShardsError(datasetDir, problems);
    const { manifest, missing } = combineShards(datasetDir, shards);
    if (missing.length) throw incompleteError(datasetDir, missing, manifest.shardCount, problems);
    return manifest;
  }
  const manifest = parseDatasetManifest(raw, path);
  const listed = new Set(manifest.shards.map((s) => s.index));
  const missing: number[] = [];
  for (let i = 0; i < manifest.shardCount; i++) if (!listed.has(i)) missing.push(i);
  if (missing.length) throw incompleteError(datasetDir, missing, manifest.shardCount);
  return manifest;
}

/**
 * Open every shard of a dataset as one reader. Uses `manifest.json` when present (checking that
 * each shard on disk is still the one it lists), else the shard manifests found. Throws INCOMPLETE
 * naming missing shards, BAD_INPUT when shards disagree, CORRUPT when files are damaged.
 */
export async function openDataset(datasetDir: string): Promise<DatasetReader & CombinedReader> {
  const manifest = await loadDatasetManifest(datasetDir);
  const readers: ShardReader[] = [];
  try {
    for (const listed of manifest.shards) {
      const dir = shardPath(datasetDir, listed.index, listed.count);
      let onDisk: ShardManifest;
      try {
        onDisk = await readShardManifest(dir);
      } catch (err) {
        if (err instanceof RetinaError && err.code === 'NOT_FOUND') throw incompleteError(datasetDir, [listed.index], listed.count);
        throw err;
      }
      if (canonicalJson(onDisk) !== canonicalJson(listed)) {
        throw new RetinaError('CORRUPT', `Shard ${listed.index} of ${datasetDir} was rewritten after ${DATASET_MANIFEST} was made`, {
          location: { file: join(datasetDir, DATASET_MANIFEST), shard: listed.index },
          hint: `Run \`retina index ${datasetDir}\` to rebuild the manifest.`,
        });
      }
      const format = await loadFormat(onDisk.format);
      readers.push(await format.openReader(dir, onDisk));
    }
  } catch (err) {
    await Promise.allSettled(readers.map((r) => r.close()));
    throw err;
  }
  return new CombinedReader(datasetDir, manifest, readers);
}

/** The lock file `retina index` holds while it writes manifest.json. */
export const INDEX_LOCK = 'index.lock';

/** Result of `indexDataset` (`retina index --json`). */
export interface IndexResult {
  dataset: string;
  format: string;
  /** Shards the dataset should have. */
  shardCount: number;
  /** Complete shards found. */
  shards: number;
  records: number;
  missingShards: number[];
  complete: boolean;
  splits: Record<Split, number>;
  labels: Record<string, number>;
  /** Path of the manifest written, or null when the dataset is incomplete. */
  manifest: string | null;
  /** Shard-named folders that are not complete shards, and why (ignored by readers). */
  problems: ShardProblem[];
}

/**
 * Combine the shard manifests of `datasetDir`. When every shard is there, write `manifest.json`
 * atomically; otherwise report the missing shard numbers and write nothing.
 */
export async function indexDataset(datasetDir: string): Promise<IndexResult> {
  // One indexer at a time per dataset: two would race on manifest.json's temp file and removal.
  const lock = await acquireLock(join(datasetDir, INDEX_LOCK), `the index of ${datasetDir}`).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new RetinaError('NOT_FOUND', `No dataset at ${datasetDir}`, { location: { file: datasetDir }, cause: err });
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') throw notAFolder(datasetDir, err);
    throw err;
  });
  try {
    const { shards, problems } = await scanShards(datasetDir);
    if (shards.length === 0 && problems.length > 0) throw damagedShardsError(datasetDir, problems);
    // A shard.json written before checksums is only as good as its counts: check them against its
    // (checksummed) record table before the manifest makes them official.
    for (const m of shards) if (m.checksum === undefined) await openRecordTable(shardPath(datasetDir, m.index, m.count), m);
    const { manifest, missing } = combineShards(datasetDir, shards);
    const complete = missing.length === 0;
    const path = join(datasetDir, DATASET_MANIFEST);
    // manifest.json.tmp-* left by a killed index (its pid is gone) are this run's to remove, also
    // when the dataset is incomplete and nothing is written.
    await removeDeadSiblings(path);
    if (complete) await writeFileAtomic(path, JSON.stringify(withJsonChecksum({ ...manifest }), null, 1));
    else await rm(path, { force: true }); // a stale manifest must not hide the missing shards
    return {
      dataset: datasetDir,
      format: manifest.format,
      shardCount: manifest.shardCount,
      shards: shards.length,
      records: manifest.records,
      missingShards: missing,
      complete,
      splits: manifest.splits,
      labels: manifest.labels,
      manifest: complete ? path : null,
      problems,
    };
  } finally {
    await lock.release();
  }
}
