import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { once } from 'node:events';
import sharp from 'sharp';
import { openDataset } from '../../formats/dataset.js';
import type { DatasetReader, Split, TensorSpec } from '../../formats/types.js';
import { RetinaError, badArgument } from '../core/errors.js';
import { writeFileAtomicWith } from '../core/atomic-write.js';
import { ensureDir } from '../core/ensure-dir.js';
import { createRng } from '../rng.js';
import { LINE_HEIGHT, drawText, fillRect, textWidth, type RgbCanvas } from './bitmap-font.js';
import { writePngBands, type RgbBand } from './png-stream.js';
import { checkImageSpec, tileRgb } from './tile-pixels.js';

/**
 * Contact sheets of a stored dataset (`retina inspect DATASET --sheet FILE`): records read back
 * through the format readers (every record's checksum verified on read, so a damaged record is a
 * CORRUPT error naming it, never a black tile), shown per grade in rows. PNG and JPEG sheets are
 * composed one row of tiles at a time and streamed to disk; the HTML sheet is written tile by
 * tile: memory holds one row of tiles whatever --per-grade is.
 */

export const SHEET_KINDS = ['png', 'jpeg', 'html'] as const;
export type SheetKind = (typeof SHEET_KINDS)[number];
export const GRADES = [0, 1, 2, 3, 4] as const;
export const DEFAULT_PER_GRADE = 8;

export interface SheetOptions {
  /** The file to write: .png, .jpg/.jpeg or .html. */
  out: string;
  /** Tiles per grade (default 8). */
  perGrade?: number;
  split?: Split | 'all';
  /** Chosen records by id, shown in their grade's row (per-grade and split do not apply). */
  ids?: readonly string[];
  /** Which records are drawn when a grade has more than perGrade (default 0). */
  seed?: number;
  /** Called after each tile is read. */
  onTile?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** One tile: the record it shows and where (x, y: its top-left pixel in a PNG/JPEG sheet). */
export interface TilePlacement {
  id: string;
  /** Global record index in the dataset. */
  index: number;
  shard: number;
  grade: number;
  split: Split;
  x: number;
  y: number;
}

/** What `inspect --sheet --json` prints. */
export interface SheetResult {
  file: string;
  kind: SheetKind;
  /** Number of tiles shown. */
  tiles: number;
  /** Ids of the records shown, in sheet order (grade 0 first). */
  ids: string[];
  /** Pixel size of a PNG/JPEG sheet (the HTML page lays itself out). */
  width?: number;
  height?: number;
  tileWidth: number;
  tileHeight: number;
  /** Per grade: tiles shown and records available (in the split chosen). */
  grades: { grade: number; shown: number; available: number }[];
  placements: TilePlacement[];
}

/** The sheet kind of a file name, from its extension. */
export function sheetKind(file: string): SheetKind {
  const ext = extname(file).toLowerCase();
  if (ext === '.png') return 'png';
  if (ext === '.jpg' || ext === '.jpeg') return 'jpeg';
  if (ext === '.html' || ext === '.htm') return 'html';
  throw badArgument('--sheet', 'a file name ending in .png, .jpeg (.jpg) or .html', file);
}

interface Choice { id: string; index: number; shard: number; grade: number; split: Split }

/** Global index -> shard number, from the manifest's per-shard record counts (shards in order). */
function shardLookup(reader: DatasetReader): (index: number) => number {
  const starts: number[] = [];
  let n = 0;
  for (const s of reader.manifest.shards) { starts.push(n); n += s.records; }
  return (index) => {
    let lo = 0, hi = starts.length - 1;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (starts[mid]! <= index) lo = mid; else hi = mid - 1; }
    return reader.manifest.shards[lo]?.index ?? lo;
  };
}

/**
 * The records a sheet shows, per grade, ascending by index (the readers' order). With `ids`,
 * exactly those (NOT_FOUND naming the first id the dataset lacks). Otherwise, per grade, all of
 * the split's records when there are at most `perGrade`, else `perGrade` drawn without
 * replacement by a generator seeded with `seed` (a partial Fisher-Yates shuffle).
 */
