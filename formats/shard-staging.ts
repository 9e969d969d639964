import { mkdir, open, readdir, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { xxh64File, xxh64Hex } from '../src/core/checksum.js';
import { ensureDir } from '../src/core/ensure-dir.js';
import { faultPoint } from '../src/core/fault-point.js';
import { withJsonChecksum } from '../src/core/json-checksum.js';
import { RetinaError } from '../src/core/errors.js';
import { replaceDir, syncDir, tempSibling, writeFileSynced } from '../src/core/atomic-write.js';
import { checkMeta, RECORD_TABLE_FILE, RecordTableBuilder } from './record-table.js';
import { checkTensor } from './shard-files.js';
import { byteLength, type RecordMeta, type ShardFile, type ShardManifest, type TensorSpec, type WriterOptions } from './types.js';

/** Name of the shard manifest inside a shard folder. */
export const SHARD_MANIFEST = 'shard.json';

/**
 * The common half of every shard writer: a temporary folder beside the final one, the record
 * table, and the commit that checksums every file, writes `shard.json` last, fsyncs and renames
 * the folder into place. A format writes its data files into `tmpDir` and calls `commit()`.
 */
export class ShardStaging {
  readonly table = new RecordTableBuilder();
  private state: 'open' | 'committed' | 'aborted' = 'open';

  private constructor(
    readonly format: string,
    readonly finalDir: string,
    readonly tmpDir: string,
    readonly opts: WriterOptions,
  ) {}

  static async create(format: string, opts: WriterOptions): Promise<ShardStaging> {
    if (!Number.isInteger(opts.count) || opts.count < 1 || !Number.isInteger(opts.index) || opts.index < 0 || opts.index >= opts.count) {
      throw new RetinaError('BAD_ARGUMENT', `Expected a shard INDEX/COUNT with 0 <= INDEX < COUNT but received ${opts.index}/${opts.count}`);
    }
    const tmpDir = tempSibling(opts.dir);
    await ensureDir(dirname(opts.dir), 'the dataset folder');
    await mkdir(tmpDir);
    return new ShardStaging(format, opts.dir, tmpDir, opts);
  }

  /**
   * Create a staging folder and build a writer on it; if building fails (e.g. the data file
   * cannot be opened), the folder is removed before the error propagates.
   */
  static async build<W>(format: string, opts: WriterOptions, make: (staging: ShardStaging) => W | Promise<W>): Promise<W> {
    const staging = await ShardStaging.create(format, opts);
    try {
      return await make(staging);
    } catch (err) {
      await staging.abort();
      throw err;
    }
  }

  get spec(): TensorSpec {
    return this.opts.spec;
  }

  private readonly ids = new Set<string>();
  private chain: Promise<unknown> = Promise.resolve();

  /**
   * Run `step` after every step queued before it, so appends, close and abort happen in call order
   * even when a caller does not await each append. A failed step does not block the next.
   */
  serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.chain.then(step, step);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * Check a record before a format stores it: writer open, metadata valid, id not already in this
   * shard (tfjs names weights by id; duplicates would also break lookups), tensor of the spec's size.
   */
  admit(meta: RecordMeta, tensor: Uint8Array): void {
    this.assertOpen();
    const n = this.table.count;
    checkMeta(meta, n);
    if (this.ids.has(meta.id)) {
      throw new RetinaError('BAD_ARGUMENT', `Record ${n} repeats id ${JSON.stringify(meta.id)}, already stored in this shard`, { location: { record: n, id: meta.id } });
    }
    checkTensor(tensor, byteLength(this.opts.spec), n, meta.id);
    this.ids.add(meta.id);
  }

  /** Throw unless the writer is still open (append after close/abort is a bug in the caller). */
  assertOpen(): void {
    if (this.state !== 'open') throw new RetinaError('BAD_ARGUMENT', `This ${this.format} shard writer is already ${this.state}`);
  }

  /**
   * Finish the shard: write the record table, checksum every file, write `shard.json` last, fsync,
   * and rename the folder into place (replacing an older shard folder of the same name).
   */
  async commit(extra: { skip?: (name: string) => boolean; headBytes?: (name: string, path: string, bytes: number) => Promise<number | undefined> } = {}): Promise<ShardManifest> {
    this.assertOpen();
    await writeFileSynced(join(this.tmpDir, RECORD_TABLE_FILE), JSON.stringify(this.table));
    faultPoint('commit:table');
    const names = (await readdir(this.tmpDir)).filter((n) => n !== SHARD_MANIFEST && !(extra.skip?.(n) ?? false)).sort();
    const files: ShardFile[] = [];
    for (const name of names) {
      const path = join(this.tmpDir, name);
      const { xxh64, bytes } = await xxh64File(path);
      const head = await extra.headBytes?.(name, path, bytes);
      if (head === undefined) files.push({ name, bytes, xxh64 });
      else files.push({ name, bytes, xxh64, head: { bytes: head, xxh64: xxh64Hex(await readHead(path, head)) } });
    }
    const { splits, labels } = this.table.summary();
    const manifest = withJsonChecksum<ShardManifest>({
      kind: 'retina-shard',
      version: 1,
      format: this.format,
      index: this.opts.index,
      count: this.opts.count,
      spec: { dtype: this.opts.spec.dtype, shape: [...this.opts.spec.shape] },
      records: this.table.count,
      splits,
      labels,
      files,
      params: this.opts.params ?? {},
      createdAt: new Date().toISOString(),
    });
    faultPoint('commit:checksums');
    await writeFileSynced(join(this.tmpDir, SHARD_MANIFEST), JSON.stringify(manifest, null, 1));
    faultPoint('commit:manifest');
    await syncDir(this.tmpDir);
    await replaceDir(this.tmpDir, this.finalDir);
    faultPoint('commit:renamed');
    this.state = 'committed';
    return manifest;
  }

  /** Remove the temporary folder; nothing a reader would accept is left. */
  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    await rm(this.tmpDir, { recursive: true, force: true });
  }
}

/** The first `bytes` bytes of a file. */
async function readHead(path: string, bytes: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Write all of `bytes` at `position` (a positioned write may be short). */
export async function writeAll(fh: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}
