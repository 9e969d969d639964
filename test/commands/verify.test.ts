import { stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardPath } from '../../formats/dataset.js';
import { formatNames } from '../../formats/format-registry.js';
import type { TensorSpec } from '../../formats/types.js';
import type { VerifyResult } from '../../formats/verify.js';
import { parseJson, runCli, tempDir } from '../helpers/cli.js';
import { dataFile, flipInRecord, writeShard } from '../helpers/tensors.js';

const spec: TensorSpec = { dtype: 'uint8', shape: [8, 8, 3] };

describe.each(formatNames())('retina verify (%s)', (format) => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir(`retina-verify-${format}-`)));
  afterAll(() => cleanup());

  it('passes a sound dataset, then names a flipped byte and a truncated shard', async () => {
    const ds = join(dir, 'ds');
    const m0 = await writeShard(ds, format, spec, 0, 2, 4);
    const m1 = await writeShard(ds, format, spec, 1, 2, 5);

    const ok = await runCli(['verify', ds, '--json']);
    expect(ok.code).toBe(0);
    expect(parseJson<VerifyResult>(ok)).toMatchObject({ ok: true, records: 9, errors: [] });

    await flipInRecord(shardPath(ds, 1, 2), m1, spec, 100_002);
    const flipped = await runCli(['verify', ds, '--json']);
    expect(flipped.code).toBe(5);
    const fr = parseJson<VerifyResult>(flipped);
    expect(fr.ok).toBe(false);
    expect(fr.errors).toContainEqual(expect.objectContaining({ shard: 1, record: 2, reason: expect.stringMatching(/checksum/) }));

    const path = join(shardPath(ds, 0, 2), dataFile(m0));
    await truncate(path, (await stat(path)).size - 7);
    const human = await runCli(['verify', ds]);
    expect(human.code).toBe(5);
    expect(human.stderr).toMatch(/shard 0\/2, .*truncated/);
    expect(human.stderr).toMatch(/shard 1\/2, record 2/);
    const tr = parseJson<VerifyResult>(await runCli(['verify', ds, '--json']));
    expect(tr.errors).toContainEqual(expect.objectContaining({ shard: 0, record: null, file: dataFile(m0), reason: expect.stringMatching(/truncated/) }));
  });
});

describe('retina verify (arguments)', () => {
  it('a folder that is no dataset is NOT_FOUND (exit 4)', async () => {
    const r = await runCli(['verify', '/nonexistent/retina-ds', '--json']);
    expect(r.code).toBe(4);
    expect(parseJson<{ error: { code: string } }>(r).error.code).toBe('NOT_FOUND');
  });
});