export function chooseRecords(reader: DatasetReader, opts: Pick<SheetOptions, 'perGrade' | 'split' | 'ids' | 'seed'>): { chosen: Choice[][]; available: number[] } {
  const perGrade = opts.perGrade ?? DEFAULT_PER_GRADE;
  if (!Number.isInteger(perGrade) || perGrade < 1) throw badArgument('--per-grade', 'a whole number of at least 1', perGrade);
  const split = opts.split ?? 'all';
  if (split !== 'all' && split !== 'train' && split !== 'val') throw badArgument('--split', 'train, val or all', split);
  const shardOf = shardLookup(reader);
  const pools: number[][] = GRADES.map(() => []);
  const wanted = opts.ids ? new Map(opts.ids.map((id) => [id, -1])) : undefined;
  for (let i = 0; i < reader.count; i++) {
    const m = reader.meta(i);
    if (wanted) {
      if (wanted.has(m.id) && wanted.get(m.id)! < 0) wanted.set(m.id, i);
      continue;
    }
    if (split !== 'all' && m.split !== split) continue;
    (pools[m.label] ??= []).push(i);
  }
  const choice = (i: number): Choice => {
    const m = reader.meta(i);
    return { id: m.id, index: i, shard: shardOf(i), grade: m.label, split: m.split };
  };
  if (wanted) {
    const missing = [...wanted].find(([, i]) => i < 0);
    if (missing) {
      throw new RetinaError('NOT_FOUND', `No record with id "${missing[0]}" in ${reader.dir}`, {
        location: { file: reader.dir, id: missing[0] }, hint: 'Check the id (as in the labels CSV, e.g. 10_left); `retina inspect DATASET` lists the counts.',
      });
    }
    const chosen: Choice[][] = GRADES.map(() => []);
    for (const i of [...wanted.values()].sort((a, b) => a - b)) { const c = choice(i); (chosen[c.grade] ??= []).push(c); }
    return { chosen, available: chosen.map((c) => c.length) };
  }
  const rng = createRng(opts.seed ?? 0);
  const available = GRADES.map((g) => pools[g]?.length ?? 0);
  const chosen = pools.map((pool) => {
    if (pool.length > perGrade) {
      for (let k = 0; k < perGrade; k++) {
        const j = rng.int(k, pool.length - 1);
        [pool[k], pool[j]] = [pool[j]!, pool[k]!];
      }
      pool.length = perGrade;
    }
    return pool.sort((a, b) => a - b).map(choice);
  });
  return { chosen, available };
}

/** The header lines: dataset, format, size, dtype, transform and counts per grade. */
function headerLines(reader: DatasetReader, split: string, grades: SheetResult['grades'], seed: number, ids: boolean): string[] {
  const m = reader.manifest;
  const p = m.params;
  const transform = p['size'] !== undefined
    ? `transform: size ${String(p['size'])}, crop ${String(p['crop'] ?? '?')}, normalize ${String(p['normalize'] ?? '?')}, dtype ${String(p['dtype'] ?? m.spec.dtype)}${p['transformVersion'] !== undefined ? ` (transform version ${String(p['transformVersion'])})` : ''}`
    : 'transform: not recorded (not written by retina preprocess)';
  return [
    `retina contact sheet of ${resolve(reader.dir)}`,
    `format ${m.format}, ${m.shardCount} shard${m.shardCount === 1 ? '' : 's'}, ${m.spec.shape.join('x')} ${m.spec.dtype}, ${m.records} records (train ${m.splits.train}, val ${m.splits.val})`,
    transform,
    `${ids ? 'chosen ids' : `split ${split}, seed ${seed}`}: ${grades.map((g) => `grade ${g.grade} ${g.shown} of ${g.available}`).join(', ')}`,
  ];
}

