import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { openDataset } from '../../formats/dataset.js';
import { parseJson, runCli } from '../helpers/cli.js';
import { kaggleVariants, type KaggleVariants } from '../helpers/kaggle-variants.js';

interface ErrorBody { error: { code: string; message: string; line?: number; file?: string; id?: string; hint?: string } }

let cleanup: () => Promise<void>;
let _kaggle: string;
let ids: string[];
let variant: KaggleVariants['variant'];

beforeAll(async () => {
  ({ _kaggle, ids, variant, cleanup } = await kaggleVariants('integrity-hostile-', { count: 6, seed: 5, size: { width: 96, height: 72 } }));
});
afterAll(() => cleanup());
const run = (cwd: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) =>
  runCli(['preprocess', '--format', 'raw', '--size', '16', '--json', ...(args.includes('--val-fraction') ? [] : ['--val-fraction', '0']), ...args], { cwd, env, timeoutMs: 240_000 });

// Each case runs the CLI a few times: generous limits for a loaded CI machine (load 20 on 2 cores seen).
describe('hostile inputs (#16 items 3, 5, 6, 12)', { timeout: 600_000 }, () => {
  it('the same image under two ids (10_left and 10_left.jpeg, or a symlink) is a duplicate, not two records', async () => {
    const dir = await variant((t) => `${t.trimEnd()}\n${ids[0]}.jpeg,4\n`);
    const r = await run(dir);
    expect(r.code).toBe(3);
    const e = parseJson<ErrorBody>(r).error;
    expect(e.message).toMatch(new RegExp(`duplicate ids: line 8 \\(${ids[0]}\\.jpeg\\): the same image file as ${ids[0]} on line 2`));
    const ok = await run(dir, ['--skip-invalid']);
    expect(ok.code).toBe(0);
    expect(parseJson<{ records: number; rejected: number }>(ok)).toMatchObject({ records: 6, rejected: 1 });
    // a symlink to another row's image
    const linked = await variant((t) => `${t.trimEnd()}\nalias,3\n`);
    await symlink(join(linked, 'train', `${ids[1]}.jpeg`), join(linked, 'train', 'alias.jpeg'));
    const rl = await run(linked);
    expect(rl.code).toBe(3);
    expect(parseJson<ErrorBody>(rl).error.message).toMatch(new RegExp(`line 8 \\(alias\\): the same image file as ${ids[1]}`));
  });

  it('a symlink to /dev/zero and a FIFO are refused as not regular files, at once and without growing memory', async () => {
    const dir = await variant((t) => `${t.trimEnd()}\nzero,0\nfifo,1\n`);
    await symlink('/dev/zero', join(dir, 'train', 'zero.jpeg'));
    execFileSync('mkfifo', [join(dir, 'train', 'fifo.jpeg')]);
    const t0 = Date.now();
    const r = await run(dir, ['--skip-invalid']);
    expect(Date.now() - t0).toBeLessThan(200_000); // no hang: a FIFO used to block forever
    expect(r.code).toBe(0);
    const rejects = await readFile(join(dir, 'retina-data', 'raw', 'rejects.csv'), 'utf8').catch(async () => {
      const p = parseJson<{ rejectsFile: string }>(r).rejectsFile;
      return readFile(p, 'utf8');
    });
    expect(rejects).toMatch(/zero.*a character device, not a regular file/);
    expect(rejects).toMatch(/fifo.*a FIFO, not a regular file/);
    const strict = await run(dir, ['--out', 'strict']);
    expect(strict.code).toBe(5);
    expect(parseJson<ErrorBody>(strict).error.message).toMatch(/not a regular file/);
  });

  it('files over the size cap are refused with the cap named', async () => {
    const dir = await variant();
    const r = await run(dir, [], { RETINA_MAX_INPUT_BYTES: '100' });
    expect(r.code).toBe(5);
    expect(parseJson<ErrorBody>(r).error.message).toMatch(/bytes, more than the 100 an input file may have/);
  });

  it('--threads 999 is capped at the usable CPUs with a warning; --decode-budget is accepted', async () => {
    const dir = await variant();
    const r = await run(dir, ['--threads', '999', '--decode-budget', '1']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warn: --threads 999 is more than the \d+ CPUs this process may use/);
    expect(parseJson<{ threads: number }>(r).threads).toBeLessThan(999);
  });

  it('an unwritable --out is a clear error within seconds (no mkdir spin under /proc)', async () => {
    const dir = await variant();
    for (const out of ['/proc/retina-x', join(dir, 'trainLabels.csv', 'sub')]) {
      const t0 = Date.now();
      const r = await run(dir, ['--out', out]);
      expect(Date.now() - t0).toBeLessThan(120_000); // was 8+ minutes of mkdir spinning
      expect(r.code).toBe(2);
      expect(parseJson<ErrorBody>(r).error.message).toMatch(/^Cannot write the dataset folder/);
    }
  });

  it('a header-only labels file is an error unless --allow-empty; a --val-fraction leaving no training image is refused at preprocess', async () => {
    const dir = await variant((t) => `${t.split('\n')[0]}\n`);
    const r = await run(dir);
    expect(r.code).toBe(3);
    expect(parseJson<ErrorBody>(r).error.message).toMatch(/has no usable row \(0 data rows\)/);
    const empty = await run(dir, ['--allow-empty']);
    expect(empty.code).toBe(0);
    // One patient (both eyes): a fraction that rounds to all of it leaves nothing to train on.
    // (With 2+ patients the split itself always keeps one for training.)
    const all = await variant((t) => t.split('\n').slice(0, 3).join('\n') + '\n');
    const v = await run(all, ['--val-fraction', '0.99']);
    expect(v.code).toBe(2);
    expect(parseJson<ErrorBody>(v).error.message).toMatch(/--val-fraction/);
    const ok = await run(all, ['--val-fraction', '0.4']);
    expect(ok.code).toBe(0);
    const ds = await openDataset(join(all, 'retina-data', 'raw'));
    expect(ds.indicesOf('train').length).toBeGreaterThan(0);
    await ds.close();
  });
});
