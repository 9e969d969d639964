import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createShardWriter, indexDataset, openDataset, shardPath } from '../../../formats/dataset.js';
import type { DatasetReader, DType, RecordMeta, TensorSpec } from '../../../formats/types.js';
import { toDType } from '../../../src/finish.js';
import { createRng } from '../../../src/rng.js';
import { chooseRecords, writeContactSheet, writeSheetOf, type SheetResult } from '../../../src/inspect/contact-sheet.js';
import { chromium } from '../../helpers/chromium.js';
import { tempDir } from '../../helpers/cli.js';
import { chromiumBrowser } from '../../helpers/requirements.js';
import { dataFile } from '../../helpers/tensors.js';

// Tiles 12 wide, 10 high: a swapped width and height would show.
const H = 10, W = 12;

/** The uint8 pixels of test record `i` (random, so a misplaced tile cannot match by chance). */
function pixels(i: number): Uint8Array {
  const rng = createRng(1000 + i);
  return Uint8Array.from({ length: H * W * 3 }, () => rng.int(0, 255));
}

function meta(i: number): RecordMeta {
  return { id: `${i}_${i % 2 ? 'left' : 'right'}`, label: i % 5, split: i % 4 === 3 ? 'val' : 'train' };
}

/** A dataset of `n` records in `shards` shards, stored as `dtype` (floats: pixel / 255, as preprocess stores them). */
async function makeDataset(dir: string, format: string, dtype: DType, n: number, shards = 2, size = { h: H, w: W }, px = pixels): Promise<void> {
  const spec: TensorSpec = { dtype, shape: [size.h, size.w, 3] };
  const per = Math.ceil(n / shards);
  for (let s = 0; s < shards; s++) {
    const w = await createShardWriter(dir, format, { index: s, count: shards, spec, params: { tool: 'retina preprocess', size: size.w, crop: 'auto', normalize: 'none', dtype } });
    for (let i = s * per; i < Math.min(n, (s + 1) * per); i++) await w.append(meta(i), toDType(px(i), dtype));
    await w.close();
  }
  await indexDataset(dir);
}

/** The sheet's RGB pixels. */
async function decode(file: string): Promise<{ data: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

function tileAt(sheet: { data: Uint8Array; width: number }, x: number, y: number, w = W, h = H): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let r = 0; r < h; r++) out.set(sheet.data.subarray(((y + r) * sheet.width + x) * 3, ((y + r) * sheet.width + x + w) * 3), r * w * 3);
  return out;
}

/** Every tile sits in its grade's band: grade bands are stacked top to bottom, 0 first. */
function expectGradeRows(r: SheetResult, reader: DatasetReader): void {
  for (const p of r.placements) expect(reader.meta(p.index).label).toBe(p.grade);
  for (let g = 0; g < 4; g++) {
    const ys = r.placements.filter((p) => p.grade === g).map((p) => p.y);
    const next = r.placements.filter((p) => p.grade === g + 1).map((p) => p.y);
    if (ys.length && next.length) expect(Math.max(...ys) + H).toBeLessThan(Math.min(...next));
  }
}

