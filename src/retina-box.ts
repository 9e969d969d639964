/**
 * Find the circular field of view (the retina) of a fundus photograph on a small decoded copy.
 *
 * The border of a fundus photograph is black but not zero (JPEG noise, sensor noise, sometimes a
 * caption), and the retina can be dark (underexposed images). So: take the brightest channel of
 * each pixel on a sparse grid, estimate the border level from the four corners and the retina
 * level from a high percentile, threshold in between, and take the extents where whole rows and
 * columns have a minimum share of bright pixels (a few noisy pixels or a caption do not count).
 * The camera often clips the circle at the top and bottom: the horizontal extent is then the
 * diameter, and the centre row is where the circle is widest.
 */

/** A circle in pixel coordinates of the image it was found in, with its visible bounding box. */
export interface RetinaCircle {
  cx: number;
  cy: number;
  r: number;
  box: { x0: number; y0: number; x1: number; y1: number };
}

/** Grid points sampled along the longer side: enough for a sub-percent box, cheap in JS. */
const GRID = 256;

/**
 * Locate the retina in an RGB (3 channel, HWC, uint8) image. Returns undefined when there is no
 * dark border to separate it from (the image is the retina, or blank): callers then keep the
 * whole image.
 */
export function findRetina(rgb: Uint8Array, width: number, height: number): RetinaCircle | undefined {
  const step = Math.max(1, Math.floor(Math.max(width, height) / GRID));
  const gw = Math.floor((width - 1) / step) + 1, gh = Math.floor((height - 1) / step) + 1;
  const v = new Uint8Array(gw * gh);
  // The histogram is filled in the same pass (one walk over the image, which is the cost here).
  const hist = new Uint32Array(256);
  const stride = step * 3;
  let i = 0;
  for (let gy = 0; gy < gh; gy++) {
    let p = gy * step * width * 3;
    for (let gx = 0; gx < gw; gx++, p += stride) {
      const r = rgb[p]!, g = rgb[p + 1]!, b = rgb[p + 2]!;
      const m = r > g ? (r > b ? r : b) : g > b ? g : b;
      v[i++] = m;
      hist[m]!++;
    }
  }
  const border = cornerLevel(v, gw, gh);
  const bright = percentile(hist, v.length, 0.95);
  // No contrast between border and content: nothing to crop.
  if (bright - border < 12) return undefined;
  const threshold = border + Math.max(6, 0.12 * (bright - border));
  const rows = new Uint32Array(gh), cols = new Uint32Array(gw);
  // v holds integers: `> threshold` is `>= floor(threshold) + 1`, an integer compare.
  const cut = Math.floor(threshold) + 1;
  i = 0;
  for (let gy = 0; gy < gh; gy++) {
    let n = 0;
    for (let gx = 0; gx < gw; gx++, i++) {
      if (v[i]! >= cut) { n++; cols[gx]!++; }
    }
    rows[gy] = n;
  }
  const minRow = Math.max(2, Math.ceil(0.03 * gw)), minCol = Math.max(2, Math.ceil(0.03 * gh));
  const ys = extent(rows, minRow), xs = extent(cols, minCol);
  if (!ys || !xs) return undefined;
  // Back to pixel coordinates: a grid point stands for `step` pixels.
  const x0 = xs[0] * step, x1 = Math.min(width, (xs[1] + 1) * step);
  const y0 = ys[0] * step, y1 = Math.min(height, (ys[1] + 1) * step);
  const bw = x1 - x0, bh = y1 - y0;
  let cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  const r = Math.max(bw, bh) / 2;
  // A clipped axis (visibly shorter than the diameter) gets its centre from the widest chord.
  if (bh < 0.97 * bw) cy = clamp((widestAt(rows, ys) + 0.5) * step, y1 - r, y0 + r);
  else if (bw < 0.97 * bh) cx = clamp((widestAt(cols, xs) + 0.5) * step, x1 - r, x0 + r);
  return { cx, cy, r, box: { x0, y0, x1, y1 } };
}

function clamp(v: number, lo: number, hi: number): number {
  return lo > hi ? (lo + hi) / 2 : v < lo ? lo : v > hi ? hi : v;
}

/** Median of the four corner patches (4 % of each side): the border's level. */
function cornerLevel(v: Uint8Array, gw: number, gh: number): number {
  const cw = Math.max(1, Math.round(gw * 0.04)), ch = Math.max(1, Math.round(gh * 0.04));
  const samples: number[] = [];
  for (const [ox, oy] of [[0, 0], [gw - cw, 0], [0, gh - ch], [gw - cw, gh - ch]] as const) {
    for (let y = oy; y < oy + ch; y++) for (let x = ox; x < ox + cw; x++) samples.push(v[y * gw + x]!);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1]!;
}

/** The q-quantile of `n` values given their histogram. */
function percentile(hist: Uint32Array, n: number, q: number): number {
  const target = q * n;
  let seen = 0;
  for (let i = 0; i < 256; i++) {
    seen += hist[i]!;
    if (seen >= target) return i;
  }
  return 255;
}

/** First and last index whose count reaches `min`. */
function extent(counts: Uint32Array, min: number): [number, number] | undefined {
  let lo = -1, hi = -1;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i]! >= min) { if (lo < 0) lo = i; hi = i; }
  }
  return lo < 0 ? undefined : [lo, hi];
}

/** Mean index of the counts within 2 % of the largest one, inside [lo, hi]. */
function widestAt(counts: Uint32Array, [lo, hi]: [number, number]): number {
  let max = 0;
  for (let i = lo; i <= hi; i++) max = Math.max(max, counts[i]!);
  let sum = 0, n = 0;
  for (let i = lo; i <= hi; i++) if (counts[i]! >= 0.98 * max) { sum += i; n++; }
  return n ? sum / n : (lo + hi) / 2;
}
