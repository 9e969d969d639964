import { rm, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import sharp from 'sharp';
import { badArgument } from '../core/errors.js';
import { writeFileAtomicWith } from '../core/atomic-write.js';
import { ensureDir } from '../core/ensure-dir.js';
import { readWholeFile } from '../preprocess/read-whole.js';
import { decodeForTransform, stagesFromWorking, DEFAULT_TRANSFORM, type Circle, type TransformOptions, type TransformStages } from '../transform.js';
import { LINE_HEIGHT, drawText, fillRect, textWidth, type RgbCanvas } from '../inspect/bitmap-font.js';
import { writePngBands } from '../inspect/png-stream.js';
import { blit, strokeCircle, strokeRect } from './overlay.js';

/**
 * `retina preview IMAGE... --out FILE`: what the transform does to each photograph, as a picture.
 * One row per image: the original (downscaled, oriented), the same with the detected retina circle
 * and the crop box drawn on it, the square, and the Ben Graham output, with the numbers under
 * each. The panels come from the transform itself (`decodeForTransform` + `stagesFromWorking`,
 * what `retina preprocess` runs), never from a copy of it: the stored-output panel is
 * byte for byte what preprocess stores for the same image and flags (as uint8).
 */

export type PreviewOptions = Pick<TransformOptions, 'size' | 'crop' | 'normalize'> & { out: string };

export const PREVIEW_KINDS = ['png', 'jpeg', 'html'] as const;
export type PreviewKind = (typeof PREVIEW_KINDS)[number];

export interface PanelPlacement {
  /** original | detection | square | ben-graham */
  name: 'original' | 'detection' | 'square' | 'ben-graham';
  x: number;
  y: number;
  width: number;
  height: number;
  /** This panel is what `preprocess` stores for the image and flags. */
  stored: boolean;
}

export interface PreviewImage {
  image: string;
  originalWidth: number;
  originalHeight: number;
  orientation: number;
  /** Circle and box in original, oriented pixels (box: centre and half side). */
  circle: Circle | null;
  box: Circle;
  timings: TransformStages['timings'] & { benGrahamPreviewMs?: number };
  panels: PanelPlacement[];
}

export interface PreviewResult {
  file: string;
  kind: PreviewKind;
  /** Pixel size of a PNG/JPEG preview (an HTML page lays itself out; panels are then at x, y of the picture it would be). */
  width?: number;
  height?: number;
  /** Panels drawn (4 per image). */
  tiles: number;
  /** The images shown, in order. */
  ids: string[];
  transform: Pick<TransformOptions, 'size' | 'crop' | 'normalize'>;
  images: PreviewImage[];
}

function previewKind(file: string): PreviewKind {
  const ext = extname(file).toLowerCase();
  if (ext === '.png') return 'png';
  if (ext === '.jpg' || ext === '.jpeg') return 'jpeg';
  if (ext === '.html' || ext === '.htm') return 'html';
  throw badArgument('--out', 'a file name ending in .png, .jpeg (.jpg) or .html', file);
}

const PAD = 8, GAP = 8, TEXT_LINES = 4;
const BG: [number, number, number] = [32, 32, 32];
const FG: [number, number, number] = [235, 235, 235];
const DIM: [number, number, number] = [170, 170, 170];
const CIRCLE: [number, number, number] = [60, 220, 90];
const BOX: [number, number, number] = [250, 200, 40];
const PANELS = 4;

const f1 = (v: number) => v.toFixed(1);
const ms = (v: number) => `${v.toFixed(1)} ms`;

/** The oriented original, scaled to fit a `side` square (letterboxed), and how it maps. */
async function originalPanel(bytes: Uint8Array, side: number, W: number, H: number): Promise<{ rgb: Uint8Array; w: number; h: number; scale: number }> {
  const scale = side / Math.max(W, H);
  const w = Math.max(1, Math.round(W * scale)), h = Math.max(1, Math.round(H * scale));
  // Display only (the transform never uses this copy): sharp orients by EXIF, then reduces.
  const { data } = await sharp(bytes).rotate().removeAlpha().toColourspace('srgb').resize({ width: w, height: h, fit: 'fill' }).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), w, h, scale: w / W };
}

interface Row { canvas: RgbCanvas; info: PreviewImage; captions: string[][] }

