import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataset } from '../../../formats/dataset.js';
import { writePreview, type PreviewResult } from '../../../src/preview/preview.js';
import { KAGGLE_SAMPLE, runCli, tempDir } from '../../helpers/cli.js';
import { chromiumBrowser, kaggleSample } from '../../helpers/requirements.js';
import { chromium } from '../../helpers/chromium.js';

const kaggle = kaggleSample();
const browser = chromiumBrowser();
const KAGGLE_IDS = kaggle.available ? ['10_left', '13_right'] : [];

/** A 300x200 photograph of a lit disc off centre, stored sideways with EXIF orientation 6. */
async function rotatedFundus(file: string): Promise<void> {
  const w = 300, h = 200, px = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const d = Math.hypot(x - 170, y - 100);
      if (d > 85) continue;
      const o = (y * w + x) * 3;
      px[o] = 200 - d; px[o + 1] = 90 + (x % 40); px[o + 2] = 40 + (y % 30);
    }
  }
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toFile(file);
}

function panelPixels(sheet: { data: Uint8Array; width: number }, p: { x: number; y: number; width: number; height: number }): Uint8Array {
  const out = new Uint8Array(p.width * p.height * 3);
  for (let r = 0; r < p.height; r++) out.set(sheet.data.subarray(((p.y + r) * sheet.width + p.x) * 3, ((p.y + r) * sheet.width + p.x + p.width) * 3), r * p.width * 3);
  return out;
}