// Raster layout (pixels).
const PAD = 8;
const GAP = 4;
const LABEL_LINES = 2;
const LABEL_H = LABEL_LINES * LINE_HEIGHT + 2;
const BAND_TITLE_H = LINE_HEIGHT + 5;
const MAX_COLUMNS = 16;
const BG: [number, number, number] = [32, 32, 32];
const FG: [number, number, number] = [235, 235, 235];
const DIM: [number, number, number] = [170, 170, 170];
/** libjpeg's limit on either side. */
const JPEG_MAX_SIDE = 65_535;
/**
 * libvips re-encodes the streamed PNG into JPEG holding the whole decoded sheet (measured: a
 * 312 MB sheet, 5,000 tiles of 128 px, peaked at 1.27 GB RSS; the PNG writer at 141 MB), so JPEG
 * sheets are capped at this many raw bytes; larger ones are refused pointing to .png or .html,
 * which stream.
 */
const JPEG_MAX_RAW_BYTES = 96 * 2 ** 20;

function tileLabel(c: Choice): [string, string] {
  return [c.id, `g${c.grade} ${c.split} #${c.index}`];
}

interface Layout {
  width: number;
  height: number;
  cellWidth: number;
  columns: number;
  headerHeight: number;
  /** Top row of each grade band. */
  bandTop: number[];
  placements: TilePlacement[];
}

function layOut(chosen: Choice[][], tileW: number, tileH: number, header: string[]): Layout {
  const all = chosen.flat();
  const labelW = Math.max(0, ...all.flatMap((c) => tileLabel(c).map((s) => textWidth(s))));
  const cellWidth = Math.max(tileW, labelW);
  const columns = Math.max(1, Math.min(MAX_COLUMNS, Math.max(0, ...chosen.map((c) => c.length))));
  const headerHeight = PAD + header.length * LINE_HEIGHT + PAD;
  const width = Math.max(2 * PAD + columns * cellWidth + (columns - 1) * GAP, 2 * PAD + Math.max(...header.map((s) => textWidth(s))));
  const rowH = tileH + LABEL_H + GAP;
  const placements: TilePlacement[] = [];
  const bandTop: number[] = [];
  let y = headerHeight;
  for (const band of chosen) {
    bandTop.push(y);
    y += BAND_TITLE_H;
    band.forEach((c, k) => {
      const col = k % columns, row = Math.floor(k / columns);
      placements.push({ id: c.id, index: c.index, shard: c.shard, grade: c.grade, split: c.split, x: PAD + col * (cellWidth + GAP), y: y + row * rowH });
    });
    y += Math.ceil(band.length / columns) * rowH;
  }
  return { width, height: y + PAD, cellWidth, columns, headerHeight, bandTop, placements };
}

/** Records are read `columns` at a time: one row of tiles is what memory holds. */
async function readRow(reader: DatasetReader, spec: TensorSpec, row: Choice[], signal: AbortSignal | undefined): Promise<Uint8Array[]> {
  if (signal?.aborted) throw new RetinaError('ABORTED', 'Interrupted: the contact sheet was not written', { hint: 'Rerun the command.' });
  return Promise.all(row.map(async (c) => tileRgb((await reader.get(c.index)).tensor, spec)));
}

