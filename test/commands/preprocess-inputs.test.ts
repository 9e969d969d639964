import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { openDataset } from '../../formats/dataset.js';
import { KAGGLE_SAMPLE, parseJson, runCli, tempDir } from '../helpers/cli.js';
import { kaggleVariants, type KaggleVariants } from '../helpers/kaggle-variants.js';
import { kaggleSample } from '../helpers/requirements.js';

const sample = kaggleSample();

interface Result { dataset: string; format: string; records: number; shards: number; imagesPerSecond: number; rejected: number; rejectsFile: string | null }
interface ErrorBody { error: { code: string; message: string; line?: number; file?: string } }

let root: string, cleanup: () => Promise<void>;
/** A generated Kaggle-layout set: train/*.jpeg + trainLabels.csv, 12 images of 320x240. */
let kaggle: string;
let ids: string[];
let variant: KaggleVariants['variant'];

beforeAll(async () => {
  ({ root, kaggle, ids, variant, cleanup } = await kaggleVariants('retina-pp-inputs-', { count: 12, seed: 11, size: { width: 320, height: 240 } }));
});
afterAll(() => cleanup());

const run = (cwd: string, ...args: string[]) => runCli(['preprocess', '--format', 'raw', '--size', '32', '--json', ...args], { cwd });

