import { closeSync, openSync } from 'node:fs';
import { open, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { xxh64Of } from '../src/core/checksum.js';
import type { RecordTable } from './record-table.js';
import { SyncShardReader } from './sync-reader.js';
import { checkFileSizes, corruptRecord, openRecordTable, readVerifiedFile } from './shard-files.js';
import { ShardStaging, writeAll } from './shard-staging.js';
import { byteLength, type DType, type RecordMeta, type ShardManifest, type ShardReader, type ShardWriter, type TensorFormat, type WriterOptions } from './types.js';

/**
 * `tfjs`: the TensorFlow.js weights layout. `weights_manifest.json` holds
 * `{weightsManifest: [{paths: ['group1-shard1ofN.bin', …], weights: [{name, shape, dtype,
 * quantization?}, …]}]}`: one weight per record, named by the record id, in record order; the
 * binary files, read in `paths` order, are the weights back to back, exactly what
 * `tf.io.decodeWeights(buffer, weights)` expects. uint8 is stored as tfjs uint8 quantization
 * (scale 1, min 0) and float16 as float16 quantization, so tfjs decodes both to float32 values.
 * Files are bounded in size (`maxFileBytes`, default 64 MiB); a record never straddles two files
 * (a record larger than the bound gets a file of its own). `records.json` holds each record's
 * file, offset, and the xxh64 of its bytes.
 */

export const TFJS_MANIFEST_FILE = 'weights_manifest.json';
export const TFJS_DEFAULT_FILE_BYTES = 64 << 20;

/** One entry of a tfjs weights group (tfjs-core `WeightsManifestEntry`). */
export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
  quantization?: { dtype: 'uint8'; scale: number; min: number } | { dtype: 'float16' };
}

function weightSpec(name: string, dtype: DType, shape: number[]): TfjsWeightSpec {
  if (dtype === 'uint8') return { name, shape, dtype: 'float32', quantization: { dtype: 'uint8', scale: 1, min: 0 } };
  if (dtype === 'float16') return { name, shape, dtype: 'float32', quantization: { dtype: 'float16' } };
  return { name, shape, dtype: 'float32' };
}

const partName = (k: number) => `part-${String(k).padStart(5, '0')}.bin`;

class TfjsWriter implements ShardWriter {
  private readonly recordBytes: number;
  private fh: FileHandle | undefined;
  private files = 0;
  private fileBytes = 0;
  private readonly weights: TfjsWeightSpec[] = [];

  constructor(private readonly staging: ShardStaging, private readonly maxFileBytes: number) {
    this.recordBytes = byteLength(staging.spec);
  }

  append(meta: RecordMeta, tensor: Uint8Array): Promise<void> {
    return this.staging.serial(() => this.appendNow(meta, tensor));
  }

  private async appendNow(meta: RecordMeta, tensor: Uint8Array): Promise<void> {
    this.staging.admit(meta, tensor);
    if (!this.fh || (this.fileBytes > 0 && this.fileBytes + this.recordBytes > this.maxFileBytes)) await this.nextFile();
    await writeAll(this.fh!, tensor, this.fileBytes);
    this.staging.table.add({ id: meta.id, label: meta.label, split: meta.split, checksum: xxh64Of(tensor), file: this.files - 1, offset: this.fileBytes });
    this.weights.push(weightSpec(meta.id, this.staging.spec.dtype, [...this.staging.spec.shape]));
    this.fileBytes += this.recordBytes;
  }

  private async nextFile(): Promise<void> {
    await this.finishFile();
    this.fh = await open(join(this.staging.tmpDir, partName(this.files)), 'w');
    this.files++;
    this.fileBytes = 0;
  }

  private async finishFile(): Promise<void> {
    if (!this.fh) return;
    await this.fh.sync();
    await this.fh.close();
    this.fh = undefined;
  }

  close(): Promise<ShardManifest> {
    return this.staging.serial(() => this.closeNow());
  }

  private async closeNow(): Promise<ShardManifest> {
    this.staging.assertOpen();
    await this.finishFile();
    // Final names follow the tfjs converter (group1-shardKofN.bin), known only now that N is.
    const paths: string[] = [];
    for (let k = 0; k < this.files; k++) {
      const name = `group1-shard${k + 1}of${this.files}.bin`;
      await rename(join(this.staging.tmpDir, partName(k)), join(this.staging.tmpDir, name));
      paths.push(name);
    }
    const manifest = { format: 'retina-tfjs', version: 1, weightsManifest: [{ paths, weights: this.weights }] };
    const fh = await open(join(this.staging.tmpDir, TFJS_MANIFEST_FILE), 'w');
    await fh.writeFile(JSON.stringify(manifest));
    await fh.sync();
    await fh.close();
    return this.staging.commit();
  }

