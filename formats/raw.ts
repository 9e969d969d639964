import { closeSync, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { xxh64Of } from '../src/core/checksum.js';
import { npyHeader, npyHeaderLength, npyHeaderMatches } from './npy.js';
import type { RecordTable } from './record-table.js';
import { SyncShardReader } from './sync-reader.js';
import { checkFileSizes, corruptRecord, openRecordTable } from './shard-files.js';
import { SingleFileWriter } from './file-writer.js';
import { ShardStaging, writeAll } from './shard-staging.js';
import { byteLength, type RecordMeta, type ShardManifest, type ShardReader, type ShardWriter, type TensorFormat, type WriterOptions } from './types.js';

/**
 * `raw`: fixed-size records packed back to back in `data.npy`, a valid NumPy file of shape
 * [N, ...spec.shape] (so Python can `numpy.load(path, mmap_mode='r')` it), plus `records.json`
 * (ids, labels, splits, xxh64 of each record's tensor bytes). Record i lives at
 * `header + i * recordBytes`: a read is one positioned read straight into the caller's buffer.
 */

export const RAW_DATA_FILE = 'data.npy';

class RawWriter extends SingleFileWriter {
  private position: number;
  private readonly recordBytes: number;

  constructor(staging: ShardStaging, fh: FileHandle, headerBytes: number) {
    super(staging, fh);
    this.position = headerBytes;
    this.recordBytes = byteLength(staging.spec);
  }

  protected async write(meta: RecordMeta, tensor: Uint8Array): Promise<void> {
    const checksum = xxh64Of(tensor);
    await writeAll(this.fh, tensor, this.position);
    this.position += this.recordBytes;
    this.staging.table.add({ id: meta.id, label: meta.label, split: meta.split, checksum });
  }

  /** The header names the record count, so it is written last, over the space kept for it. */
  protected override async finish(): Promise<void> {
    const spec = this.staging.spec;
    await writeAll(this.fh, npyHeader(spec.dtype, this.staging.table.count, spec.shape), 0);
  }
}

class RawReader extends SyncShardReader {
  private fd: number | undefined;

  constructor(manifest: ShardManifest, table: RecordTable, fd: number, private readonly dataOffset: number) {
    super(manifest, table);
    this.fd = fd;
  }

  protected readRecord(index: number, target: Uint8Array, offset: number): RecordMeta {
    if (this.fd === undefined) throw corruptRecord(this.manifest, index, this.table.meta(index).id, 'the reader is closed');
    const n = this.recordBytes;
    this.preadRecord(this.fd, RAW_DATA_FILE, index, target, offset, n, this.dataOffset + index * n);
    if (xxh64Of(target.subarray(offset, offset + n)) !== this.table.checksums[index]) {
      throw corruptRecord(this.manifest, index, this.table.meta(index).id, 'tensor bytes fail their xxh64 checksum');
    }
    return this.table.meta(index);
  }

  async close(): Promise<void> {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** The raw format: see the module comment. */
export const rawFormat: TensorFormat = {
  name: 'raw',
  description: 'Fixed-size records in a NumPy .npy file; one positioned read per record.',

  async createWriter(opts: WriterOptions): Promise<ShardWriter> {
    return ShardStaging.build('raw', opts, async (staging) => {
      const fh = await open(join(staging.tmpDir, RAW_DATA_FILE), 'w');
      return new RawWriter(staging, fh, npyHeaderLength(opts.spec.dtype, opts.spec.shape));
    });
  },

  async openReader(dir: string, manifest: ShardManifest): Promise<ShardReader> {
    await checkFileSizes(dir, manifest);
    const table = await openRecordTable(dir, manifest);
    const spec = manifest.spec;
    const headerBytes = npyHeaderLength(spec.dtype, spec.shape);
    const fd = openSync(join(dir, RAW_DATA_FILE), 'r');
    try {
      const head = new Uint8Array(headerBytes);
      const got = readSync(fd, head, 0, headerBytes, 0);
      if (got !== headerBytes || !npyHeaderMatches(head, spec.dtype, table.count, spec.shape)) {
        throw corruptRecord(manifest, 0, table.count ? table.meta(0).id : '-', `${RAW_DATA_FILE} does not start with the expected NumPy header`);
      }
      return new RawReader(manifest, table, fd, headerBytes);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  },
};

export default rawFormat;
