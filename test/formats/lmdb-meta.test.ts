import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openDataset, shardPath } from '../../formats/dataset.js';
import { withJsonChecksum } from '../../src/core/json-checksum.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import { writeShard } from '../helpers/tensors.js';
import { rejection } from '../helpers/errors.js';

const spec = { dtype: 'uint8' as const, shape: [8, 8, 3] };

function flipAll(dataset: string, offsets: number[]): Promise<{ code: number | null; signal: string | null; out: { outcomes: Record<string, number>; silent: number[] } | undefined; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'test/formats/lmdb-meta-child.ts'), dataset, offsets.join(',')], { cwd: ROOT, timeout: 120_000 }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: number; signal?: string }) | null;
      let out;
      try { out = JSON.parse(String(stdout)); } catch { out = undefined; }
      resolve({ code: e ? (e.code ?? null) : 0, signal: e?.signal ?? null, out, stderr: String(stderr) });
    });
  });
}

/** Bytes 0-191 of each meta page (page size 4096): page header, magic, version, both databases, last page, txnid. */
const META_OFFSETS = [...Array.from({ length: 192 }, (_, i) => i), ...Array.from({ length: 192 }, (_, i) => 4096 + i)];

describe('lmdb meta pages (#16 item 4)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir('integrity-lmdb-')));
  afterEach(() => cleanup());

  it('shard.json records the checksum of both meta pages; all 384 single-byte flips over them are CORRUPT naming the shard, none crashes', async () => {
    const m = await writeShard(dir, 'lmdb', spec, 0, 1, 6);
    expect(m.files.find((f) => f.name === 'data.mdb')?.head).toEqual({ bytes: 8192, xxh64: expect.stringMatching(/^[0-9a-f]{16}$/) });
    const r = await flipAll(dir, META_OFFSETS);
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
    expect(r.out).toEqual({ outcomes: { CORRUPT: 384 }, silent: [] });
    const bytes = await readFile(join(shardPath(dir, 0, 1), 'data.mdb'));
    bytes[25]! ^= 0xff;
    await writeFile(join(shardPath(dir, 0, 1), 'data.mdb'), bytes);
    const err = await rejection(openDataset(dir));
    expect(err.location).toMatchObject({ shard: 0, file: join(shardPath(dir, 0, 1), 'data.mdb') });
    expect(err.message).toMatch(/meta pages .* fail their xxh64 checksum/);
  }, 180_000);

  it('a shard written before the meta checksum: the structure is checked, no flip crashes the process', async () => {
    await writeShard(dir, 'lmdb', spec, 0, 1, 6);
    const sj = join(shardPath(dir, 0, 1), 'shard.json');
    const v = JSON.parse(await readFile(sj, 'utf8')) as { files: Array<{ head?: unknown }> };
    for (const f of v.files) delete f.head;
    await writeFile(sj, JSON.stringify(withJsonChecksum(v)));
    const r = await flipAll(dir, META_OFFSETS);
    expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    // Flips that lmdb never looks at (padding, unused fields) read back the right, checksummed records.
    expect(Object.keys(r.out!.outcomes).every((k) => k === 'CORRUPT' || k === 'read')).toBe(true);
    expect(r.out!.outcomes.CORRUPT).toBeGreaterThan(0);
  }, 180_000);
});