  abort(): Promise<void> {
    return this.staging.serial(() => this.abortNow());
  }

  private async abortNow(): Promise<void> {
    await this.fh?.close().catch(() => undefined);
    await this.staging.abort();
  }
}

/** Validate the parts of a weights manifest the reader relies on; returns the file paths. */
function parsePaths(v: unknown, manifest: ShardManifest, where: string): string[] {
  const groups = (v as { weightsManifest?: unknown } | null)?.weightsManifest;
  const group = Array.isArray(groups) && groups.length === 1 ? (groups[0] as { paths?: unknown; weights?: unknown }) : undefined;
  const paths = group?.paths;
  const weights = group?.weights;
  if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string' && manifest.files.some((f) => f.name === p)) || !Array.isArray(weights) || weights.length !== manifest.records) {
    throw corruptRecord(manifest, 0, '-', `${where} is not a weights manifest of ${manifest.records} records whose paths are files of the shard`);
  }
  return paths as string[];
}

class TfjsReader extends SyncShardReader {
  /** One descriptor per data file, opened on first use and kept open. */
  private readonly fds: number[];
  private closed = false;

  constructor(manifest: ShardManifest, table: RecordTable, private readonly dir: string, private readonly paths: string[]) {
    super(manifest, table);
    this.fds = paths.map(() => -1);
  }

  private fdOf(file: number, index: number, id: string): number {
    const fd = this.fds[file];
    if (fd === undefined) throw corruptRecord(this.manifest, index, id, `records.json names data file ${file}, but the weights manifest lists ${this.paths.length}`);
    if (fd >= 0) return fd;
    const opened = openSync(join(this.dir, this.paths[file]!), 'r');
    this.fds[file] = opened;
    return opened;
  }

  protected readRecord(index: number, target: Uint8Array, offset: number): RecordMeta {
    const meta = this.table.meta(index);
    if (this.closed) throw corruptRecord(this.manifest, index, meta.id, 'the reader is closed');
    const fd = this.fdOf(this.table.files[index]!, index, meta.id);
    const n = this.recordBytes;
    const position = this.table.offsets[index]!;
    this.preadRecord(fd, this.paths[this.table.files[index]!]!, index, target, offset, n, position);
    if (xxh64Of(target.subarray(offset, offset + n)) !== this.table.checksums[index]) throw corruptRecord(this.manifest, index, meta.id, 'tensor bytes fail their xxh64 checksum');
    return meta;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const fd of this.fds) if (fd >= 0) closeSync(fd);
    this.fds.fill(-1);
  }
}

/** A tfjs format whose binary files hold at most `maxFileBytes` (except a single larger record). */
export function createTfjsFormat(opts: { maxFileBytes?: number } = {}): TensorFormat {
  const maxFileBytes = opts.maxFileBytes ?? TFJS_DEFAULT_FILE_BYTES;
  return {
    name: 'tfjs',
    description: 'TensorFlow.js weights layout (weightsManifest + bounded .bin files), readable by tf.io.decodeWeights.',

    async createWriter(wopts: WriterOptions): Promise<ShardWriter> {
      return ShardStaging.build('tfjs', wopts, (staging) => new TfjsWriter(staging, maxFileBytes));
    },

    async openReader(dir: string, manifest: ShardManifest): Promise<ShardReader> {
      await checkFileSizes(dir, manifest);
      const table = await openRecordTable(dir, manifest, { offsets: true, files: true });
      const bytes = await readVerifiedFile(dir, manifest, TFJS_MANIFEST_FILE);
      let parsed: unknown;
      try {
        parsed = JSON.parse(bytes.toString('utf8'));
      } catch {
        parsed = undefined;
      }
      return new TfjsReader(manifest, table, dir, parsePaths(parsed, manifest, join(dir, TFJS_MANIFEST_FILE)));
    },
  };
}

export const tfjsFormat: TensorFormat = createTfjsFormat();

export default tfjsFormat;
