import { closeSync, openSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { xxh64Of } from '../src/core/checksum.js';
import type { RecordTable } from './record-table.js';
import { SyncShardReader } from './sync-reader.js';
import { checkFileSizes, corruptRecord, openRecordTable } from './shard-files.js';
import { SingleFileWriter } from './file-writer.js';
import { ShardStaging, writeAll } from './shard-staging.js';
import { typedArrayOf } from './typed.js';
import type { RecordMeta, ShardManifest, ShardReader, ShardWriter, TensorFormat, WriterOptions } from './types.js';

/**
 * `msgpack`: one MessagePack map per record, `{id, label, split, dtype, shape, tensor}`. A uint8
 * tensor is a standard MessagePack `bin` (any MessagePack library reads it as bytes; msgpackr gives
 * a Uint8Array view of the input, no copy); float32 and float16 tensors are msgpackr typed arrays
 * (`moreTypes`: Float32Array, Uint16Array holding float16 bits), restored as such by msgpackr.
 * Each record is prefixed by its byte length (uint32 little-endian) in `records.msgpack`, so the
 * file can be streamed without the index. `records.json` holds each record's offset (of its
 * msgpack bytes, after the prefix), length and the xxh64 of those bytes, checked before decoding.
 */

export const MSGPACK_DATA_FILE = 'records.msgpack';

/** Decodes both forms; encodes typed arrays as msgpackr extensions. */
const packr = new Packr({ moreTypes: true, useRecords: false });
/** Encodes a Uint8Array as plain `bin`, which `packr` decodes to a view of the input: no copy. */
const binPackr = new Packr({ useRecords: false });

class MsgpackWriter extends SingleFileWriter {
  private position = 0;
  private readonly prefix = new Uint8Array(4);

  protected async write(meta: RecordMeta, tensor: Uint8Array): Promise<void> {
    const spec = this.staging.spec;
    const packed = (spec.dtype === 'uint8' ? binPackr : packr).pack({ id: meta.id, label: meta.label, split: meta.split, dtype: spec.dtype, shape: spec.shape, tensor: typedArrayOf(tensor, spec.dtype) });
    new DataView(this.prefix.buffer).setUint32(0, packed.length, true);
    await writeAll(this.fh, this.prefix, this.position);
    await writeAll(this.fh, packed, this.position + 4);
    this.staging.table.add({ ...pick(meta), checksum: xxh64Of(packed), offset: this.position + 4, length: packed.length });
    this.position += 4 + packed.length;
  }
}

function pick(m: RecordMeta): RecordMeta {
  return { id: m.id, label: m.label, split: m.split };
}

class MsgpackReader extends SyncShardReader {
  private fd: number | undefined;
  /** Reused for the encoded bytes of one record; sized to the largest record. */
  private readonly encoded: Uint8Array;

  constructor(manifest: ShardManifest, table: RecordTable, fd: number) {
    super(manifest, table);
    this.fd = fd;
    let max = 0;
    for (let i = 0; i < table.count; i++) max = Math.max(max, table.lengths[i]!);
    this.encoded = new Uint8Array(max);
  }

  protected readRecord(index: number, target: Uint8Array, offset: number): RecordMeta {
    const meta = this.table.meta(index);
    if (this.fd === undefined) throw corruptRecord(this.manifest, index, meta.id, 'the reader is closed');
    const length = this.table.lengths[index]!;
    const position = this.table.offsets[index]!;
    const buf = this.encoded.subarray(0, length);
    this.preadRecord(this.fd, MSGPACK_DATA_FILE, index, buf, 0, length, position);
    if (xxh64Of(buf) !== this.table.checksums[index]) throw corruptRecord(this.manifest, index, meta.id, 'record bytes fail their xxh64 checksum');
    let decoded: unknown;
    try {
      decoded = packr.unpack(buf);
    } catch (err) {
      throw corruptRecord(this.manifest, index, meta.id, `not a MessagePack record (${(err as Error).message})`);
    }
    const tensor = (decoded as { tensor?: unknown } | null)?.tensor;
    if (!ArrayBuffer.isView(tensor) || tensor.byteLength !== this.recordBytes) {
      throw corruptRecord(this.manifest, index, meta.id, `expected a ${this.recordBytes}-byte typed array in "tensor"`);
    }
    target.set(new Uint8Array(tensor.buffer, tensor.byteOffset, tensor.byteLength), offset);
    return meta;
  }

  async close(): Promise<void> {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** The msgpack format: see the module comment. */
export const msgpackFormat: TensorFormat = {
  name: 'msgpack',
  description: 'Length-prefixed MessagePack records (typed arrays preserved) with an offset index.',

  async createWriter(opts: WriterOptions): Promise<ShardWriter> {
    return ShardStaging.build('msgpack', opts, async (staging) => new MsgpackWriter(staging, await open(join(staging.tmpDir, MSGPACK_DATA_FILE), 'w')));
  },

  async openReader(dir: string, manifest: ShardManifest): Promise<ShardReader> {
    await checkFileSizes(dir, manifest);
    const table = await openRecordTable(dir, manifest, { offsets: true, lengths: true });
    return new MsgpackReader(manifest, table, openSync(join(dir, MSGPACK_DATA_FILE), 'r'));
  },
};

export default msgpackFormat;
