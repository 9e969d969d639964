import { readSync } from 'node:fs';
import type { RecordTable } from './record-table.js';
import { checkIndex, checkTarget, corruptRecord } from './shard-files.js';
import { byteLength, type RecordMeta, type ShardManifest, type ShardReader, type TensorRecord } from './types.js';

/**
 * What the built-in readers share: metadata comes from the shard's record table, and every read
 * is synchronous (a positioned read or a copy out of a memory map, then the record checksum),
 * because from the page cache that costs microseconds, far less than a thread-pool round trip.
 * A subclass implements `readRecord` for one already-validated index and target.
 */
export abstract class SyncShardReader implements ShardReader {
  readonly count: number;
  protected readonly recordBytes: number;

  constructor(readonly manifest: ShardManifest, protected readonly table: RecordTable) {
    this.count = table.count;
    this.recordBytes = byteLength(manifest.spec);
  }

  meta(index: number): RecordMeta {
    checkIndex(index, this.count, `shard ${this.manifest.index}`);
    return this.table.meta(index);
  }

  /** Returns an owned copy (safe under `Promise.all`); `readInto` is the allocation-free path. */
  async get(index: number): Promise<TensorRecord> {
    const tensor = new Uint8Array(this.recordBytes);
    const meta = this.readIntoSync(index, tensor, 0);
    return { ...meta, tensor };
  }

  async readInto(index: number, target: Uint8Array, offset: number): Promise<RecordMeta> {
    return this.readIntoSync(index, target, offset);
  }

  /** Copy record `index` into `target` at `offset`, checksum verified; the batching fast path. */
  readIntoSync(index: number, target: Uint8Array, offset: number): RecordMeta {
    checkIndex(index, this.count, `shard ${this.manifest.index}`);
    checkTarget(target, offset, this.recordBytes);
    return this.readRecord(index, target, offset);
  }

  /**
   * Positioned read of exactly `length` bytes of record `index` from `fd` into `target` at
   * `offset` (a pread may return less than asked); end of file first means truncation.
   */
  protected preadRecord(fd: number, file: string, index: number, target: Uint8Array, offset: number, length: number, position: number): void {
    let done = 0;
    while (done < length) {
      const got = readSync(fd, target, offset + done, length - done, position + done);
      if (got === 0) throw corruptRecord(this.manifest, index, this.table.meta(index).id, `file ${file} ends inside the record (truncated)`);
      done += got;
    }
  }

  /** Read and verify record `index` (in range) into `target` (room checked). */
  protected abstract readRecord(index: number, target: Uint8Array, offset: number): RecordMeta;

  abstract close(): Promise<void>;
}
