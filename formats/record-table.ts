import { hexOf, isXxh64Hex, parseXxh64Hex } from '../src/core/checksum.js';
import { RetinaError } from '../src/core/errors.js';
import type { RecordMeta, Split } from './types.js';

/**
 * The per-shard record table (`records.json`): id, label, split and checksum of every record, plus
 * where its bytes are for formats whose records vary in place (msgpack, tfjs). Stored by columns so
 * a 35,000-record shard stays a couple of MB and parses in milliseconds; readers keep it in typed
 * arrays so `meta(i)` costs no I/O and checksums compare as bigints.
 */

export const RECORD_TABLE_FILE = 'records.json';

/** One record's entry as a writer adds it. */
export interface RecordEntry extends RecordMeta {
  /** xxh64 of the record's stored bytes (see each format for which bytes). */
  checksum: bigint;
  offset?: number;
  length?: number;
  /** Index of the data file holding the record (tfjs). */
  file?: number;
}

const SPLIT_CODES: Record<Split, string> = { train: 't', val: 'v' };

/** Check a record's metadata before it is stored; a bad one is a BAD_ARGUMENT naming it. */
export function checkMeta(meta: RecordMeta, position: number): void {
  if (typeof meta.id !== 'string' || meta.id.length === 0 || meta.id.length > 1024) {
    throw new RetinaError('BAD_ARGUMENT', `Expected a non-empty id (at most 1024 characters) for record ${position} but received ${JSON.stringify(meta.id)}`, { location: { record: position } });
  }
  if (!Number.isInteger(meta.label) || meta.label < 0 || meta.label > 65535) {
    throw new RetinaError('BAD_ARGUMENT', `Expected an integer label in [0, 65535] for record ${position} (${meta.id}) but received ${JSON.stringify(meta.label)}`, { location: { record: position, id: meta.id } });
  }
  if (meta.split !== 'train' && meta.split !== 'val') {
    throw new RetinaError('BAD_ARGUMENT', `Expected split "train" or "val" for record ${position} (${meta.id}) but received ${JSON.stringify(meta.split)}`, { location: { record: position, id: meta.id } });
  }
}

/** Accumulates entries while a shard is written. */
export class RecordTableBuilder {
  private readonly ids: string[] = [];
  private readonly labels: number[] = [];
  private splits = '';
  private readonly sums: string[] = [];
  private readonly offsets: number[] = [];
  private readonly lengths: number[] = [];
  private readonly files: number[] = [];

  get count(): number {
    return this.ids.length;
  }

  add(e: RecordEntry): void {
    this.ids.push(e.id);
    this.labels.push(e.label);
    this.splits += SPLIT_CODES[e.split];
    this.sums.push(hexOf(e.checksum));
    if (e.offset !== undefined) this.offsets.push(e.offset);
    if (e.length !== undefined) this.lengths.push(e.length);
    if (e.file !== undefined) this.files.push(e.file);
  }

  /** Counts per split and per label, for the shard manifest. */
  summary(): { splits: Record<Split, number>; labels: Record<string, number> } {
    const splits: Record<Split, number> = { train: 0, val: 0 };
    const labels: Record<string, number> = {};
    for (let i = 0; i < this.ids.length; i++) {
      if (this.splits[i] === 'v') splits.val++;
      else splits.train++;
      const k = String(this.labels[i]);
      labels[k] = (labels[k] ?? 0) + 1;
    }
    return { splits, labels };
  }

  toJSON(): Record<string, unknown> {
    return {
      kind: 'retina-records',
      version: 1,
      count: this.ids.length,
      ids: this.ids,
      labels: this.labels,
      splits: this.splits,
      xxh64: this.sums,
      ...(this.offsets.length ? { offsets: this.offsets } : {}),
      ...(this.lengths.length ? { lengths: this.lengths } : {}),
      ...(this.files.length ? { files: this.files } : {}),
    };
  }
}

/** A validated record table, read-only, in typed arrays. */
export class RecordTable {
  private constructor(
    readonly count: number,
    private readonly ids: string[],
    private readonly labels: Uint16Array,
    private readonly splits: string,
    /** xxh64 of each record's stored bytes. */
    readonly checksums: BigUint64Array,
    /** Byte offset of each record (formats that store it), else empty. */
    readonly offsets: Float64Array,
    readonly lengths: Float64Array,
    readonly files: Uint32Array,
  ) {}

  /** Metadata objects, made on first use and shared after: reads allocate nothing per record. */
  private readonly metas: (RecordMeta | undefined)[] = [];

  /** Record `i`'s metadata: a frozen object shared by every call (copy it to change it). */
  meta(i: number): RecordMeta {
    let m = this.metas[i];
    if (!m) {
      m = Object.freeze({ id: this.ids[i] ?? '', label: this.labels[i] ?? 0, split: this.splitOf(i) });
      this.metas[i] = m;
    }
    return m;
  }

  splitOf(i: number): Split {
    return this.splits.charCodeAt(i) === 118 ? 'val' : 'train';
  }

  /**
   * Validate parsed JSON. `need` lists the location columns the format requires; `where` names the
   * file (and `shard` the shard) in errors.
   */
  static parse(v: unknown, where: string, shard: number, expectCount: number, need: { offsets?: boolean; lengths?: boolean; files?: boolean } = {}): RecordTable {
    const bad = (what: string): never => {
      throw new RetinaError('CORRUPT', `${where}: ${what}`, {
        location: { file: where, shard },
        hint: 'The record table is damaged; run `retina verify` and rewrite this shard (rerun its task with --force).',
      });
    };
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad('expected a JSON object');
    const o = v as Record<string, unknown>;
    if (o.kind !== 'retina-records' || o.version !== 1) bad('expected kind "retina-records", version 1');
    const n = o.count;
    if (n !== expectCount) bad(`expected ${expectCount} records (shard.json) but the table says ${JSON.stringify(n)}`);
    const ids = o.ids;
    if (!Array.isArray(ids) || ids.length !== n || !ids.every((s) => typeof s === 'string')) bad(`expected ${n} string ids`);
    const labels = o.labels;
    if (!Array.isArray(labels) || labels.length !== n || !labels.every((l) => Number.isInteger(l) && l >= 0 && l <= 65535)) bad(`expected ${n} integer labels`);
    const splits = o.splits;
    if (typeof splits !== 'string' || splits.length !== n || !/^[tv]*$/.test(splits)) bad(`expected ${n} split codes (t|v)`);
    const sums = o.xxh64;
    if (!Array.isArray(sums) || sums.length !== n || !sums.every(isXxh64Hex)) bad(`expected ${n} xxh64 checksums`);
    const numbers = (name: string, required: boolean | undefined): Float64Array => {
      const col = o[name];
      if (col === undefined && (!required || n === 0)) return new Float64Array(0);
      if (!Array.isArray(col) || col.length !== n || !col.every((x) => Number.isInteger(x) && x >= 0)) return bad(`expected ${n} non-negative integers in "${name}"`);
      return Float64Array.from(col as number[]);
    };
    const checksums = new BigUint64Array(n as number);
    (sums as string[]).forEach((h, i) => {
      checksums[i] = parseXxh64Hex(h);
    });
    return new RecordTable(
      n as number,
      ids as string[],
      Uint16Array.from(labels as number[]),
      splits as string,
      checksums,
      numbers('offsets', need.offsets),
      numbers('lengths', need.lengths),
      Uint32Array.from(numbers('files', need.files)),
    );
  }
}
