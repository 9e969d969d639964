import { isXxh64Hex } from '../src/core/checksum.js';
import { canonicalJson, checkJsonChecksum } from '../src/core/json-checksum.js';
import { RetinaError } from '../src/core/errors.js';
import { DTYPES, type DatasetManifest, type DType, type ShardFile, type ShardManifest, type Split, type TensorSpec } from './types.js';

/**
 * Guards for the JSON a dataset is made of. Everything read from disk is `unknown` until one of
 * these has checked it; a failure is a CORRUPT error naming the file and the field.
 */

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

function fail(where: string, field: string, expected: string, found: unknown, shard?: number): never {
  const shown = JSON.stringify(found);
  throw new RetinaError('CORRUPT', `${where}: expected ${expected} for "${field}" but found ${shown === undefined ? 'nothing' : shown.slice(0, 80)}`, {
    location: { file: where, ...(shard === undefined ? {} : { shard }) },
    hint: 'The file was damaged or written by another tool; rewrite this shard (rerun its preprocess task with --force).',
  });
}

/** Check a tensor spec (dtype one of DTYPES, shape of positive integers). */
export function parseSpec(v: unknown, where: string, field = 'spec'): TensorSpec {
  if (!isObj(v)) fail(where, field, 'an object {dtype, shape}', v);
  if (typeof v.dtype !== 'string' || !(DTYPES as readonly string[]).includes(v.dtype)) fail(where, `${field}.dtype`, DTYPES.join('|'), v.dtype);
  if (!Array.isArray(v.shape) || v.shape.length === 0 || !v.shape.every((d) => isNonNegInt(d) && d > 0)) {
    fail(where, `${field}.shape`, 'a non-empty array of positive integers', v.shape);
  }
  return { dtype: v.dtype as DType, shape: [...(v.shape as number[])] };
}

function parseCounts(v: unknown, where: string, field: string): Record<string, number> {
  if (!isObj(v)) fail(where, field, 'an object of counts', v);
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(v)) {
    if (!isNonNegInt(n)) fail(where, `${field}.${k}`, 'a non-negative integer', n);
    out[k] = n;
  }
  return out;
}

function parseSplits(v: unknown, where: string): Record<Split, number> {
  const c = parseCounts(v, where, 'splits');
  return { train: c.train ?? 0, val: c.val ?? 0 };
}

const SAFE_NAME = /^[A-Za-z0-9._-]+$/;

function parseFiles(v: unknown, where: string, shard: number): ShardFile[] {
  if (!Array.isArray(v)) fail(where, 'files', 'an array', v, shard);
  return v.map((f: unknown, i) => {
    if (!isObj(f)) fail(where, `files[${i}]`, 'an object {name, bytes, xxh64}', f, shard);
    // A file name is a plain name inside the shard folder: nothing that could escape it.
    if (typeof f.name !== 'string' || !SAFE_NAME.test(f.name) || f.name === '.' || f.name === '..') {
      fail(where, `files[${i}].name`, 'a plain file name', f.name, shard);
    }
    if (!isNonNegInt(f.bytes)) fail(where, `files[${i}].bytes`, 'a non-negative integer', f.bytes, shard);
    if (!isXxh64Hex(f.xxh64)) fail(where, `files[${i}].xxh64`, '16 hex digits', f.xxh64, shard);
    if (f.head === undefined) return { name: f.name, bytes: f.bytes, xxh64: f.xxh64 };
    const h = f.head;
    if (!isObj(h) || !isNonNegInt(h.bytes) || h.bytes > f.bytes || !isXxh64Hex(h.xxh64)) fail(where, `files[${i}].head`, 'an object {bytes, xxh64} within the file', h, shard);
    return { name: f.name, bytes: f.bytes, xxh64: f.xxh64, head: { bytes: h.bytes, xxh64: h.xxh64 } };
  });
}

/** Keys of a `shard.json` written before checksums (accepted without one, see README "Integrity"). */
export const LEGACY_SHARD_KEYS = ['kind', 'version', 'format', 'index', 'count', 'spec', 'records', 'splits', 'labels', 'files', 'params', 'createdAt'] as const;
/** Keys of a `manifest.json` written before checksums. */
export const LEGACY_DATASET_KEYS = ['kind', 'version', 'format', 'spec', 'shardCount', 'records', 'splits', 'labels', 'params', 'shards'] as const;

const SHARD_HINT = 'shard.json was damaged or edited after it was written; rewrite this shard (rerun its preprocess task with --force); re-indexing cannot repair it.';
const DATASET_HINT = 'manifest.json was damaged or edited; run `retina index` to rebuild it from the shards (each shard.json is checked by its own checksum).';

/** Totals must add up: a count edited by hand (in a file without checksum) is caught here. */
function checkTotals(where: string, records: number, splits: Record<Split, number>, labels: Record<string, number>, shard?: number): void {
  const bySplit = splits.train + splits.val;
  const byLabel = Object.values(labels).reduce((a, b) => a + b, 0);
  if (bySplit !== records) fail(where, 'splits', `train + val = records (${records})`, splits, shard);
  if (byLabel !== records) fail(where, 'labels', `counts summing to records (${records})`, labels, shard);
}