describe(`retina preview${kaggle.titleSuffix.replace('SKIPPED', 'Kaggle images skipped')}`, () => {
  let dir: string, cleanup: () => Promise<void>, images: string[];
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('retina-preview-'));
    await mkdir(join(dir, 'images'));
    await rotatedFundus(join(dir, 'images', 'rot_left.jpeg'));
    // Links, not copies: the real photographs stay beside the clone.
    for (const id of KAGGLE_IDS) await symlink(join(KAGGLE_SAMPLE, 'train', `${id}.jpeg`), join(dir, 'images', `${id}.jpeg`));
    const ids = ['rot_left', ...KAGGLE_IDS];
    await writeFile(join(dir, 'labels.csv'), `image,level\n${ids.map((id, i) => `${id},${i % 5}`).join('\n')}\n`);
    images = ids.map((id) => join(dir, 'images', `${id}.jpeg`));
  });
  afterAll(async () => cleanup());

  it.each([
    ['auto', 'none'],
    ['auto', 'ben-graham'],
    ['none', 'none'],
  ] as const)('the stored panel equals what preprocess stores (--crop %s --normalize %s)', async (crop, normalize) => {
    const ds = join(dir, `ds-${crop}-${normalize}`);
    const pre = await runCli(['preprocess', '--images', join(dir, 'images'), '--labels', join(dir, 'labels.csv'), '--out', ds, '--format', 'raw', '--size', '48', '--crop', crop, '--normalize', normalize]);
    expect(pre.code, pre.stderr).toBe(0);
    const out = join(dir, `preview-${crop}-${normalize}.png`);
    const r: PreviewResult = await writePreview(images, { out, size: 48, crop, normalize });
    expect(r).toMatchObject({ file: out, kind: 'png', tiles: 4 * images.length, ids: images.map((f) => f.split('/').pop()) });
    const { data, info } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([r.width, r.height]);
    const reader = await openDataset(ds);
    try {
      const byId = new Map(Array.from({ length: reader.count }, (_, i) => [reader.meta(i).id, i]));
      for (const [k, img] of r.images.entries()) {
        const id = images[k]!.split('/').pop()!.replace('.jpeg', '');
        const stored = img.panels.find((p) => p.stored)!;
        expect(stored.name).toBe(normalize === 'ben-graham' ? 'ben-graham' : 'square');
        const want = (await reader.get(byId.get(id)!)).tensor;
        expect(panelPixels({ data, width: info.width }, stored)).toEqual(want);
        // The other square panel shows something else (the square before Ben Graham, or Ben Graham).
        const other = img.panels.find((p) => p.name === (normalize === 'ben-graham' ? 'square' : 'ben-graham'))!;
        expect(panelPixels({ data, width: info.width }, other)).not.toEqual(want);
      }
    } finally {
      await reader.close();
    }
  }, 120_000);

  it.skipIf(!browser.available)(`HTML: one self-contained page, every panel loads offline, the stored panel is preprocess's output${browser.titleSuffix}`, async () => {
    const out = join(dir, 'preview.html');
    const r = await writePreview(images, { out, size: 48, crop: 'auto', normalize: 'none' });
    expect(r).toMatchObject({ kind: 'html', tiles: 4 * images.length });
    expect(r.width).toBeUndefined();
    const html = await readFile(out, 'utf8');
    expect(html).not.toMatch(/(src|href)="(?!data:)/);
    const dom = await chromium(out, { dumpDom: true });
    expect(dom).toMatch(new RegExp(`<body data-panels="${4 * images.length}" data-loaded="${4 * images.length}"`));
    // Same flags as the first preprocess case above: its dataset is there.
    const reader = await openDataset(join(dir, 'ds-auto-none'));
    try {
      const stored = [...html.matchAll(/<figure data-panel="square" data-stored="true"><img[^>]*src="data:image\/png;base64,([^"]+)"/g)].map((m) => m[1]!);
      expect(stored).toHaveLength(images.length);
      const byId = new Map(Array.from({ length: reader.count }, (_, i) => [reader.meta(i).id, i]));
      for (const [k, b64] of stored.entries()) {
        const { data } = await sharp(Buffer.from(b64, 'base64')).raw().toBuffer({ resolveWithObject: true });
        const id = images[k]!.split('/').pop()!.replace('.jpeg', '');
        expect(new Uint8Array(data)).toEqual((await reader.get(byId.get(id)!)).tensor);
      }
    } finally {
      await reader.close();
    }
  }, 120_000);

  it('reports original size, EXIF orientation, circle, box and time per stage; draws the circle and box', async () => {
    const r = await writePreview([images[0]!], { out: join(dir, 'rot.png'), size: 64, crop: 'auto', normalize: 'none' });
    const img = r.images[0]!;
    // Stored 300x200 sideways: oriented it is 200 wide, 300 high.
    expect(img).toMatchObject({ originalWidth: 200, originalHeight: 300, orientation: 6 });
    // The disc (centre 170,100 stored, radius 85) rotated 90 degrees clockwise: x = 199 - 100, y = 170.
    expect(img.circle!.r).toBeGreaterThan(78);
    expect(img.circle!.r).toBeLessThan(92);
    expect(Math.abs(img.circle!.cx - 100)).toBeLessThan(6);
    expect(Math.abs(img.circle!.cy - 170)).toBeLessThan(6);
    expect(img.box).toEqual(img.circle);
    for (const t of ['decodeMs', 'detectMs', 'resampleMs', 'benGrahamPreviewMs'] as const) expect(img.timings[t]).toBeGreaterThanOrEqual(0);
    // The detection panel differs from the plain original panel exactly by the overlay (coloured strokes).
    const { data, info } = await sharp(r.file).raw().toBuffer({ resolveWithObject: true });
    const a = panelPixels({ data, width: info.width }, img.panels[0]!), b = panelPixels({ data, width: info.width }, img.panels[1]!);
    let changed = 0;
    for (let i = 0; i < a.length; i += 3) if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2]) changed++;
    expect(changed).toBeGreaterThan(100);
  });

  it('a missing image is NOT_FOUND naming it, a damaged one CORRUPT; nothing is written', async () => {
    const out = join(dir, 'bad.png');
    await expect(writePreview([join(dir, 'nope.jpeg')], { out, size: 32, crop: 'auto', normalize: 'none' })).rejects.toMatchObject({ code: 'NOT_FOUND', location: { file: join(dir, 'nope.jpeg') } });
    await writeFile(join(dir, 'broken.jpeg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    await expect(writePreview([join(dir, 'broken.jpeg')], { out, size: 32, crop: 'auto', normalize: 'none' })).rejects.toMatchObject({ code: 'CORRUPT', location: { file: join(dir, 'broken.jpeg') } });
    await expect(writePreview(images, { out: join(dir, 'x.gif'), size: 32, crop: 'auto', normalize: 'none' })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    const { existsSync } = await import('node:fs');
    expect(existsSync(out)).toBe(false);
  });
});
