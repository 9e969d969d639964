import sharp from 'sharp';
import { stat } from 'node:fs/promises';
import type { DType } from '../formats/types.js';
import { RetinaError, badArgument, messageOf } from './core/errors.js';
import { findRetina } from './retina-box.js';
import { benGraham, toDType, type BenGrahamRegion } from './finish.js';
import { readJpegHeader } from './jpeg-header.js';
import { orientPoint, orientSquare, swapsSides } from './orientation.js';
import { resample } from './resample.js';
import { readWholeFile } from './preprocess/read-whole.js';

/** How an image becomes a tensor; shared by `retina preprocess` and the trainer's `images` source. */
export interface TransformOptions {
  /** Output side in pixels (square). */
  size: number;
  /** `auto`: crop to the retina's circle; `none`: keep the whole image (letterboxed). */
  crop: 'auto' | 'none';
  normalize: 'none' | 'ben-graham';
  dtype: DType;
}

export const DEFAULT_TRANSFORM: TransformOptions = { size: 299, crop: 'auto', normalize: 'none', dtype: 'uint8' };

/**
 * A decoded, reduced RGB copy of an image in its stored orientation, and how it maps to the
 * original: original pixel coordinate X = working coordinate U * scaleX (continuous coordinates,
 * pixel i spans [i, i + 1)), the same for Y.
 */
export interface WorkingImage {
  data: Uint8Array;
  width: number;
  height: number;
  /** Original pixels per working pixel, each axis. */
  scaleX: number;
  scaleY: number;
  /** EXIF orientation (1-8) of the original, applied to the final square. */
  orientation: number;
  /** Original (oriented) size. */
  originalWidth: number;
  originalHeight: number;
}

/** A circle or a square's centre and half side, in original (oriented) pixels. */
export interface Circle { cx: number; cy: number; r: number }

/** What each stage of the transform produced: for reports, previews and tests. */
export interface TransformStages {
  /** The retina's circle found in the image (original, oriented pixels); undefined when none was found or not looked for. */
  circle: Circle | undefined;
  /** The square cut from the original (centre and half side `r`, oriented pixels); it may reach outside the image, which is black. */
  box: Circle;
  /** The square, size x size x 3 uint8, oriented, before Ben Graham. */
  square: Uint8Array;
  /** Ben Graham's circle and the photograph's part of the square, in square pixels (when asked). */
  benGraham: BenGrahamRegion | undefined;
  /** The stored tensor: HWC, `dtype` bytes. */
  tensor: Uint8Array;
  /** Wall milliseconds of each stage (decode is 0 when the caller decoded). */
  timings: { decodeMs: number; detectMs: number; resampleMs: number; benGrahamMs: number; dtypeMs: number };
}

/**
 * sharp's JPEG shrink-on-load factor for a reduction by `shrink` (its pipeline.cc, fastShrinkOnLoad):
 * the largest of 8, 4, 2 not above `shrink`, halved when `shrink`'s integer part equals it.
 */
function sharpJpegShrink(shrink: number): number {
  let k = shrink >= 8 ? 8 : shrink >= 4 ? 4 : shrink >= 2 ? 2 : 1;
  if (k > 1 && Math.trunc(shrink) === k) k /= 2;
  return k;
}

/**
 * Decode once, as small as quality allows. libjpeg decodes a JPEG at 1/2, 1/4 or 1/8 scale almost
 * for free (shrink-on-load, each output pixel the mean of a k x k block); the entropy decoding is
 * the dominant cost and is paid once. sharp only shrinks on load by k when asked to reduce by at
 * least k + 1, so the working copy is the original / (k + 1), the last step a lanczos3 reduce by
 * (k + 1) / k (sharper than linear: 43.6-52.4 dB against PIL on the Kaggle sample, linear 41.7-50.7,
 * for 0.6 ms more per image). Its shorter side stays >= 0.9 x `size`.
 *
 * The pixels stay in stored orientation: the transform orients the final square (`orientSquare`).
 * Non-8-bit samples other than unsigned 16-bit are converted by their sample format (`decodeSamples`).
 */