/**
 * Validate the parsed contents of a `shard.json`: its checksum (a file written before checksums,
 * with only the keys of that version, is accepted and marked `legacy`), every field, and that the
 * totals add up.
 */
export function parseShardManifest(v: unknown, where: string): ShardManifest {
  if (!isObj(v)) fail(where, '(root)', 'an object', v);
  const integrity = checkJsonChecksum(v, where, { legacyKeys: LEGACY_SHARD_KEYS, hint: SHARD_HINT, ...(isNonNegInt(v.index) ? { shard: v.index } : {}) });
  if (v.kind !== 'retina-shard') fail(where, 'kind', '"retina-shard"', v.kind);
  if (v.version !== 1) fail(where, 'version', '1', v.version);
  if (typeof v.format !== 'string' || v.format === '') fail(where, 'format', 'a format name', v.format);
  if (!isNonNegInt(v.count) || v.count < 1) fail(where, 'count', 'a positive integer', v.count);
  if (!isNonNegInt(v.index) || v.index >= v.count) fail(where, 'index', `an integer in [0, ${v.count})`, v.index);
  const shard = v.index;
  if (!isNonNegInt(v.records)) fail(where, 'records', 'a non-negative integer', v.records, shard);
  if (!isObj(v.params)) fail(where, 'params', 'an object', v.params, shard);
  if (typeof v.createdAt !== 'string') fail(where, 'createdAt', 'an ISO date string', v.createdAt, shard);
  const m: ShardManifest = {
    kind: 'retina-shard',
    version: 1,
    format: v.format,
    index: v.index,
    count: v.count,
    spec: parseSpec(v.spec, where),
    records: v.records,
    splits: parseSplits(v.splits, where),
    labels: parseCounts(v.labels, where, 'labels'),
    files: parseFiles(v.files, where, shard),
    params: v.params,
    createdAt: v.createdAt,
    ...(integrity === 'ok' ? { checksum: v.checksum as string } : {}),
  };
  checkTotals(where, m.records, m.splits, m.labels, shard);
  return m;
}

/** Validate the parsed contents of a dataset `manifest.json`. */
export function parseDatasetManifest(v: unknown, where: string): DatasetManifest {
  if (!isObj(v)) fail(where, '(root)', 'an object', v);
  const integrity = checkJsonChecksum(v, where, { legacyKeys: LEGACY_DATASET_KEYS, hint: DATASET_HINT });
  if (v.kind !== 'retina-dataset') fail(where, 'kind', '"retina-dataset"', v.kind);
  if (v.version !== 1) fail(where, 'version', '1', v.version);
  if (typeof v.format !== 'string') fail(where, 'format', 'a format name', v.format);
  if (!isNonNegInt(v.shardCount) || v.shardCount < 1) fail(where, 'shardCount', 'a positive integer', v.shardCount);
  if (!isNonNegInt(v.records)) fail(where, 'records', 'a non-negative integer', v.records);
  if (!isObj(v.params)) fail(where, 'params', 'an object', v.params);
  if (!Array.isArray(v.shards)) fail(where, 'shards', 'an array of shard manifests', v.shards);
  const shards = v.shards.map((s: unknown, i) => parseShardManifest(s, `${where} shards[${i}]`));
  const m: DatasetManifest = {
    kind: 'retina-dataset',
    version: 1,
    format: v.format,
    spec: parseSpec(v.spec, where),
    shardCount: v.shardCount,
    records: v.records,
    splits: parseSplits(v.splits, where),
    labels: parseCounts(v.labels, where, 'labels'),
    params: v.params,
    shards,
    ...(integrity === 'ok' ? { checksum: v.checksum as string } : {}),
  };
  // The totals are the sums over the shards listed, each of which is a shard of shardCount.
  const sums = sumCounts(shards);
  if (sums.records !== m.records) fail(where, 'records', `the sum over its shards (${sums.records})`, m.records);
  if (canonicalJson(sums.splits) !== canonicalJson(m.splits)) fail(where, 'splits', canonicalJson(sums.splits), m.splits);
  if (canonicalJson(sums.labels) !== canonicalJson(m.labels)) fail(where, 'labels', canonicalJson(sums.labels), m.labels);
  const other = shards.find((s) => s.count !== m.shardCount || s.format !== m.format);
  if (other) fail(where, 'shardCount', `the count and format of its shards (shard ${other.index}: ${other.count}, ${other.format})`, `${m.shardCount}, ${m.format}`);
  return m;
}

/** Key-order-independent JSON, to compare specs and params across shards (defined with the checksums). */
export { canonicalJson };

/** Sum split and label counts over shards. */
export function sumCounts(shards: readonly ShardManifest[]): { records: number; splits: Record<Split, number>; labels: Record<string, number> } {
  const splits: Record<Split, number> = { train: 0, val: 0 };
  const labels: Record<string, number> = {};
  let records = 0;
  for (const s of shards) {
    records += s.records;
    splits.train += s.splits.train;
    splits.val += s.splits.val;
    for (const [k, n] of Object.entries(s.labels)) labels[k] = (labels[k] ?? 0) + n;
  }
  return { records, splits, labels };
}
