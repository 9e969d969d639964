import sharp from 'sharp';
import type { DType } from '../formats/types.js';

/** How an image becomes a tensor; shared by `retina preprocess` and the trainer's `images` source. */
export interface TransformOptions {
  /** Output side in pixels (square). */
  size: number;
  crop: 'auto' | 'none';
  normalize: 'none' | 'ben-graham';
  dtype: DType;
}

export const DEFAULT_TRANSFORM: TransformOptions = { size: 299, crop: 'auto', normalize: 'none', dtype: 'uint8' };

/**
 * Decode `input` (a path or encoded bytes) and return an HWC tensor of `size`x`size`x3 in
 * `dtype` (little-endian bytes). Letterboxes into the square with black, keeping aspect ratio.
 */
export async function transformImage(input: string | Uint8Array, opts: TransformOptions = DEFAULT_TRANSFORM): Promise<Uint8Array> {
  const { data } = await sharp(input)
    .rotate()
    .resize(opts.size, opts.size, { fit: 'contain', background: { r: 0, g: 0, b: 0 } })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