async function previewRow(file: string, opts: PreviewOptions, cellW: number, y0: number): Promise<Row> {
  const transform: TransformOptions = { size: opts.size, crop: opts.crop, normalize: opts.normalize, dtype: 'uint8' };
  // The path, not bytes: decodeForTransform names the file (NOT_FOUND, CORRUPT) itself.
  const t0 = performance.now();
  const work = await decodeForTransform(file, transform);
  const decodeMs = performance.now() - t0;
  const bytes = await readWholeFile(file);
  const stages = stagesFromWorking(work, transform);
  // The Ben Graham panel: the stored output when asked for, else the same working copy through
  // the same transform with ben-graham, shown for comparison.
  let bg = stages.tensor, bgMs: number | undefined;
  if (opts.normalize !== 'ben-graham') {
    const t = performance.now();
    bg = stagesFromWorking(work, { ...transform, normalize: 'ben-graham' }).tensor;
    bgMs = performance.now() - t;
  }
  const S = opts.size;
  const W = work.originalWidth, H = work.originalHeight;
  const rowH = S + 2 + TEXT_LINES * LINE_HEIGHT + GAP;
  const width = 2 * PAD + PANELS * cellW + (PANELS - 1) * GAP;
  const canvas: RgbCanvas = { data: new Uint8Array(width * rowH * 3), width, height: rowH };
  fillRect(canvas, 0, 0, width, rowH, BG);
  const x = (k: number) => PAD + k * (cellW + GAP);
  const orig = await originalPanel(bytes, S, W, H);
  const ox = Math.floor((S - orig.w) / 2), oy = Math.floor((S - orig.h) / 2);
  fillRect(canvas, x(0), 0, S, S, [0, 0, 0]);
  blit(canvas, orig.rgb, orig.w, orig.h, x(0) + ox, oy);
  fillRect(canvas, x(1), 0, S, S, [0, 0, 0]);
  blit(canvas, orig.rgb, orig.w, orig.h, x(1) + ox, oy);
  // Overlays clipped to the detection panel only.
  const panel: RgbCanvas = { data: new Uint8Array(S * S * 3), width: S, height: S };
  for (let r = 0; r < S; r++) panel.data.set(canvas.data.subarray((r * width + x(1)) * 3, (r * width + x(1) + S) * 3), r * S * 3);
  const px = (X: number) => ox + X * orig.scale, py = (Y: number) => oy + Y * orig.scale;
  const { box, circle } = stages;
  strokeRect(panel, px(box.cx - box.r), py(box.cy - box.r), px(box.cx + box.r) - 1, py(box.cy + box.r) - 1, BOX);
  if (circle) strokeCircle(panel, px(circle.cx), py(circle.cy), circle.r * orig.scale, CIRCLE);
  blit(canvas, panel.data, S, S, x(1), 0);
  blit(canvas, stages.square, S, S, x(2), 0);
  blit(canvas, bg, S, S, x(3), 0);

  const name = basename(file);
  const t = stages.timings;
  const text: string[][] = [
    [name, `original ${W}x${H}`, `exif orientation ${work.orientation}`, `decode ${ms(decodeMs)}`],
    [circle ? `circle x ${f1(circle.cx)} y ${f1(circle.cy)} r ${f1(circle.r)}` : 'no circle found', `box x ${f1(box.cx)} y ${f1(box.cy)} half ${f1(box.r)}`, `crop ${opts.crop}`, `detect ${ms(t.detectMs)}`],
    [`square ${S}x${S}${opts.normalize === 'none' ? ' (stored)' : ''}`, `resample ${ms(t.resampleMs)}`, `to dtype ${ms(t.dtypeMs)}`, ''],
    [`ben graham${opts.normalize === 'ben-graham' ? ' (stored)' : ' (not stored)'}`, `ben graham ${ms(opts.normalize === 'ben-graham' ? t.benGrahamMs : bgMs!)}`, '', ''],
  ];
  text.forEach((lines, k) => lines.forEach((s, i) => drawText(canvas, x(k), S + 2 + i * LINE_HEIGHT, s, i === 0 ? FG : DIM)));
  const names: PanelPlacement['name'][] = ['original', 'detection', 'square', 'ben-graham'];
  const stored = opts.normalize === 'ben-graham' ? 'ben-graham' : 'square';
  return {
    canvas, captions: text,
    info: {
      image: resolve(file), originalWidth: W, originalHeight: H, orientation: work.orientation, circle: circle ?? null, box,
      timings: { ...t, decodeMs, ...(bgMs === undefined ? {} : { benGrahamPreviewMs: bgMs }) },
      panels: names.map((n, k) => ({ name: n, x: x(k), y: y0, width: S, height: S, stored: n === stored })),
    },
  };
}

/**
 * Write the preview of `images` to `opts.out` (atomically), one image at a time: memory holds
 * one row.
 *
 * @throws RetinaError BAD_ARGUMENT for bad options, NOT_FOUND / CORRUPT naming an image that is missing or cannot be decoded.
 */
