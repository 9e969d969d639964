import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { xxh64File } from '../src/core/checksum.js';
import { RetinaError } from '../src/core/errors.js';
import { combineShards, damagedShardsError, DATASET_MANIFEST, loadDatasetManifest, scanShards, shardPath } from './dataset.js';
import { canonicalJson, parseDatasetManifest } from './manifest.js';
import { loadFormat } from './format-registry.js';
import { byteLength, type ShardManifest, type Split, type TensorFormat } from './types.js';

/** One problem found by `verifyDataset`. `record` is the record number within its shard. */
export interface VerifyError {
  shard: number;
  record: number | null;
  id?: string;
  file?: string;
  reason: string;
}

/** Result of `verifyDataset` (`retina verify --json`). */
export interface VerifyResult {
  ok: boolean;
  dataset: string;
  format: string;
  shards: number;
  /** Shards the dataset should have (shard numbers are INDEX/shardCount, as --shard). */
  shardCount: number;
  /** Records checked (in shards that could be opened). */
  records: number;
  errors: VerifyError[];
}

async function verifyShard(datasetDir: string, format: TensorFormat, m: ShardManifest, errors: VerifyError[]): Promise<number> {
  const dir = shardPath(datasetDir, m.index, m.count);
  for (const f of m.files) {
    try {
      const got = await xxh64File(join(dir, f.name));
      if (got.bytes !== f.bytes) errors.push({ shard: m.index, record: null, file: f.name, reason: `file has ${got.bytes} bytes, shard.json says ${f.bytes} (${got.bytes < f.bytes ? 'truncated' : 'grown'})` });
      else if (got.xxh64 !== f.xxh64) errors.push({ shard: m.index, record: null, file: f.name, reason: `file fails its xxh64 checksum (${got.xxh64}, shard.json says ${f.xxh64})` });
    } catch (err) {
      errors.push({ shard: m.index, record: null, file: f.name, reason: `cannot read file: ${(err as Error).message}` });
    }
  }
  let reader;
  try {
    reader = await format.openReader(dir, m);
  } catch (err) {
    errors.push({ shard: m.index, record: null, reason: `cannot open shard: ${(err as Error).message}` });
    return 0;
  }
  const scratch = new Uint8Array(byteLength(m.spec));
  try {
    for (let i = 0; i < reader.count; i++) {
      try {
        await reader.readInto(i, scratch, 0);
      } catch (err) {
        const id = err instanceof RetinaError ? err.location.id : undefined;
        errors.push({ shard: m.index, record: i, ...(id === undefined ? {} : { id }), reason: (err as Error).message });
      }
    }
    return reader.count;
  } finally {
    await reader.close();
  }
}

/**
 * Check a whole dataset: every shard present and agreeing, `manifest.json` (if any) current, every
 * file's size and xxh64, and every record's checksum through its format's reader. Problems are
 * collected, not thrown, so one run names every bad shard and record.
 */
export async function verifyDataset(datasetDir: string, opts: { onShard?: (shard: number, shardCount: number, records: number, problems: number) => void } = {}): Promise<VerifyResult> {
  const { shards, problems } = await scanShards(datasetDir);
  if (shards.length === 0 && problems.length > 0) throw damagedShardsError(datasetDir, problems);
  const { manifest, missing } = combineShards(datasetDir, shards);
  const errors: VerifyError[] = [];
  for (const p of problems) {
    const m = /^shard-(\d+)-of-/.exec(p.name);
    errors.push({ shard: m ? Number(m[1]) : -1, record: null, reason: `${p.name}: ${p.reason}` });
  }
  for (const i of missing) errors.push({ shard: i, record: null, reason: `shard ${i} of ${manifest.shardCount} is missing` });
  try {
    const text = await readFile(join(datasetDir, DATASET_MANIFEST), 'utf8');
    const listed = parseDatasetManifest(JSON.parse(text) as unknown, join(datasetDir, DATASET_MANIFEST));
    for (const s of listed.shards) {
      const found = shards.find((x) => x.index === s.index);
      if (!found || canonicalJson(found) === canonicalJson(s)) continue;
      // Both files passed their checksums, so the shard really was rewritten and re-indexing is
      // the cure. Without checksums (files written before them) neither side can be trusted, and
      // indexing would make an edited shard.json official.
      const checked = found.checksum !== undefined && s.checksum !== undefined && listed.checksum !== undefined;
      errors.push({
        shard: s.index, record: null, file: DATASET_MANIFEST,
        reason: checked ? `${DATASET_MANIFEST} lists an older version of this shard; run \`retina index\``
          : `${DATASET_MANIFEST} and this shard's shard.json disagree and, written before retina checksummed its metadata, neither can be trusted: rewrite the shard (preprocess --force), then run \`retina index\``,
      });
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') errors.push({ shard: -1, record: null, file: DATASET_MANIFEST, reason: (err as Error).message });
  }
  // An unknown format is the caller's problem (a plugin not loaded), not damage: throw, do not list.
  const format = await loadFormat(manifest.format);
  let records = 0;
  for (const m of manifest.shards) {
    const before = errors.length;
    const n = await verifyShard(datasetDir, format, m, errors);
    records += n;
    opts.onShard?.(m.index, manifest.shardCount, n, errors.length - before);
  }
  errors.sort((a, b) => a.shard - b.shard || (a.record ?? -1) - (b.record ?? -1));
  return { ok: errors.length === 0, dataset: datasetDir, format: manifest.format, shards: manifest.shards.length, shardCount: manifest.shardCount, records, errors };
}

/** Result of `inspectDataset` (`retina inspect --json`). */
export interface InspectResult {
  dataset: string;
  format: string;
  shape: number[];
  dtype: string;
  records: number;
  shards: number;
  splits: Record<Split, number>;
  /** Records per grade; grades 0-4 always present. */
  labels: Record<string, number>;
  params: Record<string, unknown>;
}

/** Describe a dataset from its manifests (no record is read). */
export async function inspectDataset(datasetDir: string): Promise<InspectResult> {
  const m = await loadDatasetManifest(datasetDir);
  const labels: Record<string, number> = { '0': 0, '1': 0, '2': 0, '3': 0, '4': 0 };
  for (const [k, n] of Object.entries(m.labels)) labels[k] = n;
  return { dataset: datasetDir, format: m.format, shape: m.spec.shape, dtype: m.spec.dtype, records: m.records, shards: m.shardCount, splits: m.splits, labels, params: m.params };
}
