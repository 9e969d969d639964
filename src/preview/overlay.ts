import type { RgbCanvas } from '../inspect/bitmap-font.js';

type Rgb = readonly [number, number, number];

function plot(c: RgbCanvas, x: number, y: number, rgb: Rgb): void {
  const px = Math.round(x), py = Math.round(y);
  if (px < 0 || py < 0 || px >= c.width || py >= c.height) return;
  const o = (py * c.width + px) * 3;
  c.data[o] = rgb[0]; c.data[o + 1] = rgb[1]; c.data[o + 2] = rgb[2];
}

/** A circle's outline, `thickness` pixels wide, clipped to the canvas. */
export function strokeCircle(c: RgbCanvas, cx: number, cy: number, r: number, rgb: Rgb, thickness = 2): void {
  const steps = Math.max(64, Math.ceil(2 * Math.PI * (r + thickness) * 2));
  for (let t = 0; t < thickness; t++) {
    for (let k = 0; k < steps; k++) {
      const a = (2 * Math.PI * k) / steps;
      plot(c, cx + (r - t) * Math.cos(a), cy + (r - t) * Math.sin(a), rgb);
    }
  }
}

/** A rectangle's outline (x0, y0 to x1, y1 inclusive), clipped to the canvas. */
export function strokeRect(c: RgbCanvas, x0: number, y0: number, x1: number, y1: number, rgb: Rgb, thickness = 2): void {
  for (let t = 0; t < thickness; t++) {
    for (let x = Math.round(x0); x <= Math.round(x1); x++) { plot(c, x, y0 + t, rgb); plot(c, x, y1 - t, rgb); }
    for (let y = Math.round(y0); y <= Math.round(y1); y++) { plot(c, x0 + t, y, rgb); plot(c, x1 - t, y, rgb); }
  }
}

/** Copy an RGB image (w x h) into the canvas at (x, y), clipped. */
export function blit(c: RgbCanvas, src: Uint8Array, w: number, h: number, x: number, y: number): void {
  for (let r = 0; r < h; r++) {
    const py = y + r;
    if (py < 0 || py >= c.height) continue;
    const from = Math.max(0, -x), to = Math.min(w, c.width - x);
    if (to <= from) continue;
    c.data.set(src.subarray((r * w + from) * 3, (r * w + to) * 3), (py * c.width + x + from) * 3);
  }
}