export async function decodeWorking(input: string | Uint8Array, size: number): Promise<WorkingImage> {
  const bytes = typeof input === 'string' ? await readWholeFile(input) : input;
  const header = readJpegHeader(bytes);
  let W: number, H: number, orientation: number, target: { width: number; height: number } | undefined;
  let scale = (w: number, h: number) => ({ scaleX: W / w, scaleY: H / h });
  if (header) {
    ({ width: W, height: H, orientation } = header);
    const short = Math.min(W, H);
    const k = [8, 4, 2].find((f) => short / (f + 1) >= 0.9 * size);
    if (k) {
      target = { width: Math.max(1, Math.floor(W / (k + 1))), height: Math.max(1, Math.floor(H / (k + 1))) };
      // libvips' shrink-on-load output is floor(W / k) wide (a partial last block is dropped; a
      // ramp test and the 8 orientations of a 2590 x 1941 photograph agree on it, ceil is 2 px off
      // there): the reduce maps those k * floor(W / k) original pixels onto the target.
      const s = sharpJpegShrink(Math.min(W / target.width, H / target.height));
      scale = (w, h) => ({ scaleX: (s * Math.floor(W / s)) / w, scaleY: (s * Math.floor(H / s)) / h });
    }
  } else {
    const meta = await sharp(bytes).metadata();
    if (!meta.width || !meta.height) throw new Error('image has no dimensions');
    W = meta.width; H = meta.height; orientation = meta.orientation ?? 1;
    if (meta.depth && meta.depth !== 'uchar' && meta.depth !== 'ushort') return decodeSamples(bytes, meta.depth, meta.space, W, H, orientation, size);
    const d = Math.max(1, Math.floor(Math.min(W, H) / size));
    if (d > 1) target = { width: Math.round(W / d), height: Math.round(H / d) };
  }
  let pipeline = sharp(bytes).removeAlpha().toColourspace('srgb');
  if (target) pipeline = pipeline.resize({ ...target, fit: 'fill', kernel: 'lanczos3' });
  const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels after conversion, got ${info.channels}`);
  const swap = swapsSides(orientation);
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height,
    ...scale(info.width, info.height), orientation, originalWidth: swap ? H : W, originalHeight: swap ? W : H,
  };
}

/**
 * Images whose samples are not 8-bit or unsigned 16-bit (which libvips converts right), converted
 * here by their sample format, then reduced like any other non-JPEG image: signed 16-bit as 0..32767 -> 0..255 (negative
 * samples refused), float as 0..1 -> 0..255 when no sample exceeds 1, else as 0..255 when none
 * exceeds 255 (anything else refused). libvips' own conversion turned signed 16-bit into noise
 * and shifted or saturated floats.
 *
 * @throws RetinaError UNSUPPORTED for other sample formats or out-of-range samples.
 */
async function decodeSamples(bytes: Uint8Array, depth: string, space: string | undefined, W: number, H: number, orientation: number, size: number): Promise<WorkingImage> {
  const unsupported = (what: string) => new RetinaError('UNSUPPORTED', `Unsupported samples: ${what}`, {
    hint: 'Convert the image to 8-bit or 16-bit unsigned RGB (e.g. a PNG or JPEG), or pass --skip-invalid to reject it and go on.',
  });
  if (depth !== 'short' && depth !== 'float' && depth !== 'double') throw unsupported(`sample format "${depth}" (retina reads 8-bit, unsigned or signed 16-bit, and float images)`);
  // In the image's own colourspace: no conversion (libvips would gamma-encode a float image as scRGB).
  let pipeline = sharp(bytes);
  if (space) pipeline = pipeline.toColourspace(space);
  const { data, info } = await pipeline.raw({ depth: depth === 'short' ? 'short' : 'float' }).toBuffer({ resolveWithObject: true });
  const v = depth === 'short' ? new Int16Array(data.buffer, data.byteOffset, data.byteLength / 2) : new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4);
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < v.length; i++) { const x = v[i]!; if (x < lo) lo = x; if (x > hi) hi = x; }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw unsupported(`${depth} samples that are not finite numbers`);
  let factor: number;
  if (depth === 'short') {
    if (lo < 0) throw unsupported(`signed 16-bit samples down to ${lo} (expected 0..32767)`);
    factor = 255 / 32767;
  } else if (lo < 0 || hi > 255) {
    throw unsupported(`float samples from ${lo} to ${hi} (expected 0..1, or 0..255)`);
  } else factor = hi <= 1 ? 255 : 1;
  const c = info.channels, n = info.width * info.height;
  const rgb = new Uint8Array(n * 3);
  // Grey (1-2 channels) to all three; alpha dropped.
  const map = c >= 3 ? [0, 1, 2] : [0, 0, 0];
  for (let p = 0; p < n; p++) for (let k = 0; k < 3; k++) rgb[p * 3 + k] = Math.min(255, Math.max(0, Math.round(v[p * c + map[k]!]! * factor)));
  // Then the working copy as for any other non-JPEG image.
  const d = Math.max(1, Math.floor(Math.min(W, H) / size));
  let work = { data: rgb, width: info.width, height: info.height };
  if (d > 1) {
    const r = await sharp(rgb, { raw: { width: info.width, height: info.height, channels: 3 } })
      .resize({ width: Math.round(W / d), height: Math.round(H / d), fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer({ resolveWithObject: true });
    work = { data: new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength), width: r.info.width, height: r.info.height };
  }
  const swap = swapsSides(orientation);
  return { ...work, scaleX: W / work.width, scaleY: H / work.height, orientation, originalWidth: swap ? H : W, originalHeight: swap ? W : H };
}

/** A square in working-copy stored coordinates and the circle found, if any (the same coordinates). */
interface Region { cx: number; cy: number; half: number; circle: { cx: number; cy: number; r: number } | undefined }

/**
 * The square of the working image that becomes the output, in stored original pixels: the
 * retina's circle (crop `auto`), or the whole image centred (crop `none`, or no border found).
 * The circle is looked for with crop `none` only when `needCircle` (Ben Graham needs it).
 */
export function squareRegion(work: WorkingImage, crop: TransformOptions['crop'], needCircle = false): Region {
  const found = crop === 'auto' || needCircle ? findRetina(work.data, work.width, work.height) : undefined;
  // Working to original pixels; a circle stays a circle only when both axes scale alike, which
  // they do to within a pixel's rounding: the radius takes their mean.
  const circle = found && { cx: found.cx * work.scaleX, cy: found.cy * work.scaleY, r: (found.r * (work.scaleX + work.scaleY)) / 2 };
  if (circle && crop === 'auto') return { cx: circle.cx, cy: circle.cy, half: circle.r, circle };
  const { width, height } = storedSize(work);
  return { cx: width / 2, cy: height / 2, half: Math.max(width, height) / 2, circle };
}

/** The original's size in stored orientation. */
function storedSize(work: WorkingImage): { width: number; height: number } {
  const swap = swapsSides(work.orientation);
  return { width: swap ? work.originalHeight : work.originalWidth, height: swap ? work.originalWidth : work.originalHeight };
}

/**
 * The square, resampled once from the working copy's fractional box (no rounding: no sub-pixel
 * shift) with the antialiased triangle filter; outside the image is black. For Ben Graham, edge
 * pixels are renormalized instead (`outside: renormalize`), so the photograph's edge keeps its level.
 * Stored orientation.
 */
export function renderSquare(work: WorkingImage, region: { cx: number; cy: number; half: number }, size: number, edges: 'black' | 'renormalize' = 'black'): Uint8Array {
  const { cx, cy, half } = region;
  return resample({
    src: work.data, width: work.width, height: work.height, outWidth: size, outHeight: size, outside: edges,
    x0: (cx - half) / work.scaleX, x1: (cx + half) / work.scaleX, y0: (cy - half) / work.scaleY, y1: (cy + half) / work.scaleY,
  });
}

/**
 * Ben Graham's region in the (stored-orientation) square: the circle in square pixel indices
 * (the square's own inscribed circle when none was found) and the pixels whose centre lies on the
 * photograph.
 */
function benGrahamRegion(work: WorkingImage, region: Region, size: number): BenGrahamRegion {
  const f = size / (2 * region.half), ox = region.cx - region.half, oy = region.cy - region.half;
  const c = region.circle ?? { cx: region.cx, cy: region.cy, r: region.half };
  const { width: W, height: H } = storedSize(work);
  const first = (u: number) => Math.min(size, Math.max(0, Math.ceil(u - 0.5)));
  const end = (u: number) => Math.min(size, Math.max(0, Math.floor(u - 0.5) + 1));
  return {
    cx: (c.cx - ox) * f - 0.5, cy: (c.cy - oy) * f - 0.5, r: c.r * f,
    rect: { x0: first(-ox * f), y0: first(-oy * f), x1: end((W - ox) * f), y1: end((H - oy) * f) },
  };
}

/** `region` (stored square) as the oriented square sees it. */
function orientRegion(bg: BenGrahamRegion, size: number, orientation: number): BenGrahamRegion {
  const c = orientPoint(orientation, bg.cx + 0.5, bg.cy + 0.5, size, size);
  const a = orientPoint(orientation, bg.rect.x0, bg.rect.y0, size, size), b = orientPoint(orientation, bg.rect.x1, bg.rect.y1, size, size);
  return { cx: c.x - 0.5, cy: c.y - 0.5, r: bg.r, rect: { x0: Math.min(a.x, b.x), y0: Math.min(a.y, b.y), x1: Math.max(a.x, b.x), y1: Math.max(a.y, b.y) } };
}

/**
 * Decode `input` into the working copy, naming the file when it cannot be decoded.
 *
 * @throws RetinaError CORRUPT naming the input when the image cannot be decoded, UNSUPPORTED for sample formats retina does not read.
 */
export async function decodeForTransform(input: string | Uint8Array, opts: TransformOptions): Promise<WorkingImage> {
  checkOptions(opts);
  const file = typeof input === 'string' ? input : undefined;
  try {
    return await decodeWorking(input, opts.size);
  } catch (err) {
    // sharp reports a missing file as a decoding failure; it is not a damaged image.
    if (file !== undefined && !(await stat(file).then((st) => st.isFile(), () => false))) {
      throw new RetinaError('NOT_FOUND', `No image file at ${file}`, { location: { file }, hint: 'Check the path.', cause: err });
    }
    if (err instanceof RetinaError) {
      throw new RetinaError(err.code, `${file ?? 'image bytes'}: ${err.message}`, { ...(file ? { location: { file } } : {}), ...(err.hint ? { hint: err.hint } : {}), cause: err });
    }
    throw new RetinaError('CORRUPT', `Cannot decode ${file ?? 'image bytes'}: ${messageOf(err)}`, {
      ...(file ? { location: { file } } : {}), hint: 'Replace the file, or pass --skip-invalid to reject it and go on.', cause: err,
    });
  }
}

/**
 * Everything after decoding, with what each stage produced: find the retina, resample the square
 * from the working copy's fractional box, Ben Graham (when asked), orient, convert to `dtype`.
 * Pure computation on the working copy, so it may run on any thread.
 */
export function stagesFromWorking(work: WorkingImage, opts: TransformOptions): TransformStages {
  const bg = opts.normalize === 'ben-graham';
  const t0 = performance.now();
  const region = squareRegion(work, opts.crop, bg);
  const t1 = performance.now();
  const stored = renderSquare(work, region, opts.size, bg ? 'renormalize' : 'black');
  const t2 = performance.now();
  const bgRegion = bg ? benGrahamRegion(work, region, opts.size) : undefined;
  const pixels = bgRegion ? orientSquare(benGraham(stored, opts.size, bgRegion), opts.size, work.orientation) : undefined;
  const t3 = performance.now();
  const square = orientSquare(stored, opts.size, work.orientation);
  const tensor = toDType(pixels ?? square, opts.dtype);
  const t4 = performance.now();
  const { width: W, height: H } = storedSize(work);
  const orient = (c: { cx: number; cy: number; r: number }): Circle => {
    const p = orientPoint(work.orientation, c.cx, c.cy, W, H);
    return { cx: p.x, cy: p.y, r: c.r };
  };
  return {
    circle: region.circle && orient(region.circle), box: orient({ cx: region.cx, cy: region.cy, r: region.half }),
    square, benGraham: bgRegion && orientRegion(bgRegion, opts.size, work.orientation), tensor,
    timings: { decodeMs: 0, detectMs: t1 - t0, resampleMs: t2 - t1, benGrahamMs: t3 - t2, dtypeMs: t4 - t3 },
  };
}

/** Everything after decoding, to the stored tensor. */
export async function tensorFromWorking(work: WorkingImage, opts: TransformOptions): Promise<Uint8Array> {
  return stagesFromWorking(work, opts).tensor;
}

/**
 * The whole transform of one image with what each stage produced and how long it took: the
 * circle, the box, the square before Ben Graham, Ben Graham's region, the tensor, the timings.
 * `transformImage` is this, keeping only the tensor.
 *
 * @throws RetinaError CORRUPT when the image cannot be decoded, BAD_ARGUMENT for bad options.
 */
export async function transformStages(input: string | Uint8Array, opts: TransformOptions = DEFAULT_TRANSFORM): Promise<TransformStages> {
  const t0 = performance.now();
  const work = await decodeForTransform(input, opts);
  const decodeMs = performance.now() - t0;
  const stages = stagesFromWorking(work, opts);
  return { ...stages, timings: { ...stages.timings, decodeMs } };
}

/**
 * Decode `input` (a path or encoded bytes) and return an HWC tensor of `size` x `size` x 3 in
 * `dtype` (little-endian bytes; floats are pixel / 255): EXIF orientation applied, cropped to the
 * retina (crop `auto`), resized keeping aspect ratio and padded with black, optionally Ben Graham
 * normalized. Deterministic: the same input and options give the same bytes.
 *
 * @throws RetinaError CORRUPT when the image cannot be decoded, BAD_ARGUMENT for bad options.
 */
export async function transformImage(input: string | Uint8Array, opts: TransformOptions = DEFAULT_TRANSFORM): Promise<Uint8Array> {
  return stagesFromWorking(await decodeForTransform(input, opts), opts).tensor;
}

function checkOptions(opts: TransformOptions): void {
  if (!Number.isInteger(opts.size) || opts.size < 8 || opts.size > 4096) throw badArgument('--size', 'an integer from 8 to 4096', opts.size);
  if (opts.crop !== 'auto' && opts.crop !== 'none') throw badArgument('--crop', 'auto or none', opts.crop);
  if (opts.normalize !== 'none' && opts.normalize !== 'ben-graham') throw badArgument('--normalize', 'none or ben-graham', opts.normalize);
  if (!['uint8', 'float16', 'float32'].includes(opts.dtype)) throw badArgument('--dtype', 'uint8, float16 or float32', opts.dtype);
}