export async function writePreview(images: readonly string[], opts: PreviewOptions): Promise<PreviewResult> {
  const kind = previewKind(opts.out);
  if (images.length === 0) throw badArgument('IMAGE', 'at least one image file', 'none');
  const transform = { ...DEFAULT_TRANSFORM, size: opts.size, crop: opts.crop, normalize: opts.normalize };
  // Options are checked by the transform itself; a first check here fails before any file is read.
  if (!Number.isInteger(transform.size) || transform.size < 8 || transform.size > 4096) throw badArgument('--size', 'an integer from 8 to 4096', transform.size);
  const file = resolve(opts.out);
  const longest = Math.max(...images.map((f) => basename(f).length), 36);
  const cellW = Math.max(opts.size, textWidth('x'.repeat(longest)));
  const rowH = opts.size + 2 + TEXT_LINES * LINE_HEIGHT + GAP;
  const width = 2 * PAD + PANELS * cellW + (PANELS - 1) * GAP;
  const height = PAD + images.length * rowH;
  const infos: PreviewImage[] = [];
  async function* bands() {
    const top = { data: new Uint8Array(width * PAD * 3), rows: PAD };
    fillRect({ data: top.data, width, height: PAD }, 0, 0, width, PAD, BG);
    yield top;
    for (let i = 0; i < images.length; i++) {
      const row = await previewRow(images[i]!, opts, cellW, PAD + i * rowH);
      infos.push(row.info);
      yield { data: row.canvas.data, rows: row.canvas.height };
    }
  }
  await ensureDir(dirname(file));
  await writeFileAtomicWith(file, async (tmp) => {
    if (kind === 'html') return writeHtml(tmp, images, opts, cellW, rowH, infos);
    if (kind === 'png') return writePngBands(tmp, width, height, bands());
    const png = `${tmp}.png`;
    try {
      await writePngBands(png, width, height, bands(), 1);
      await sharp(png, { sequentialRead: true }).jpeg({ quality: 92, chromaSubsampling: '4:4:4' }).toFile(tmp);
    } finally {
      await rm(png, { force: true });
    }
  });
  return { file, kind, ...(kind === 'html' ? {} : { width, height }), tiles: infos.length * PANELS, ids: images.map((f) => basename(f)), transform: { size: opts.size, crop: opts.crop, normalize: opts.normalize }, images: infos };
}

const escapeHtml = (t: string) => t.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The HTML preview: one self-contained file, each panel an inlined PNG at native size, its numbers as text under it. */
async function writeHtml(file: string, images: readonly string[], opts: PreviewOptions, cellW: number, rowH: number, infos: PreviewImage[]): Promise<void> {
  const S = opts.size;
  const parts: string[] = [`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>retina preview</title>
<style>body{background:#202020;color:#ddd;font:13px/1.4 system-ui,sans-serif;margin:16px}
.row{display:flex;gap:8px;margin-bottom:14px} figure{margin:0;width:${Math.max(S, 200)}px}
figure img{display:block;image-rendering:pixelated} figcaption{font:11px/1.35 ui-monospace,monospace;color:#bbb}
figcaption b{color:#eee;font-weight:normal}</style></head>
<body data-panels="${images.length * PANELS}">
<h1 style="font-size:16px">retina preview: size ${S}, crop ${escapeHtml(opts.crop)}, normalize ${escapeHtml(opts.normalize)}</h1>
`];
  for (let i = 0; i < images.length; i++) {
    const row = await previewRow(images[i]!, opts, cellW, PAD + i * rowH);
    infos.push(row.info);
    parts.push(`<div class="row" data-image="${escapeHtml(row.info.image)}">`);
    for (const [k, p] of row.info.panels.entries()) {
      const rgb = new Uint8Array(S * S * 3);
      for (let r = 0; r < S; r++) rgb.set(row.canvas.data.subarray((r * row.canvas.width + p.x) * 3, (r * row.canvas.width + p.x + S) * 3), r * S * 3);
      const png = await sharp(rgb, { raw: { width: S, height: S, channels: 3 } }).png().toBuffer();
      const lines = row.captions[k]!.filter(Boolean).map((l, j) => (j === 0 ? `<b>${escapeHtml(l)}</b>` : escapeHtml(l)));
      parts.push(`<figure data-panel="${p.name}"${p.stored ? ' data-stored="true"' : ''}><img alt="${p.name}" width="${S}" height="${S}" src="data:image/png;base64,${png.toString('base64')}"><figcaption>${lines.join('<br>')}</figcaption></figure>`);
    }
    parts.push('</div>\n');
  }
  parts.push(`<script>addEventListener('load',()=>{document.body.dataset.loaded=[...document.images].filter((i)=>i.complete&&i.naturalWidth>0).length})</script>
</body></html>\n`);
  // A preview is a handful of photographs (a few panels each): written in one go.
  await writeFile(file, parts.join(''));
}
