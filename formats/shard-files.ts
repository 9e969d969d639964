import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { xxh64Hex } from '../src/core/checksum.js';
import { RetinaError } from '../src/core/errors.js';
import { RECORD_TABLE_FILE, RecordTable } from './record-table.js';
import type { ShardFile, ShardManifest } from './types.js';

/**
 * Reader-side helpers shared by the formats: truncation checks on open, small files verified in
 * full, and the one error shape for a bad record.
 */

/** The manifest entry of file `name`; CORRUPT if the manifest does not list it. */
export function fileEntry(manifest: ShardManifest, name: string): ShardFile {
  const f = manifest.files.find((x) => x.name === name);
  if (!f) {
    throw new RetinaError('CORRUPT', `Shard ${manifest.index} (${manifest.format}) lists no file "${name}" in shard.json`, {
      location: { shard: manifest.index, file: name },
      hint: 'Rewrite this shard (rerun its preprocess task with --force).',
    });
  }
  return f;
}

/**
 * Compare every file's size with the manifest: a missing or short file (a truncated copy, a full
 * disk) is found on open, before any record is returned.
 */
export async function checkFileSizes(dir: string, manifest: ShardManifest): Promise<void> {
  for (const f of manifest.files) {
    let size: number;
    try {
      size = (await stat(join(dir, f.name))).size;
    } catch (err) {
      throw new RetinaError('CORRUPT', `Shard ${manifest.index}: file ${f.name} is missing from ${dir}`, {
        location: { shard: manifest.index, file: join(dir, f.name) },
        hint: 'Rewrite this shard (rerun its preprocess task with --force).',
        cause: err,
      });
    }
    if (size !== f.bytes) {
      throw new RetinaError('CORRUPT', `Shard ${manifest.index}: file ${f.name} has ${size} bytes but shard.json says ${f.bytes} (${size < f.bytes ? 'truncated' : 'grown'})`, {
        location: { shard: manifest.index, file: join(dir, f.name) },
        hint: 'The copy is incomplete or the file was changed; copy it again or rewrite this shard (rerun its task with --force).',
      });
    }
  }
}

/** Read a whole (small) shard file and check its xxh64 against the manifest. */
export async function readVerifiedFile(dir: string, manifest: ShardManifest, name: string): Promise<Buffer> {
  const entry = fileEntry(manifest, name);
  const bytes = await readFile(join(dir, name));
  const sum = xxh64Hex(bytes);
  if (sum !== entry.xxh64 || bytes.length !== entry.bytes) {
    throw new RetinaError('CORRUPT', `Shard ${manifest.index}: file ${name} fails its checksum (xxh64 ${sum}, shard.json says ${entry.xxh64})`, {
      location: { shard: manifest.index, file: join(dir, name) },
      hint: 'Run `retina verify` on the dataset and rewrite the damaged shard (rerun its task with --force).',
    });
  }
  return bytes;
}

/** Read, verify and parse the shard's record table. */
export async function openRecordTable(
  dir: string,
  manifest: ShardManifest,
  need: { offsets?: boolean; lengths?: boolean; files?: boolean } = {},
): Promise<RecordTable> {
  const bytes = await readVerifiedFile(dir, manifest, RECORD_TABLE_FILE);
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new RetinaError('CORRUPT', `Shard ${manifest.index}: ${RECORD_TABLE_FILE} is not JSON`, { location: { shard: manifest.index, file: join(dir, RECORD_TABLE_FILE) }, cause: err });
  }
  const table = RecordTable.parse(parsed, join(dir, RECORD_TABLE_FILE), manifest.index, manifest.records, need);
  checkSummary(dir, manifest, table);
  return table;
}

/**
 * shard.json's split and label counts must be the record table's: the table is covered by its
 * file checksum, so this catches counts edited in a shard.json written before shard.json had a
 * checksum of its own (and keeps `inspect` from printing numbers no reader would see).
 */
function checkSummary(dir: string, manifest: ShardManifest, table: RecordTable): void {
  let val = 0;
  const labels: Record<string, number> = {};
  for (let i = 0; i < table.count; i++) {
    const m = table.meta(i);
    if (m.split === 'val') val++;
    labels[m.label] = (labels[m.label] ?? 0) + 1;
  }
  const stated = Object.entries(manifest.labels).filter(([, n]) => n > 0);
  const same = manifest.splits.val === val && manifest.splits.train === table.count - val
    && stated.length === Object.keys(labels).length && stated.every(([k, n]) => labels[k] === n);
  if (!same) {
    throw new RetinaError('CORRUPT', `Shard ${manifest.index}: shard.json's counts (splits ${JSON.stringify(manifest.splits)}, labels ${JSON.stringify(manifest.labels)}) are not those of its ${RECORD_TABLE_FILE} (val ${val}, labels ${JSON.stringify(labels)})`, {
      location: { shard: manifest.index, file: join(dir, 'shard.json') },
      hint: 'shard.json was edited or damaged; rewrite this shard (rerun its preprocess task with --force).',
    });
  }
}

/** The error for a record whose bytes are wrong or cannot be read. */
export function corruptRecord(manifest: ShardManifest, record: number, id: string, reason: string): RetinaError {
  return new RetinaError('CORRUPT', `Shard ${manifest.index} (${manifest.format}), record ${record} (${id}): ${reason}`, {
    location: { shard: manifest.index, record, id },
    hint: 'Run `retina verify` on the dataset, then rewrite the damaged shard (rerun its preprocess task with --force).',
  });
}

/** Throw a BAD_ARGUMENT unless `i` is a record index of a shard (or dataset) of `count` records. */
export function checkIndex(i: number, count: number, what: string): void {
  if (!Number.isInteger(i) || i < 0 || i >= count) {
    throw new RetinaError('BAD_ARGUMENT', `Expected a record index in [0, ${count}) for ${what} but received ${i}`);
  }
}

/** Throw a BAD_ARGUMENT unless `target` has room for `bytes` bytes at `offset`. */
export function checkTarget(target: Uint8Array, offset: number, bytes: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + bytes > target.length) {
    throw new RetinaError('BAD_ARGUMENT', `Expected room for ${bytes} bytes at offset ${offset} of the target but it holds ${target.length}`);
  }
}

/** Throw a BAD_ARGUMENT unless `tensor` has exactly the spec's byte length. */
export function checkTensor(tensor: Uint8Array, bytes: number, position: number, id: string): void {
  if (!(tensor instanceof Uint8Array) || tensor.byteLength !== bytes) {
    throw new RetinaError('BAD_ARGUMENT', `Expected a Uint8Array of ${bytes} bytes for record ${position} (${id}) but received ${tensor instanceof Uint8Array ? `${tensor.byteLength} bytes` : typeof tensor}`, {
      location: { record: position, id },
    });
  }
}
