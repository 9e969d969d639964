import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { indexDataset } from '../../../formats/dataset.js';
import { isDeadTemp, pidAlive } from '../../../src/core/stale-temps.js';
import { tempDir } from '../../helpers/cli.js';
import { writeShard } from '../../helpers/tensors.js';

describe('temp files of killed runs (#16 item 11)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir('integrity-temps-')));
  afterEach(() => cleanup());

  it('pidAlive and isDeadTemp tell a running writer from a gone one', async () => {
    expect(pidAlive(process.pid)).toBe(true);
    expect(pidAlive(4194303)).toBe(false);
    await writeFile(join(dir, `x.tmp-${process.ppid}-a`), '');
    expect(await isDeadTemp(dir, `x.tmp-${process.ppid}-a`)).toBe(false);
    expect(await isDeadTemp(dir, 'x.tmp-4194303-a')).toBe(true);
    expect(await isDeadTemp(dir, 'x.json')).toBe(false);
  });

  it('index removes manifest.json.tmp-* of a killed index, not of a live one', async () => {
    await writeShard(dir, 'raw', { dtype: 'uint8', shape: [2, 2, 3] }, 0, 1, 2);
    await writeFile(join(dir, 'manifest.json.tmp-4194303-deadbeef'), '{"half":');
    await writeFile(join(dir, `manifest.json.tmp-${process.ppid}-cafe`), '{"live":');
    await indexDataset(dir);
    expect((await readdir(dir)).sort()).toEqual(['manifest.json', `manifest.json.tmp-${process.ppid}-cafe`, 'shards']);
  });
});
