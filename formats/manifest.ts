import { isXxh64Hex } from '../src/core/checksum.js';
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
    return { name: f.name, bytes: f.bytes, xxh64: f.xxh64 };
  });
}

/** Validate the parsed contents of a `shard.json`. */
export function parseShardManifest(v: unknown, where: string): ShardManifest {
  if (!isObj(v)) fail(where, '(root)', 'an object', v);
  if (v.kind !== 'retina-shard') fail(where, 'kind', '"retina-shard"', v.kind);
  if (v.version !== 1) fail(where, 'version', '1', v.version);
  if (typeof v.format !== 'string' || v.format === '') fail(where, 'format', 'a format name', v.format);
  if (!isNonNegInt(v.count) || v.count < 1) fail(where, 'count', 'a positive integer', v.count);
  if (!isNonNegInt(v.index) || v.index >= v.count) fail(where, 'index', `an integer in [0, ${v.count})`, v.index);
  const shard = v.index;
  if (!isNonNegInt(v.records)) fail(where, 'records', 'a non-negative integer', v.records, shard);
  if (!isObj(v.params)) fail(where, 'params', 'an object', v.params, shard);
  if (typeof v.createdAt !== 'string') fail(where, 'createdAt', 'an ISO date string', v.createdAt, shard);
  return {
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
  };
}

/** Validate the parsed contents of a dataset `manifest.json`. */
export function parseDatasetManifest(v: unknown, where: string): DatasetManifest {
  if (!isObj(v)) fail(where, '(root)', 'an object', v);
  if (v.kind !== 'retina-dataset') fail(where, 'kind', '"retina-dataset"', v.kind);
  if (v.version !== 1) fail(where, 'version', '1', v.version);
  if (typeof v.format !== 'string') fail(where, 'format', 'a format name', v.format);
  if (!isNonNegInt(v.shardCount) || v.shardCount < 1) fail(where, 'shardCount', 'a positive integer', v.shardCount);
  if (!isNonNegInt(v.records)) fail(where, 'records', 'a non-negative integer', v.records);
  if (!isObj(v.params)) fail(where, 'params', 'an object', v.params);
  if (!Array.isArray(v.shards)) fail(where, 'shards', 'an array of shard manifests', v.shards);
  const shards = v.shards.map((s: unknown, i) => parseShardManifest(s, `${where} shards[${i}]`));
  return {
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
  };
}

/** Key-order-independent JSON, to compare specs and params across shards. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isObj(v)) {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

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
