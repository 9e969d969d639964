import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { indexDataset, openDataset, shardPath } from '../../formats/dataset.js';
import { inspectDataset, verifyDataset } from '../../formats/verify.js';
import { withJsonChecksum } from '../../src/core/json-checksum.js';
import { tempDir } from '../helpers/cli.js';
import { writeShard } from '../helpers/tensors.js';
import type { TensorSpec } from '../../formats/types.js';
import { rejection } from '../helpers/errors.js';

const spec: TensorSpec = { dtype: 'uint8', shape: [4, 4, 3] };
const params = { size: 4, seed: 0, valFraction: 0.25 };

type Json = Record<string, unknown>;

async function editJson(path: string, edit: (v: Json) => void, opts: { rehash?: boolean } = {}): Promise<void> {
  const v = JSON.parse(await readFile(path, 'utf8')) as Json;
  edit(v);
  await writeFile(path, JSON.stringify(opts.rehash ? withJsonChecksum(v) : v, null, 1));
}

/** Does the dataset read as valid by both the trainer's loader and `verify`? Both must agree. */
async function judged(dir: string): Promise<{ open: boolean; verify: boolean; code?: string }> {
  let open = true;
  let code: string | undefined;
  try {
    const r = await openDataset(dir);
    await r.close();
  } catch (err) {
    open = false;
    code = (err as { code?: string }).code;
  }
  let verify: boolean;
  try {
    verify = (await verifyDataset(dir)).ok;
  } catch {
    verify = false;
  }
  return { open, verify, ...(code ? { code } : {}) };
}

describe('metadata integrity (#16 item 2, 10)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir('integrity-meta-')));
  afterEach(() => cleanup());

  it('every single-bit flip anywhere in shard.json fails both verify and open', async () => {
    await writeShard(dir, 'raw', spec, 0, 1, 4, params);
    const path = join(shardPath(dir, 0, 1), 'shard.json');
    const good = await readFile(path);
    let tried = 0;
    for (let at = 0; at < good.length; at++) {
      for (const bit of [0x01, 0x04]) {
        const bad = Buffer.from(good);
        bad[at]! ^= bit;
        await writeFile(path, bad);
        const j = await judged(dir);
        expect({ at, bit, ...j }).toEqual({ at, bit, open: false, verify: false, code: expect.any(String) });
        tried++;
      }
    }
    await writeFile(path, good);
    expect(await judged(dir)).toEqual({ open: true, verify: true });
    expect(tried).toBe(good.length * 2);
  });

  it('edited counts, seed, valFraction or size in shard.json are CORRUPT, and the "run retina index" hint is never given for them', async () => {
    await writeShard(dir, 'raw', spec, 0, 1, 4, params);
    await indexDataset(dir);
    const path = join(shardPath(dir, 0, 1), 'shard.json');
    const good = await readFile(path);
    const edits: Array<(v: Json) => void> = [
      (v) => { (v.params as Json).seed = 7; },
      (v) => { (v.params as Json).valFraction = 0.5; },
      (v) => { (v.params as Json).size = 8; },
      (v) => { v.records = 5; (v.splits as Json).train = 4; (v.labels as Json)['0'] = 2; },
    ];
    for (const edit of edits) {
      await editJson(path, edit);
      const err = await rejection(openDataset(dir));
      expect(err.code).toBe('CORRUPT');
      expect(err.message).toMatch(/shard\.json fails its checksum/);
      expect(err.hint ?? '').not.toMatch(/retina index/);
      const v = await rejection(verifyDataset(dir));
      expect(v.code).toBe('CORRUPT');
      expect(`${v.message} ${v.hint}`).not.toMatch(/retina index/);
      // Following the old hint does not make the edit official: index refuses the shard.
      expect((await rejection(indexDataset(dir))).code).toBe('CORRUPT');
      // inspect reads manifest.json, which is intact: it shows the values written, not the edit.
      expect(await inspectDataset(dir)).toMatchObject({ records: 4, params: params });
      await writeFile(path, good);
      await indexDataset(dir);
    }
    expect(await judged(dir)).toEqual({ open: true, verify: true });
  });

  it('edited totals or shardCount in manifest.json are CORRUPT in both verify and train', async () => {
    await writeShard(dir, 'raw', spec, 0, 1, 4, params);
    await indexDataset(dir);
    const path = join(dir, 'manifest.json');
    const good = await readFile(path);
    for (const edit of [(v: Json) => { v.records = 9; }, (v: Json) => { v.shardCount = 2; }, (v: Json) => { (v.labels as Json)['1'] = 3; }]) {
      await editJson(path, edit);
      expect(await judged(dir)).toEqual({ open: false, verify: false, code: 'CORRUPT' });
      await writeFile(path, good);
    }
  });

  it('datasets written before checksums still read; edits to their counts are caught by the record table', async () => {
    await writeShard(dir, 'raw', spec, 0, 1, 4, params);
    await indexDataset(dir);
    const shardJson = join(shardPath(dir, 0, 1), 'shard.json');
    const strip = (v: Json) => { delete v.checksum; for (const s of (v.shards as Json[] | undefined) ?? []) delete s.checksum; };
    await editJson(shardJson, strip);
    await editJson(join(dir, 'manifest.json'), strip);
    expect(await judged(dir)).toEqual({ open: true, verify: true });
    // consistent-looking totals, wrong against records.json
    await editJson(shardJson, (v) => { (v.splits as Json).train = 4; (v.splits as Json).val = 0; });
    await rm(join(dir, 'manifest.json'));
    expect(await judged(dir)).toEqual({ open: false, verify: false, code: 'CORRUPT' });
    // a flipped key name ("checksum" -> "chec{sum") is not mistaken for a legacy file
    await writeShard(dir, 'raw', spec, 0, 1, 4, params);
    await editJson(shardJson, (v) => { v['chec{sum'] = v.checksum; delete v.checksum; });
    expect((await judged(dir)).code).toBe('CORRUPT');
  });

  it('a damaged shard.json of a single-shard dataset without manifest.json is CORRUPT naming the file (not NOT_FOUND)', async () => {
    await writeShard(dir, 'raw', spec, 0, 1, 4, params);
    const path = join(shardPath(dir, 0, 1), 'shard.json');
    await writeFile(path, (await readFile(path, 'utf8')).replace('"records": 4', '"records": 3'));
    for (const run of [() => openDataset(dir), () => verifyDataset(dir), () => inspectDataset(dir)]) {
      const err = await rejection(run());
      expect(err.code).toBe('CORRUPT');
      expect(err.location.file).toBe(path);
      expect(err.location.shard).toBe(0);
    }
  });
});
