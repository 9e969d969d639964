import sharp, { type Sharp } from 'sharp';
import { stat } from 'node:fs/promises';
import type { DType } from '../formats/types.js';
import { RetinaError, badArgument, messageOf } from './core/errors.js';
import { findRetina, type RetinaCircle } from './retina-box.js';
import { benGrahamSigma, finishTensor } from './finish.js';
import { plainJpegSize } from './jpeg-header.js';
import { resample } from './resample.js';

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

/** A decoded, oriented, reduced RGB copy of an image and how it relates to the original. */
export interface WorkingImage {
  data: Uint8Array;
  width: number;
  height: number;
  /** Original (oriented) size. */
  originalWidth: number;
  originalHeight: number;
}

/** The square before the JS-side steps: size x size x 3 uint8, plus its blur when Ben Graham is asked. */
export interface SquareImage {
  square: Uint8Array;
  blurred: Uint8Array | undefined;
  circle: RetinaCircle | undefined;
}

/**
 * Decode once, as small as quality allows. libjpeg can decode a JPEG at 1/2, 1/4 or 1/8 scale
 * almost for free (shrink-on-load); decoding twice (once to find the retina, once to crop) would
 * pay the entropy decoding twice, the dominant cost. So the whole image is decoded once to a
 * working size whose shorter side is still about `size` (then retina detection and the crop run
 * on that small copy). sharp picks shrink-on-load factor k when the requested shrink s has
 * s >= k and floor(s) != k, hence the divisors k + 1 below.
 */
