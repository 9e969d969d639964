import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { xxh64Hex } from '../src/core/checksum.js';
import { RetinaError } from '../src/core/errors.js';
import type { ShardManifest } from './types.js';

/**
 * LMDB's two meta pages (pages 0 and 1 of data.mdb) say where everything else is. lmdb-js trusts
 * them: a flipped byte there (magic, version, page size, root or last page) made `open()` die with
 * SIGSEGV or SIGBUS, with nothing printed and nothing a caller can catch. So they are checked here
 * before lmdb ever maps the file: against the xxh64 of both pages that the writer put in
 * shard.json (`files[].head`), and, for shards written before that, by their structure.
 *
 * Layout (LMDB 1.0 data format 2, as lmdb-js 3 writes it; format 1 differs only before the
 * magic): page header with the page number at 0; the meta at 24: magic 0xBEEFC0DE (u32),
 * format version (u32), address (u64), map size (u64), then the free-list database whose first
 * field (u32 at 48) holds the page size. The free-list and main databases' roots (u64 at 88 and
 * 136) and the last page used (u64 at 144) must lie inside the file.
 */

const MAGIC = 0xbeefc0de;
const MAGIC_AT = 24;
const PSIZE_AT = 48;
const P_META = 0x08;
const INTEGERKEY = 0x08;
/** Flags the free-list database may carry (INTEGERKEY, and 0x4000 as LMDB 1.0 writes it). */
const FREE_DB_FLAGS = 0x4008;
/** The database flags LMDB defines (REVERSEKEY .. REVERSEDUP, and 0x4000). */
const MAIN_DB_FLAGS = 0x407e;
/** Enough of a page to hold its meta fields. */
const META_BYTES = 160;

function corrupt(m: ShardManifest, file: string, what: string): RetinaError {
  return new RetinaError('CORRUPT', `Shard ${m.index} (lmdb): ${file} is damaged: ${what}; it was not opened`, {
    location: { shard: m.index, file },
    hint: 'Run `retina verify` on the dataset, then rewrite this shard (rerun its preprocess task with --force).',
  });
}

/** Read `bytes` bytes at `position` (fewer at the end of the file). */
async function readAt(path: string, position: number, bytes: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, position);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Problems with meta page `n` (of page size `psize`) in a file of `fileBytes`, or undefined. */
function metaProblem(page: Buffer, n: number, psize: number, fileBytes: number): string | undefined {
  if (page.length < META_BYTES) return `meta page ${n} is cut short`;
  if (page.readUInt32LE(MAGIC_AT) !== MAGIC) return `meta page ${n} has no LMDB magic number`;
  const version = page.readUInt32LE(MAGIC_AT + 4);
  if (version !== 1 && version !== 2) return `meta page ${n} has data format ${version}`;
  if (page.readUInt32LE(PSIZE_AT) !== psize) return `meta page ${n} says page size ${page.readUInt32LE(PSIZE_AT)}, page 0 says ${psize}`;
  if (Number(page.readBigUInt64LE(0)) !== n) return `meta page ${n} is numbered ${page.readBigUInt64LE(0)}`;
  // Found by flipping every byte of both meta pages: besides the pointers, lmdb-js crashed on a
  // page not flagged P_META (u16 at 18) and on unknown free-list database flags (u16 at 52).
  if (page.readUInt16LE(18) !== P_META) return `meta page ${n} is not flagged as a meta page (flags ${page.readUInt16LE(18)})`;
  const freeFlags = page.readUInt16LE(52);
  if ((freeFlags & ~FREE_DB_FLAGS) !== 0 || (freeFlags & INTEGERKEY) === 0) return `meta page ${n} has free-list flags ${freeFlags}`;
  if ((page.readUInt16LE(100) & ~MAIN_DB_FLAGS) !== 0) return `meta page ${n} has database flags ${page.readUInt16LE(100)}`;
  const pages = Math.floor(fileBytes / psize);
  const last = page.readBigUInt64LE(144);
  if (last >= BigInt(pages)) return `meta page ${n} says its last page is ${last}, the file has ${pages}`;
  for (const at of [88, 136]) {
    const root = page.readBigUInt64LE(at);
    // ~0 (P_INVALID) is an empty database
    if (root !== 0xffffffffffffffffn && root > last) return `meta page ${n} points at page ${root}, past the last page ${last}`;
  }
  return undefined;
}

/** Bytes of both meta pages of a data.mdb just written (what `files[].head` covers). */
export async function lmdbHeadBytes(path: string, fileBytes: number): Promise<number> {
  const page0 = await readAt(path, 0, META_BYTES);
  const psize = page0.length >= META_BYTES ? page0.readUInt32LE(PSIZE_AT) : 0;
  if (!(psize >= 512 && psize <= 65536 && (psize & (psize - 1)) === 0) || 2 * psize > fileBytes) {
    throw new RetinaError('EXTERNAL', `${path}: lmdb wrote a file whose first page does not say a page size (found ${psize})`, { location: { file: path } });
  }
  return 2 * psize;
}

/**
 * Check the meta pages of `DIR/name` (the shard's data.mdb) before lmdb opens it. Throws CORRUPT
 * naming the shard and file.
 */
export async function checkLmdbMeta(dir: string, manifest: ShardManifest, name: string): Promise<void> {
  const path = join(dir, name);
  const entry = manifest.files.find((f) => f.name === name);
  if (!entry) throw corrupt(manifest, path, 'shard.json does not list it');
  if (entry.head !== undefined) {
    const head = await readAt(path, 0, entry.head.bytes);
    const sum = xxh64Hex(head);
    if (head.length !== entry.head.bytes || sum !== entry.head.xxh64) throw corrupt(manifest, path, `its meta pages (first ${entry.head.bytes} bytes) fail their xxh64 checksum (${sum}, shard.json says ${entry.head.xxh64})`);
    return;
  }
  // Written before shard.json listed the meta pages' checksum: check their structure instead.
  const page0 = await readAt(path, 0, META_BYTES);
  const psize = page0.length >= META_BYTES ? page0.readUInt32LE(PSIZE_AT) : 0;
  if (!(psize >= 512 && psize <= 65536 && (psize & (psize - 1)) === 0)) throw corrupt(manifest, path, `meta page 0 says page size ${psize}`);
  const page1 = await readAt(path, psize, META_BYTES);
  const problem = metaProblem(page0, 0, psize, entry.bytes) ?? metaProblem(page1, 1, psize, entry.bytes);
  if (problem) throw corrupt(manifest, path, problem);
}
