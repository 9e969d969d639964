import { RetinaError } from '../src/core/errors.js';
import { checkIndex } from './shard-files.js';
import type { DatasetManifest, DatasetReader, RecordMeta, ShardReader, Split, TensorRecord } from './types.js';

/**
 * All shards of a dataset seen as one: global record i runs over shard 0's records, then shard
 * 1's, and so on. Two lookup tables map a global index to (shard, local index) in O(1).
 */
export class CombinedReader implements DatasetReader {
  readonly count: number;
  private readonly shardOf: Uint32Array;
  private readonly localOf: Uint32Array;
  private closed = false;

  constructor(readonly dir: string, readonly manifest: DatasetManifest, private readonly readers: ShardReader[]) {
    this.count = readers.reduce((n, r) => n + r.count, 0);
    this.shardOf = new Uint32Array(this.count);
    this.localOf = new Uint32Array(this.count);
    let g = 0;
    readers.forEach((r, s) => {
      for (let i = 0; i < r.count; i++, g++) {
        this.shardOf[g] = s;
        this.localOf[g] = i;
      }
    });
  }

  /** The reader of shard `s` (in shard order); for tools that work shard by shard. */
  shard(s: number): ShardReader {
    const r = this.readers[s];
    if (!r) throw new RetinaError('BAD_ARGUMENT', `Expected a shard number in [0, ${this.readers.length}) but received ${s}`);
    return r;
  }

  get shardCount(): number {
    return this.readers.length;
  }

  private locate(index: number): [ShardReader, number] {
    if (this.closed) throw new RetinaError('BAD_ARGUMENT', `The dataset reader of ${this.dir} is closed`);
    checkIndex(index, this.count, `dataset ${this.dir}`);
    return [this.readers[this.shardOf[index]!]!, this.localOf[index]!];
  }

  meta(index: number): RecordMeta {
    const [r, i] = this.locate(index);
    return r.meta(i);
  }

  indicesOf(split: Split): number[] {
    const out: number[] = [];
    for (let g = 0; g < this.count; g++) {
      const [r, i] = [this.readers[this.shardOf[g]!]!, this.localOf[g]!];
      if (r.meta(i).split === split) out.push(g);
    }
    return out;
  }

  get(index: number): Promise<TensorRecord> {
    try {
      const [r, i] = this.locate(index);
      return r.get(i);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Not an async function on purpose: one less promise per record on the hot path. */
  readInto(index: number, target: Uint8Array, offset: number): Promise<RecordMeta> {
    try {
      const [r, i] = this.locate(index);
      return r.readInto(i, target, offset);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const results = await Promise.allSettled(this.readers.map((r) => r.close()));
    const failed = results.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
