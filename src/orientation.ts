/**
 * EXIF orientation (1-8) as exact pixel permutations. The transform decodes the stored pixels,
 * finds the retina and resamples in stored coordinates, and orients only the final square: a
 * flip or transpose of a square is lossless, so the 8 orientations of one photograph give the
 * same tensor, and the decoder's shrink-on-load never meets a rotated block grid.
 */

/** True when the orientation swaps width and height (5-8: a transpose is involved). */
export function swapsSides(orientation: number): boolean {
  return orientation >= 5 && orientation <= 8;
}

/**
 * Where the stored point (x, y) of a `width` x `height` image lands once oriented, in continuous
 * coordinates (pixel i spans [i, i + 1)).
 */
export function orientPoint(orientation: number, x: number, y: number, width: number, height: number): { x: number; y: number } {
  switch (orientation) {
    case 2: return { x: width - x, y };
    case 3: return { x: width - x, y: height - y };
    case 4: return { x, y: height - y };
    case 5: return { x: y, y: x };
    case 6: return { x: height - y, y: x };
    case 7: return { x: height - y, y: width - x };
    case 8: return { x: y, y: width - x };
    default: return { x, y };
  }
}

/** The `size` x `size` RGB square `src` (stored orientation) as displayed; `src` itself for 1. */
export function orientSquare(src: Uint8Array, size: number, orientation: number): Uint8Array {
  if (orientation < 2 || orientation > 8) return src;
  const out = new Uint8Array(src.length);
  const last = size - 1;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let ox: number, oy: number;
      switch (orientation) {
        case 2: ox = last - x; oy = y; break;
        case 3: ox = last - x; oy = last - y; break;
        case 4: ox = x; oy = last - y; break;
        case 5: ox = y; oy = x; break;
        case 6: ox = last - y; oy = x; break;
        case 7: ox = last - y; oy = last - x; break;
        default: ox = y; oy = last - x; break; // 8
      }
      const s = (y * size + x) * 3, d = (oy * size + ox) * 3;
      out[d] = src[s]!; out[d + 1] = src[s + 1]!; out[d + 2] = src[s + 2]!;
    }
  }
  return out;
}
