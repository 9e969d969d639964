/**
 * The tensor-storage contract shared by every format. A dataset is a folder:
 *
 *   DATASET/manifest.json                      combined manifest, written by `retina index`
 *   DATASET/shards/shard-00003-of-00008/       one folder per shard, written by one process
 *   DATASET/shards/shard-00003-of-00008/shard.json   the shard manifest, written last
 *
 * A shard folder is created under a temporary name (`.tmp-…` suffix) and renamed into place only
 * after its files and `shard.json` are complete, so a folder with the final name and a valid
 * `shard.json` is a complete shard and nothing else is.
 */

/** Element type of a stored tensor. */
export type DType = 'uint8' | 'float16' | 'float32';

export const DTYPES: readonly DType[] = ['uint8', 'float16', 'float32'];

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Record<DType, number> = { uint8: 1, float16: 2, float32: 4 };

/** Shape and dtype shared by every record of a dataset (HWC for images). */
export interface TensorSpec {
  dtype: DType;
  shape: number[];
}

export type Split = 'train' | 'val';

/** What a record says about its image. */
export interface RecordMeta {
  id: string;
  /** DR grade 0-4. */
  label: number;
  split: Split;
}

/**
 * One record as read back. `tensor` holds exactly `byteLength(spec)` bytes in the dataset's dtype,
 * little-endian, and belongs to the caller: every reader returns a fresh copy (safe to keep and
 * under `Promise.all`). `readInto` is the allocation-free path for batches.
 */
export interface TensorRecord extends RecordMeta {
  tensor: Uint8Array;
}

/** A file of a shard with its size and checksum (xxh64, 16 hex digits). */
export interface ShardFile {
  name: string;
  bytes: number;
  xxh64: string;
  /**
   * xxh64 of the file's first `bytes` bytes, checked on every open where the format needs its
   * header sound before a library reads it (LMDB's meta pages: formats/lmdb-meta.ts).
   */
  head?: { bytes: number; xxh64: string };
}

/** Contents of `shard.json`. */
export interface ShardManifest {
  /** Literally "retina-shard". */
  kind: 'retina-shard';
  version: 1;
  format: string;
  index: number;
  count: number;
  spec: TensorSpec;
  records: number;
  splits: Record<Split, number>;
  /** Records per grade, keyed "0".."4". */
  labels: Record<string, number>;
  files: ShardFile[];
  /** Free-form parameters of the producer (preprocess flags), identical across shards of a run. */
  params: Record<string, unknown>;
  createdAt: string;
  /** `xxh64:<hex>` of the canonical JSON of the other fields (src/core/json-checksum.ts); absent in files written before it. */
  checksum?: string;
}

/** Contents of `DATASET/manifest.json`. */
export interface DatasetManifest {
  kind: 'retina-dataset';
  version: 1;
  format: string;
  spec: TensorSpec;
  shardCount: number;
  records: number;
  splits: Record<Split, number>;
  labels: Record<string, number>;
  params: Record<string, unknown>;
  shards: ShardManifest[];
  /** As in ShardManifest: absent in manifests written before checksums. */
  checksum?: string;
}

/** Writes one shard. Records are appended in order; `close()` makes the shard visible. */
export interface ShardWriter {
  /** Append one record; `tensor` may be reused by the caller once the promise resolves. */
  append(meta: RecordMeta, tensor: Uint8Array): Promise<void>;
  /** Flush, checksum, write `shard.json` last, rename into place. */
  close(): Promise<ShardManifest>;
  /** Remove everything written; leave nothing a reader would accept. */
  abort(): Promise<void>;
}

/** Reads one complete shard. */
export interface ShardReader {
  readonly count: number;
  readonly manifest: ShardManifest;
  /** Metadata of record `index` without reading its tensor. */
  meta(index: number): RecordMeta;
  /** Read record `index` into a fresh, caller-owned record (see TensorRecord). Verifies its checksum. */
  get(index: number): Promise<TensorRecord>;
  /**
   * Copy record `index`'s tensor bytes into `target` at `offset` and return its metadata: the fast
   * path for batching (one copy, no allocation). Verifies its checksum.
   */
  readInto(index: number, target: Uint8Array, offset: number): Promise<RecordMeta>;
  close(): Promise<void>;
}

/** Where a writer puts its shard and what it stores. */
export interface WriterOptions {
  /** Final shard folder (`DATASET/shards/shard-iiiii-of-nnnnn`); the writer works in a temp sibling. */
  dir: string;
  index: number;
  count: number;
  spec: TensorSpec;
  params?: Record<string, unknown>;
}

/** A storage format: one module, one registry line. */
export interface TensorFormat {
  readonly name: string;
  readonly description: string;
  createWriter(opts: WriterOptions): Promise<ShardWriter>;
  /** Open a complete shard folder whose manifest has been read and validated. */
  openReader(dir: string, manifest: ShardManifest): Promise<ShardReader>;
}

/** Number of bytes of one tensor of `spec`. */
export function byteLength(spec: TensorSpec): number {
  return spec.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[spec.dtype];
}

/** Folder name of shard `index` of `count`. */
export function shardDirName(index: number, count: number): string {
  return `shard-${String(index).padStart(5, '0')}-of-${String(count).padStart(5, '0')}`;
}

/**
 * All complete shards of a dataset seen as one: global record index `i` runs over shard 0's
 * records, then shard 1's, and so on. Implemented in `formats/dataset.ts` (`openDataset`).
 */
export interface DatasetReader {
  readonly dir: string;
  readonly manifest: DatasetManifest;
  readonly count: number;
  meta(index: number): RecordMeta;
  /** Global indices of the records of one split, ascending. */
  indicesOf(split: Split): number[];
  get(index: number): Promise<TensorRecord>;
  readInto(index: number, target: Uint8Array, offset: number): Promise<RecordMeta>;
  close(): Promise<void>;
}