/** The sheet's bands top to bottom: header, then per grade a title band and its rows of tiles. */
async function* rasterBands(reader: DatasetReader, chosen: Choice[][], layout: Layout, header: string[], grades: SheetResult['grades'], opts: SheetOptions, total: number): AsyncGenerator<RgbBand> {
  const { width } = layout;
  const spec = reader.manifest.spec;
  const [tileH, tileW] = spec.shape as [number, number, number];
  const band = (rows: number): RgbCanvas => {
    const c = { data: new Uint8Array(width * rows * 3), width, height: rows };
    fillRect(c, 0, 0, width, rows, BG);
    return c;
  };
  const head = band(layout.headerHeight);
  header.forEach((line, i) => drawText(head, PAD, PAD + i * LINE_HEIGHT, line, i === 0 ? FG : DIM));
  yield { data: head.data, rows: head.height };
  let done = 0;
  for (let g = 0; g < chosen.length; g++) {
    const title = band(BAND_TITLE_H);
    const info = grades[g]!;
    drawText(title, PAD, 2, `grade ${info.grade}: ${info.shown} shown of ${info.available}${info.shown === 0 ? ' (none)' : ''}`, FG);
    yield { data: title.data, rows: title.height };
    const list = chosen[g]!;
    const rowH = tileH + LABEL_H + GAP;
    for (let start = 0; start < list.length; start += layout.columns) {
      const row = list.slice(start, start + layout.columns);
      const canvas = band(rowH);
      const tiles = await readRow(reader, spec, row, opts.signal);
      row.forEach((c, k) => {
        const x0 = PAD + k * (layout.cellWidth + GAP);
        const rgb = tiles[k]!;
        for (let y = 0; y < tileH; y++) canvas.data.set(rgb.subarray(y * tileW * 3, (y + 1) * tileW * 3), (y * width + x0) * 3);
        const [a, b] = tileLabel(c);
        drawText(canvas, x0, tileH + 2, a, FG);
        drawText(canvas, x0, tileH + 2 + LINE_HEIGHT, b, DIM);
        opts.onTile?.(++done, total);
      });
      yield { data: canvas.data, rows: canvas.height };
    }
  }
  const foot = band(PAD);
  yield { data: foot.data, rows: foot.height };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The HTML sheet: one self-contained file (tiles inlined as PNG data URIs, no external resource). */
async function writeHtml(file: string, reader: DatasetReader, chosen: Choice[][], header: string[], grades: SheetResult['grades'], opts: SheetOptions, total: number): Promise<void> {
  const spec = reader.manifest.spec;
  const [tileH, tileW] = spec.shape as [number, number, number];
  const out = createWriteStream(file);
  const write = async (s: string) => { if (!out.write(s)) await once(out, 'drain'); };
  const closed = once(out, 'close');
  try {
    await write(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(header[0]!)}</title>
<style>
body{background:#202020;color:#ddd;font:13px/1.4 system-ui,sans-serif;margin:16px}
header p{margin:2px 0;color:#aaa} header h1{font-size:16px;margin:0 0 6px;color:#eee}
h2{font-size:14px;margin:18px 0 6px} .row{display:flex;flex-wrap:wrap;gap:6px}
figure{margin:0;position:relative} figure img{display:block;image-rendering:pixelated}
figcaption{font:11px/1.3 ui-monospace,monospace;color:#ccc;max-width:${Math.max(tileW, 120)}px;overflow-wrap:anywhere}
figure .where{display:none;position:absolute;left:0;top:0;background:rgba(0,0,0,.8);color:#fff;padding:2px 4px;font:11px ui-monospace,monospace}
figure:hover .where{display:block}
</style></head>
<body data-tiles="${total}">
<header><h1>${escapeHtml(header[0]!)}</h1>${header.slice(1).map((l) => `<p>${escapeHtml(l)}</p>`).join('')}</header>
`);
    let done = 0;
    for (let g = 0; g < chosen.length; g++) {
      const info = grades[g]!;
      await write(`<section data-grade="${info.grade}"><h2>grade ${info.grade}: ${info.shown} shown of ${info.available}</h2><div class="row">\n`);
      const list = chosen[g]!;
      for (let start = 0; start < list.length; start += MAX_COLUMNS) {
        const row = list.slice(start, start + MAX_COLUMNS);
        const tiles = await readRow(reader, spec, row, opts.signal);
        for (let k = 0; k < row.length; k++) {
          const c = row[k]!;
          const png = await sharp(tiles[k]!, { raw: { width: tileW, height: tileH, channels: 3 } }).png({ compressionLevel: 6 }).toBuffer();
          const where = `record ${c.index}, shard ${c.shard}`;
          await write(`<figure data-id="${escapeHtml(c.id)}" data-index="${c.index}" data-shard="${c.shard}" data-grade="${c.grade}" data-split="${c.split}" title="${escapeHtml(`${c.id} | grade ${c.grade} | ${c.split} | ${where}`)}">`
            + `<img alt="${escapeHtml(c.id)}" width="${tileW}" height="${tileH}" src="data:image/png;base64,${png.toString('base64')}">`
            + `<span class="where">${where}</span><figcaption>${escapeHtml(c.id)}<br>grade ${c.grade} · ${c.split}</figcaption></figure>\n`);
          opts.onTile?.(++done, total);
        }
      }
      await write('</div></section>\n');
    }
    // Counts the tiles the browser decoded, for anyone (and the tests) checking the page offline.
    await write(`<script>addEventListener('load',()=>{document.body.dataset.loaded=[...document.images].filter((i)=>i.complete&&i.naturalWidth>0).length})</script>
</body></html>\n`);
    out.end();
    await closed;
  } catch (err) {
    out.destroy();
    await closed.catch(() => undefined);
    throw err;
  }
}

/**
 * Write a contact sheet of the open dataset `reader` to `opts.out` (atomically: on any error,
 * a CORRUPT record included, nothing is left at `out`).
 *
 * @throws RetinaError BAD_ARGUMENT for bad options, NOT_FOUND for unknown ids, CORRUPT naming a
 * damaged record, UNSUPPORTED for tensors that are not images.
 */
export async function writeSheetOf(reader: DatasetReader, opts: SheetOptions): Promise<SheetResult> {
  const kind = sheetKind(opts.out);
  const file = resolve(opts.out);
  const { chosen, available } = chooseRecords(reader, opts);
  const spec = reader.manifest.spec;
  checkImageSpec(spec);
  const [tileH, tileW] = spec.shape as [number, number, number];
  const grades = GRADES.map((g) => ({ grade: g, shown: chosen[g]?.length ?? 0, available: available[g] ?? 0 }));
  const header = headerLines(reader, opts.split ?? 'all', grades, opts.seed ?? 0, opts.ids !== undefined);
  const layout = layOut(chosen, tileW, tileH, header);
  const total = layout.placements.length;
  if (kind === 'jpeg' && (layout.width > JPEG_MAX_SIDE || layout.height > JPEG_MAX_SIDE || layout.width * layout.height * 3 > JPEG_MAX_RAW_BYTES)) {
    throw new RetinaError('BAD_ARGUMENT', `A JPEG sheet is at most ${JPEG_MAX_SIDE} pixels a side and ${JPEG_MAX_RAW_BYTES / 2 ** 20} MiB of pixels (it is encoded in memory); this one would be ${layout.width} x ${layout.height}`, {
      hint: 'Write a .png or .html sheet (both are streamed to disk), or show fewer tiles (--per-grade).',
    });
  }
  await ensureDir(dirname(file));
  await writeFileAtomicWith(file, async (tmp) => {
    if (kind === 'html') return writeHtml(tmp, reader, chosen, header, grades, opts, total);
    const bands = rasterBands(reader, chosen, layout, header, grades, opts, total);
    if (kind === 'png') return writePngBands(tmp, layout.width, layout.height, bands);
    // JPEG (4:4:4: colour is what one judges on a sheet): the streamed PNG beside it, re-encoded by libvips reading it sequentially (a few
    // scanlines in memory), then removed.
    const png = `${tmp}.png`;
    try {
      await writePngBands(png, layout.width, layout.height, bands, 1);
      await sharp(png, { sequentialRead: true, limitInputPixels: false }).jpeg({ quality: 92, chromaSubsampling: '4:4:4' }).toFile(tmp);
    } finally {
      await rm(png, { force: true });
    }
  });
  return {
    file, kind, tiles: total, ids: layout.placements.map((p) => p.id),
    ...(kind === 'html' ? {} : { width: layout.width, height: layout.height }),
    tileWidth: tileW, tileHeight: tileH, grades, placements: layout.placements,
  };
}

/** Open `datasetDir`, write its contact sheet, close it. */
export async function writeContactSheet(datasetDir: string, opts: SheetOptions): Promise<SheetResult> {
  const reader = await openDataset(datasetDir);
  try {
    return await writeSheetOf(reader, opts);
  } finally {
    await reader.close();
  }
}
