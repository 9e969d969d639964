import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { xxh64File } from '../core/checksum.js';
import { xxh64 } from '@node-rs/xxhash';
import { readFile } from 'node:fs/promises';
import { RetinaError } from '../core/errors.js';
import { openDataset, shardPath } from '../../formats/dataset.js';
import { formatNames } from '../../formats/format-registry.js';
import type { DatasetReader, RecordMeta, Split, TensorSpec } from '../../formats/types.js';
import { byteLength } from '../../formats/types.js';
import type { RowProblem } from '../labels.js';
import { invalidInputError, readLabelledImages, splitAndOrder } from '../labelled-images.js';
import { readWholeFile } from '../preprocess/read-whole.js';
import { transformImage, type TransformOptions } from '../transform.js';

/** How to (re)open a source: plain data, so it can be sent to a worker thread. */
export type SourceDescriptor =
  | { kind: 'dataset'; dir: string }
  | {
    kind: 'images'; images: string; labels: string; idColumn?: string | undefined; labelColumn?: string | undefined;
    transform: TransformOptions; valFraction: number; splitSeed: number;
    /** Only the first N data rows of the labels file (as `retina preprocess --limit`). */
    limit?: number | undefined;
    /** Go on without invalid rows (as `retina preprocess --skip-invalid`); they are in `rejects`. */
    skipInvalid?: boolean | undefined;
  };

/**
 * Records with a label, a split and an HWC tensor: a serialized dataset or JPEGs decoded on demand.
 */
export interface SampleSource {
  readonly descriptor: SourceDescriptor;
  readonly spec: TensorSpec;
  readonly count: number;
  /** Transform that produced (or produces) the tensors; predict applies the same. */
  readonly transform: TransformOptions;
  /** How many reads pay to run at once (decoding uses libvips threads; datasets are I/O bound). */
  readonly readConcurrency: number;
  meta(index: number): RecordMeta;
  indicesOf(split: Split): number[];
  /** Copy record `index`'s tensor bytes (spec.dtype) into `target` at `offset`. */
  readInto(index: number, target: Uint8Array, offset: number): Promise<void>;
  /** Rows left out by skipInvalid (images source), listed in the run's rejects.csv; else none. */
  readonly rejects?: readonly RowProblem[];
  /** A checksum of the content (what the feature cache is keyed on). */
  identity(): Promise<string>;
  /**
   * Check that the content still is what `identity()` describes (a dataset: every shard file
   * against its checksum); throws CORRUPT naming the shard and file. Called on a feature-cache hit,
   * when no record would otherwise be read.
   */
  verifyContent(): Promise<void>;
  close(): Promise<void>;
}

class DatasetSource implements SampleSource {
  readonly readConcurrency = 1;
  readonly spec: TensorSpec;
  readonly transform: TransformOptions;
  constructor(readonly descriptor: SourceDescriptor, private readonly reader: DatasetReader) {
    this.spec = reader.manifest.spec;
    const p = reader.manifest.params;
    this.transform = {
      size: reader.manifest.spec.shape[0] ?? 299,
      crop: p.crop === 'none' ? 'none' : 'auto',
      normalize: p.normalize === 'ben-graham' ? 'ben-graham' : 'none',
      dtype: 'uint8',
    };
  }
  /** The dataset's storage format (from its manifest). */
  get format() { return this.reader.manifest.format; }
  get count() { return this.reader.count; }
  meta(i: number) { return this.reader.meta(i); }
  indicesOf(split: Split) { return this.reader.indicesOf(split); }
  async readInto(i: number, target: Uint8Array, offset: number) { await this.reader.readInto(i, target, offset); }
  async identity() {
    const m = this.reader.manifest;
    const files = m.shards.map((s) => s.files.map((f) => `${f.name}:${f.bytes}:${f.xxh64}`).join(','));
    return `dataset:${xxh64(JSON.stringify({ spec: m.spec, files })).toString(16).padStart(16, '0')}`;
  }
  async verifyContent() {
    const m = this.reader.manifest;
    for (const s of m.shards) {
      const dir = shardPath(this.reader.dir, s.index, s.count);
      for (const f of s.files) {
        const got = await xxh64File(join(dir, f.name)).catch((err: unknown) => { throw corruptFile(s.index, join(dir, f.name), `cannot be read (${(err as Error).message})`); });
        if (got.bytes !== f.bytes || got.xxh64 !== f.xxh64) throw corruptFile(s.index, join(dir, f.name), got.bytes !== f.bytes ? `has ${got.bytes} bytes, shard.json says ${f.bytes}` : `fails its xxh64 checksum (${got.xxh64}, shard.json says ${f.xxh64})`);
      }
    }
  }
  close() { return this.reader.close(); }
}

