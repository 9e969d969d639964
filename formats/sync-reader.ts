import type { RecordTable } from './record-table.js';
import { checkIndex, checkTarget } from './shard-files.js';
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

  /** Read and verify record `index` (in range) into `target` (room checked). */
  protected abstract readRecord(index: number, target: Uint8Array, offset: number): RecordMeta;

  abstract close(): Promise<void>;
}