export async function decodeWorking(input: string | Uint8Array, size: number): Promise<WorkingImage> {
  const img = sharp(input, { autoOrient: true });
  const { width: W, height: H, jpeg } = await orientedSize(img, input);
  const short = Math.min(W, H);
  let divisor = 1;
  if (jpeg) {
    for (const k of [8, 4, 2]) if (short / (k + 1) >= 0.9 * size) { divisor = k + 1; break; }
  } else {
    divisor = Math.max(1, Math.floor(short / size));
  }
  let pipeline = img.removeAlpha().toColourspace('srgb');
  // The reduce after shrink-on-load is by (k+1)/k at most 1.5x, and the working copy is resampled
  // again later: a (scaled, so antialiased) linear kernel is enough and ~10 % cheaper than lanczos3.
  if (divisor > 1) pipeline = pipeline.resize({ width: Math.max(1, Math.round(W / divisor)), height: Math.max(1, Math.round(H / divisor)), fit: 'fill', kernel: 'linear' });
  const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels after conversion, got ${info.channels}`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, originalWidth: W, originalHeight: H };
}

/**
 * Oriented size of `input` and whether it is a JPEG: from the JPEG frame header in JS when the
 * bytes are a JPEG without EXIF (most fundus photographs), else from libvips' metadata.
 */
async function orientedSize(img: Sharp, input: string | Uint8Array): Promise<{ width: number; height: number; jpeg: boolean }> {
  const plain = typeof input === 'string' ? undefined : plainJpegSize(input);
  if (plain) return { ...plain, jpeg: true };
  const meta = await img.metadata();
  if (!meta.width || !meta.height) throw new Error('image has no dimensions');
  const swap = (meta.orientation ?? 1) >= 5;
  return { width: swap ? meta.height : meta.width, height: swap ? meta.width : meta.height, jpeg: meta.format === 'jpeg' };
}

/**
 * The square of the working image that becomes the output: the retina's circle (crop `auto`)
 * or the whole image centred (crop `none`, or no border found), as a centre and half side.
 */
export function squareRegion(work: WorkingImage, crop: TransformOptions['crop']): { cx: number; cy: number; half: number; circle: RetinaCircle | undefined } {
  const circle = crop === 'auto' ? findRetina(work.data, work.width, work.height) : undefined;
  if (circle) return { cx: circle.cx, cy: circle.cy, half: circle.r, circle };
  return { cx: work.width / 2, cy: work.height / 2, half: Math.max(work.width, work.height) / 2, circle: undefined };
}

/**
 * Crop, resize and pad to `size` x `size`: the part of the square inside the working image is
 * resampled (antialiased triangle filter, `resample`), the rest (outside the camera's frame) is
 * black, so a clipped circle stays centred.
 */
export function renderSquare(work: WorkingImage, region: { cx: number; cy: number; half: number }, size: number): Uint8Array {
  const s = size / (2 * region.half);
  const ox = region.cx - region.half, oy = region.cy - region.half;
  const left = Math.max(0, Math.round(ox)), top = Math.max(0, Math.round(oy));
  const right = Math.min(work.width, Math.round(region.cx + region.half)), bottom = Math.min(work.height, Math.round(region.cy + region.half));
  const w = Math.max(1, right - left), h = Math.max(1, bottom - top);
  const tw = Math.min(size, Math.max(1, Math.round(w * s))), th = Math.min(size, Math.max(1, Math.round(h * s)));
  const padLeft = Math.min(size - tw, Math.max(0, Math.round((left - ox) * s)));
  const padTop = Math.min(size - th, Math.max(0, Math.round((top - oy) * s)));
  const data = resample({ src: work.data, width: work.width, height: work.height, left, top, cropWidth: w, cropHeight: h, outWidth: tw, outHeight: th });
  if (tw === size && th === size) return data;
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < th; y++) out.set(data.subarray(y * tw * 3, (y + 1) * tw * 3), ((padTop + y) * size + padLeft) * 3);
  return out;
}

/** Gaussian blur of a square (libvips, sigma = radius / 30) for Ben Graham's normalization. */
export async function blurSquare(square: Uint8Array, size: number): Promise<Uint8Array> {
  const data = await sharp(square, { raw: { width: size, height: size, channels: 3 } }).blur(benGrahamSigma(size)).raw().toBuffer();
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Decode `input` into the working copy, naming the file when it cannot be decoded.
 *
 * @throws RetinaError CORRUPT naming the input when the image cannot be decoded.
 */
export async function decodeForTransform(input: string | Uint8Array, opts: TransformOptions): Promise<WorkingImage> {
  checkOptions(opts);
  try {
    return await decodeWorking(input, opts.size);
  } catch (err) {
    const file = typeof input === 'string' ? input : undefined;
    // sharp reports a missing file as a decoding failure; it is not a damaged image.
    if (file !== undefined && !(await stat(file).then((st) => st.isFile(), () => false))) {
      throw new RetinaError('NOT_FOUND', `No image file at ${file}`, { location: { file }, hint: 'Check the path.', cause: err });
    }
    throw new RetinaError('CORRUPT', `Cannot decode ${file ?? 'image bytes'}: ${messageOf(err)}`, {
      ...(file ? { location: { file } } : {}), hint: 'Replace the file, or pass --skip-invalid to reject it and go on.', cause: err,
    });
  }
}

/**
 * Everything after decoding, as a square: find the retina, crop/resize/pad, and blur when Ben
 * Graham is asked. Pure computation on the working copy, so it may run on any thread.
 */
export async function squareFromWorking(work: WorkingImage, opts: TransformOptions): Promise<SquareImage> {
  const region = squareRegion(work, opts.crop);
  const square = renderSquare(work, region, opts.size);
  const blurred = opts.normalize === 'ben-graham' ? await blurSquare(square, opts.size) : undefined;
  return { square, blurred, circle: region.circle };
}

/** Everything after decoding, to the stored tensor (`squareFromWorking` then `finishTensor`). */
export async function tensorFromWorking(work: WorkingImage, opts: TransformOptions): Promise<Uint8Array> {
  const { square, blurred } = await squareFromWorking(work, opts);
  return finishTensor(square, blurred, opts.size, opts.dtype);
}

/**
 * The image steps of the transform: decode (EXIF-oriented, shrunk on load), find the retina,
 * crop/resize/pad into the square, and blur it when Ben Graham is asked. What is left (Ben
 * Graham's arithmetic, dtype conversion) is `finishTensor`.
 *
 * @throws RetinaError CORRUPT naming the input when the image cannot be decoded.
 */
export async function transformToSquare(input: string | Uint8Array, opts: TransformOptions): Promise<SquareImage> {
  return squareFromWorking(await decodeForTransform(input, opts), opts);
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
  return tensorFromWorking(await decodeForTransform(input, opts), opts);
}

function checkOptions(opts: TransformOptions): void {
  if (!Number.isInteger(opts.size) || opts.size < 8 || opts.size > 4096) throw badArgument('--size', 'an integer from 8 to 4096', opts.size);
  if (opts.crop !== 'auto' && opts.crop !== 'none') throw badArgument('--crop', 'auto or none', opts.crop);
  if (opts.normalize !== 'none' && opts.normalize !== 'ben-graham') throw badArgument('--normalize', 'none or ben-graham', opts.normalize);
  if (!['uint8', 'float16', 'float32'].includes(opts.dtype)) throw badArgument('--dtype', 'uint8, float16 or float32', opts.dtype);
}