interface ImageRecord extends RecordMeta { path: string }

class ImagesSource implements SampleSource {
  readonly readConcurrency = 4;
  readonly spec: TensorSpec;
  /** Rows left out with skipInvalid (missing images, bad rows), for the run's rejects.csv. */
  constructor(readonly descriptor: Extract<SourceDescriptor, { kind: 'images' }>, private readonly records: ImageRecord[], readonly rejects: readonly RowProblem[] = []) {
    const s = descriptor.transform.size;
    this.spec = { dtype: 'uint8', shape: [s, s, 3] };
  }
  get transform() { return this.descriptor.transform; }
  get count() { return this.records.length; }
  meta(i: number): RecordMeta {
    const r = this.records[i];
    if (!r) throw new RetinaError('BAD_ARGUMENT', `Expected a record index in [0, ${this.records.length}) but received ${i}`);
    return { id: r.id, label: r.label, split: r.split };
  }
  indicesOf(split: Split) {
    const out: number[] = [];
    this.records.forEach((r, i) => { if (r.split === split) out.push(i); });
    return out;
  }
  async readInto(i: number, target: Uint8Array, offset: number) {
    const r = this.records[i]!;
    const bytes = await transformImage(await readWholeFile(r.path), { ...this.descriptor.transform, dtype: 'uint8' });
    if (bytes.byteLength !== byteLength(this.spec)) {
      throw new RetinaError('BAD_INPUT', `${r.path} became ${bytes.byteLength} bytes, expected ${byteLength(this.spec)}`, { location: { file: r.path, id: r.id } });
    }
    target.set(bytes, offset);
  }
  async identity() {
    const d = this.descriptor;
    let h = xxh64(await readFile(d.labels));
    const sizes = await Promise.all(this.records.map(async (r) => { const s = await stat(r.path); return `${r.path}:${s.size}:${s.mtimeMs}`; }));
    h = xxh64(JSON.stringify({ sizes, transform: d.transform, valFraction: d.valFraction, splitSeed: d.splitSeed, idColumn: d.idColumn, labelColumn: d.labelColumn }), h);
    return `images:${h.toString(16).padStart(16, '0')}`;
  }
  // Images are decoded on every miss, which checks them; their identity already covers size and mtime.
  async verifyContent() {}
  async close() {}
}

function corruptFile(shard: number, file: string, what: string): RetinaError {
  return new RetinaError('CORRUPT', `Shard ${shard}: ${file} ${what}; the dataset changed after its feature cache was built`, {
    location: { shard, file },
    hint: 'Run `retina verify` on the dataset and rewrite the damaged shard (rerun its preprocess task with --force).',
  });
}

/** Open a source described by `descriptor` (in this thread). */
export async function openSource(descriptor: SourceDescriptor): Promise<SampleSource> {
  if (descriptor.kind === 'dataset') return new DatasetSource(descriptor, await openDataset(descriptor.dir));
  // The rows, rejects, split and order of `retina preprocess` (one module, the same --limit and
  // --skip-invalid), so that both sources feed identical batches.
  const li = await readLabelledImages(descriptor);
  if (li.problems.length > 0 && !descriptor.skipInvalid) throw invalidInputError(descriptor.labels, li.problems, li.items.length, descriptor.images);
  const { items } = splitAndOrder(li.items, descriptor.valFraction, descriptor.splitSeed);
  return new ImagesSource(descriptor, items.map((it) => ({ id: it.id, label: it.label, split: it.split, path: it.file })), li.problems);
}

/** Check that `--source` names `images` or a registered format. */
export function checkSourceName(source: string): void {
  if (source === 'images' || formatNames().includes(source)) return;
  throw new RetinaError('BAD_ARGUMENT', `Unknown source "${source}"; expected images or a format: ${formatNames().join(', ')}`);
}

/** Resolve a dataset folder and check it holds the format asked for. */
export async function openDatasetSource(dir: string, expectedFormat?: string): Promise<SampleSource> {
  const descriptor: SourceDescriptor = { kind: 'dataset', dir: resolve(dir) };
  const source = new DatasetSource(descriptor, await openDataset(descriptor.dir));
  const format = source.format;
  if (expectedFormat !== undefined && format !== expectedFormat) {
    await source.close();
    throw new RetinaError('BAD_ARGUMENT', `The dataset at ${dir} is in format "${format}", not "${expectedFormat}"`, {
      location: { file: dir }, hint: `Pass --source ${format}, or point --data at a ${expectedFormat} dataset.`,
    });
  }
  return source;
}