describe('contact sheets', () => {
  let dir: string, cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir('retina-sheet-')));
  afterEach(async () => cleanup());

  it('PNG: the expected size, every tile the stored uint8 tensor exactly, in its grade row, labelled', async () => {
    const ds = join(dir, 'ds');
    await makeDataset(ds, 'raw', 'uint8', 40);
    const out = join(dir, 'sheet.png');
    const r = await writeContactSheet(ds, { out, perGrade: 3, seed: 7 });
    expect(r).toMatchObject({ file: out, kind: 'png', tiles: 15, tileWidth: W, tileHeight: H });
    expect(r.grades.map((g) => [g.shown, g.available])).toEqual([[3, 8], [3, 8], [3, 8], [3, 8], [3, 8]]);
    const sheet = await decode(out);
    expect([sheet.width, sheet.height]).toEqual([r.width, r.height]);
    const reader = await openDataset(ds);
    try {
      expectGradeRows(r, reader);
      expect(new Set(r.placements.map((p) => p.shard))).toEqual(new Set([0, 1]));
      for (const p of r.placements) {
        expect(tileAt(sheet, p.x, p.y)).toEqual((await reader.get(p.index)).tensor);
        expect(p.id).toBe(reader.meta(p.index).id);
      }
    } finally {
      await reader.close();
    }
    // The label strip under a tile has text drawn in it (not all background).
    const p0 = r.placements[0]!;
    const label = tileAt(sheet, p0.x, p0.y + H + 2, W, 7);
    expect(label.some((v) => v > 200)).toBe(true);
    expect(r.ids).toEqual(r.placements.map((p) => p.id));
  });

  it.each([['float32', 'msgpack'], ['float16', 'lmdb']] as const)('%s (%s): tiles are the stored floats mapped back to 0-255 within rounding', async (dtype, format) => {
    const ds = join(dir, 'ds');
    await makeDataset(ds, format, dtype, 25);
    const out = join(dir, 'sheet.png');
    const r = await writeContactSheet(ds, { out, perGrade: 2, split: 'train' });
    const sheet = await decode(out);
    const reader = await openDataset(ds);
    try {
      expectGradeRows(r, reader);
      for (const p of r.placements) {
        expect(p.split).toBe('train');
        const got = tileAt(sheet, p.x, p.y), want = pixels(p.index);
        let worst = 0;
        for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
        expect(worst).toBeLessThanOrEqual(1);
      }
    } finally {
      await reader.close();
    }
  });

  it('--ids shows exactly those records in their grade rows; an unknown id is NOT_FOUND', async () => {
    const ds = join(dir, 'ds');
    await makeDataset(ds, 'raw', 'uint8', 30);
    const r = await writeContactSheet(ds, { out: join(dir, 's.png'), ids: ['7_left', '2_right', '21_left'] });
    expect(r.ids).toEqual(['21_left', '2_right', '7_left']); // grade 1, then grade 2 (2 before 7)
    expect(r.placements.map((p) => p.grade)).toEqual([1, 2, 2]);
    await expect(writeContactSheet(ds, { out: join(dir, 't.png'), ids: ['7_left', 'nope'] })).rejects.toMatchObject({ code: 'NOT_FOUND', location: { id: 'nope' } });
    expect(existsSync(join(dir, 't.png'))).toBe(false);
  });

  it('--seed picks which records; the same seed the same ones; --split filters', async () => {
    const ds = join(dir, 'ds');
    await makeDataset(ds, 'raw', 'uint8', 100);
    const reader = await openDataset(ds);
    try {
      const ids = (seed: number, split?: 'val') => chooseRecords(reader, { perGrade: 4, seed, ...(split ? { split } : {}) }).chosen.flat().map((c) => c.index);
      expect(ids(1)).toEqual(ids(1));
      expect(ids(1)).not.toEqual(ids(2));
      for (const i of ids(3, 'val')) expect(reader.meta(i).split).toBe('val');
    } finally {
      await reader.close();
    }
  });

  it('a damaged record is a CORRUPT error naming it, and no sheet is left behind', async () => {
    const ds = join(dir, 'ds');
    await makeDataset(ds, 'raw', 'uint8', 10, 1);
    const shardDir = shardPath(ds, 0, 1);
    const m = JSON.parse(await readFile(join(shardDir, 'shard.json'), 'utf8'));
    const file = join(shardDir, dataFile(m));
    const bytes = await readFile(file);
    // Record 5 (grade 0): flip a byte in the middle of its tensor.
    const at = bytes.indexOf(Buffer.from(pixels(5).subarray(0, 32)));
    expect(at).toBeGreaterThanOrEqual(0);
    bytes[at + 100]! ^= 0x40;
    await (await import('node:fs/promises')).writeFile(file, bytes);
    for (const out of ['s.png', 's.html', 's.jpeg']) {
      const err = await writeContactSheet(ds, { out: join(dir, out) }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'CORRUPT', location: { shard: 0, record: 5 } });
      expect(String((err as Error).message)).toContain('5_left');
      expect(await readdir(dir)).toEqual(['ds']);
    }
  });

  it('--per-grade 1000: tiles stream into the file while later ones are still unread, a row of tiles at a time', async () => {
    const ds = join(dir, 'ds');
    await makeDataset(ds, 'raw', 'uint8', 5000, 1);
    const reader = await openDataset(ds);
    let inFlight = 0, maxInFlight = 0, reads = 0, writtenBeforeLast = 0;
    const watched: DatasetReader = Object.create(reader, {
      get: {
        value: async (i: number) => {
          reads++;
          if (reads === 4990) {
            const tmp = (await readdir(dir)).find((n) => n.startsWith('big.png.tmp-'));
            writtenBeforeLast = tmp ? (await stat(join(dir, tmp))).size : 0;
          }
          maxInFlight = Math.max(maxInFlight, ++inFlight);
          try {
            return await reader.get(i);
          } finally {
            inFlight--;
          }
        },
      },
    });
    try {
      const r = await writeSheetOf(watched, { out: join(dir, 'big.png'), perGrade: 1000 });
      expect(r.tiles).toBe(5000);
      expect(reads).toBe(5000);
      expect(maxInFlight).toBeLessThanOrEqual(16);
      // Most of the sheet was on disk before the last tiles were read.
      expect(writtenBeforeLast).toBeGreaterThan(0.8 * (await stat(join(dir, 'big.png'))).size);
      const sheet = await decode(join(dir, 'big.png'));
      for (const p of [r.placements[0]!, r.placements[2345]!, r.placements[4999]!]) expect(tileAt(sheet, p.x, p.y)).toEqual(pixels(p.index));
    } finally {
      await reader.close();
    }
  }, 120_000);

  it('JPEG: decodes to the expected size, tiles close to the stored pixels', async () => {
    const ds = join(dir, 'ds');
    // Smooth tiles: JPEG keeps them close (random noise would not survive any JPEG).
    const smooth = (i: number) => Uint8Array.from({ length: 32 * 32 * 3 }, (_, k) => (Math.floor(k / 96) * 4 + i * 9 + (k % 3) * 40) & 255);
    await makeDataset(ds, 'raw', 'uint8', 12, 1, { h: 32, w: 32 }, smooth);
    const r = await writeContactSheet(ds, { out: join(dir, 's.jpeg'), perGrade: 2 });
    const sheet = await decode(join(dir, 's.jpeg'));
    expect([sheet.width, sheet.height]).toEqual([r.width, r.height]);
    const p = r.placements[3]!;
    const got = tileAt(sheet, p.x, p.y, 32, 32), want = smooth(p.index);
    let sum = 0;
    for (let i = 0; i < got.length; i++) sum += Math.abs(got[i]! - want[i]!);
    expect(sum / got.length).toBeLessThan(6);
  });

  it('rejects an unknown sheet extension and a bad --per-grade as BAD_ARGUMENT', async () => {
    const ds = join(dir, 'ds');
    await makeDataset(ds, 'raw', 'uint8', 5, 1);
    await expect(writeContactSheet(ds, { out: join(dir, 's.gif') })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(writeContactSheet(ds, { out: join(dir, 's.png'), perGrade: 0 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });

  it('refuses a JPEG sheet too large to encode in bounded memory, pointing to .png/.html', async () => {
    const ds = join(dir, 'ds');
    await makeDataset(ds, 'raw', 'uint8', 10, 1, { h: 2000, w: 2000 }, () => new Uint8Array(2000 * 2000 * 3));
    const err = await writeContactSheet(ds, { out: join(dir, 's.jpeg') }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BAD_ARGUMENT', hint: expect.stringContaining('.png or .html') });
    expect(await readdir(dir)).toEqual(['ds']);
  });
});

const browser = chromiumBrowser();

describe.skipIf(!browser.available)(`HTML contact sheet in a real browser${browser.titleSuffix}`, () => {
  it('is one self-contained file whose every tile loads offline, at native size, with record and shard on hover', async () => {
    const { dir, cleanup } = await tempDir('retina-sheet-html-');
    try {
      const ds = join(dir, 'ds');
      await makeDataset(ds, 'lmdb', 'uint8', 30, 3);
      const out = join(dir, 'sheet.html');
      const r = await writeContactSheet(ds, { out, perGrade: 4 });
      expect(r.tiles).toBe(20);
      const html = await readFile(out, 'utf8');
      // Nothing fetched from anywhere: no external URL or file reference.
      expect(html).not.toMatch(/(src|href)="(?!data:)/);
      expect(html).toContain('transform: size 12, crop auto, normalize none');
      const dom = await chromium(out, { dumpDom: true });
      expect(dom).toMatch(/<body data-tiles="20" data-loaded="20"/);
      for (const p of r.placements) {
        expect(dom).toContain(`data-id="${p.id}" data-index="${p.index}" data-shard="${p.shard}"`);
        expect(dom).toContain(`record ${p.index}, shard ${p.shard}`);
      }
      expect(dom).toMatch(new RegExp(`<img alt="[^"]+" width="${W}" height="${H}"`));
      // The inlined tile is the stored tensor.
      const reader = await openDataset(ds);
      try {
        const p = r.placements[5]!;
        const src = new RegExp(`data-index="${p.index}"[^>]*><img[^>]*src="data:image/png;base64,([^"]+)"`).exec(html)![1]!;
        const { data } = await sharp(Buffer.from(src, 'base64')).raw().toBuffer({ resolveWithObject: true });
        expect(new Uint8Array(data)).toEqual((await reader.get(p.index)).tensor);
      } finally {
        await reader.close();
      }
    } finally {
      await cleanup();
    }
  }, 120_000);
});