describe('retina preprocess inputs', () => {
  it('the bare command works in a Kaggle-layout folder', async () => {
    const dir = await variant();
    const r = await runCli(['preprocess', '--format', 'raw', '--size', '32'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/wrote shard 0\/1 .* 12 records/);
    // Not a TTY (as in a Slurm log): plain progress lines with count, rate and ETA.
    expect(r.stderr).toMatch(/^preprocess 0\/1: 12\/12 \(100\.0 %\), [\d.]+ images\/s, ETA 0s$/m);
    const ds = await openDataset(join(dir, 'retina-data', 'raw'));
    expect(ds.count).toBe(12);
    expect(ds.manifest.spec).toEqual({ dtype: 'uint8', shape: [32, 32, 3] });
    await ds.close();
    const lmdb = await runCli(['preprocess', '--format', 'lmdb', '--size', '32'], { cwd: dir });
    expect(lmdb.code, lmdb.stderr).toBe(0);
    const l = await openDataset(join(dir, 'retina-data', 'lmdb'));
    const raw = await openDataset(join(dir, 'retina-data', 'raw'));
    expect(l.count).toBe(12);
    expect(Buffer.from((await l.get(7)).tensor).equals(Buffer.from((await raw.get(7)).tensor))).toBe(true);
    await Promise.all([l.close(), raw.close()]);
  });

  it('stops before any work on a missing image, naming the line; --skip-invalid goes on and writes rejects.csv', async () => {
    const dir = await variant();
    const { rm } = await import('node:fs/promises');
    await rm(join(dir, 'train', `${ids[4]}.jpeg`));
    const bad = await run(dir);
    expect(bad.code).toBe(3);
    const body = parseJson<ErrorBody>(bad);
    expect(body.error.code).toBe('BAD_INPUT');
    expect(body.error.message).toContain(`1 missing image files`);
    expect(body.error.message).toContain(`line 6 (${ids[4]})`);
    expect(existsSync(join(dir, 'retina-data'))).toBe(false);
    const ok = await run(dir, '--skip-invalid');
    expect(ok.code, ok.stderr).toBe(0);
    expect(parseJson<Result>(ok)).toMatchObject({ records: 11, rejected: 1 });
    const rejects = await readFile(join(dir, 'retina-data', 'raw', 'rejects.csv'), 'utf8');
    expect(rejects.split('\n')[0]).toBe('id,line,reason');
    expect(rejects).toContain(`${ids[4]},6,no image file`);
  });

  it('each bad row kind is reported with counts and lines: malformed, empty, bad grade, duplicate, ../', async () => {
    const dir = await variant((t) => t.trimEnd() + `\nshort\n\n${ids[0]}_x,9\n${ids[1]},0\n../../etc/passwd,1\n`);
    const r = await run(dir);
    expect(r.code).toBe(3);
    const msg = parseJson<ErrorBody>(r).error.message;
    expect(msg).toContain('1 malformed rows: line 14');
    expect(msg).toContain('1 empty rows or ids: line 15');
    expect(msg).toContain('1 grades outside 0-4: line 16');
    expect(msg).toMatch(/2 duplicate ids: line 3 \(.*\).*line 17/);
    expect(msg).toContain('1 ids that would escape the images folder: line 18 (../../etc/passwd)');
    const ok = await run(dir, '--skip-invalid');
    expect(parseJson<Result>(ok)).toMatchObject({ records: 11, rejected: 6 });
    const rejects = (await readFile(join(dir, 'retina-data', 'raw', 'rejects.csv'), 'utf8')).trim().split('\n');
    expect(rejects.slice(1).map((l) => Number(l.split(',')[1]))).toEqual([3, 14, 15, 16, 17, 18]);
  });

  it('a corrupt image is a reject with the decoder\'s reason (and stops the run without --skip-invalid)', async () => {
    const dir = await variant();
    const victim = join(dir, 'train', `${ids[2]}.jpeg`);
    const bytes = await readFile(victim);
    await writeFile(victim, bytes.subarray(0, bytes.length >> 1));
    await writeFile(join(dir, 'train', `${ids[3]}.jpeg`), 'this is not a JPEG');
    const bad = await run(dir);
    expect(bad.code).toBe(5);
    expect(parseJson<ErrorBody>(bad).error.message).toContain(ids[2]);
    expect(existsSync(join(dir, 'retina-data', 'raw', 'shards', 'shard-00000-of-00001', 'shard.json'))).toBe(false);
    const ok = await run(dir, '--skip-invalid');
    expect(parseJson<Result>(ok)).toMatchObject({ records: 10, rejected: 2 });
    const rejects = await readFile(join(dir, 'retina-data', 'raw', 'rejects.csv'), 'utf8');
    expect(rejects).toMatch(new RegExp(`${ids[2]},4,cannot decode .*(JPEG|jpeg|premature|Premature|end)`));
    expect(rejects).toMatch(new RegExp(`${ids[3]},5,cannot decode .*(unsupported|format)`));
  });

  it('APTOS layout: id_code,diagnosis with PNG images, by detection and by --id-column/--label-column', async () => {
    const dir = join(root, 'aptos');
    await mkdir(join(dir, 'train_images'), { recursive: true });
    const rows = ['id_code,diagnosis'];
    for (const [i, id] of ids.slice(0, 5).entries()) {
      const code = `a${i}f3c9`;
      await sharp(join(kaggle, 'train', `${id}.jpeg`)).png().toFile(join(dir, 'train_images', `${code}.png`));
      rows.push(`${code},${i % 5}`);
    }
    await writeFile(join(dir, 'train.csv'), rows.join('\n') + '\n');
    const r = await run(dir, '--images', 'train_images', '--labels', 'train.csv');
    expect(parseJson<Result>(r)).toMatchObject({ records: 5, rejected: 0 });
    await writeFile(join(dir, 'renamed.csv'), rows.join('\n').replace('id_code,diagnosis', 'name,dr') + '\n');
    const named = await run(dir, '--images', 'train_images', '--labels', 'renamed.csv', '--out', 'named', '--id-column', 'name', '--label-column', 'dr');
    expect(parseJson<Result>(named)).toMatchObject({ records: 5 });
    const wrong = await run(dir, '--images', 'train_images', '--labels', 'renamed.csv', '--out', 'x', '--id-column', 'id_code');
    expect(wrong.code).toBe(2);
    expect(parseJson<ErrorBody>(wrong).error.message).toContain('name,dr');
  });

  it('trainLabels_cropped.csv layout (two unnamed index columns) and ids with .jpg/.tif extensions', async () => {
    const dir = await variant((t) => t.trim().split('\n').map((l, i) => (i === 0 ? `,Unnamed: 0,${l}` : `${i - 1},${i - 1},${l}`)).join('\n') + '\n');
    const { rename } = await import('node:fs/promises');
    await rename(join(dir, 'train', `${ids[0]}.jpeg`), join(dir, 'train', `${ids[0]}.jpg`));
    await sharp(join(dir, 'train', `${ids[1]}.jpeg`)).tiff().toFile(join(dir, 'train', `${ids[1]}.tif`));
    const { rm } = await import('node:fs/promises');
    await rm(join(dir, 'train', `${ids[1]}.jpeg`));
    const r = await run(dir);
    expect(parseJson<Result>(r)).toMatchObject({ records: 12, rejected: 0 });
  });

  it('wrong flags fail with exit 2 and say what was expected', async () => {
    const dir = await variant();
    for (const [args, text] of [
      [['--format', 'raw', '--bogus'], '--bogus'],
      [['--format', 'nope'], 'raw'],
      [['--format', 'raw', '--shard', '2/2'], '--shard'],
      [['--format', 'raw', '--val-fraction', '1.5'], '--val-fraction'],
      [['--format', 'raw', '--size', '3'], 'size'],
      [['--format', 'raw', '--dtype', 'int7'], 'dtype'],
      [[], 'format'],
    ] as const) {
      const r = await runCli(['preprocess', ...args], { cwd: dir });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr + r.stdout).toContain(text);
    }
    expect(await readdir(dir)).not.toContain('retina-data');
  });

  it.skipIf(!sample.available)('the real Kaggle sample: 35,116 missing files named by count and first lines; --skip-invalid processes the 10', async () => {
    const { dir } = await tempDir('retina-pp-sample-');
    const inputs = ['--images', join(KAGGLE_SAMPLE, 'train'), '--labels', join(KAGGLE_SAMPLE, 'trainLabels.csv'), '--size', '64'];
    const args = [...inputs, '--out', join(dir, 'ds')];
    const bad = await runCli(['preprocess', '--format', 'raw', ...args]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('35116 missing image files');
    expect(bad.stderr).toContain('line 12 (19_left)');
    expect(bad.stderr).toContain('and 35111 more');
    const ok = await runCli(['preprocess', '--format', 'raw', '--json', '--skip-invalid', ...args]);
    expect(parseJson<Result>(ok)).toMatchObject({ records: 10, rejected: 35116 });
    expect((await readFile(join(dir, 'ds', 'rejects.csv'), 'utf8')).trim().split('\n')).toHaveLength(35117);
    const ds = await openDataset(join(dir, 'ds'));
    expect([...Array(ds.count).keys()].map((i) => `${ds.meta(i).id}:${ds.meta(i).label}`)).toEqual([
      '10_left:0', '10_right:0', '13_left:0', '13_right:0', '15_left:1', '15_right:2', '16_left:4', '16_right:4', '17_left:0', '17_right:1',
    ]);
    await ds.close();
    const limited = await runCli(['preprocess', '--format', 'raw', '--json', '--limit', '10', ...inputs, '--out', join(dir, 'limited')]);
    expect(parseJson<Result>(limited)).toMatchObject({ records: 10, rejected: 0 });
  });
});
