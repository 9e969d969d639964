/**
 * Resize a fractional window of an RGB (HWC uint8) image with an antialiased triangle filter:
 * bilinear when enlarging, and when reducing by s each output pixel averages the input under a
 * triangle of half-width s (the "bilinear, antialias=True" of PIL and torchvision, the seed's
 * path; against PIL's resize of the same box: 61 dB from the same full-resolution pixels). The
 * same kernels run the 2-D convolution of Ben Graham's blur (`convolveRgb`).
 *
 * Why not libvips: a libvips resize of a ~300-700 px crop costs about 0.6 ms of pipeline set-up
 * however cheap the kernel (even `nearest`), a large share of the 5-17 ms an image costs. Here the
 * arithmetic runs in two small WebAssembly SIMD kernels, vertical pass first (a multiply-add of
 * whole rows), then horizontal (one pixel's 3 channels per vector).
 *
 * Fixed point throughout, so the WebAssembly kernels and the JS reference give identical bytes:
 * weights are Q14 summing to exactly 16384; the vertical pass keeps Q8 (16 bits), the horizontal
 * pass rounds Q22 to the byte. No intermediate overflows 32 bits (255 * 256 * 16384 < 2^31).
 */
import { assembleModule, compileOrNull, simd, sleb, Wasm, type WasmMemory, type WasmModule } from './wasm-asm.js';

/**
 * A resampling job: the window [x0, x1) x [y0, y1) of a `width` x `height` RGB image, in continuous
 * pixel coordinates (pixel i spans [i, i + 1), so fractions are honoured: no rounding of the box),
 * becomes `outWidth` x `outHeight`. The window may reach outside the image: that part reads as
 * black, exactly as if the image lay on a black canvas (PIL's `resize(box=...)` on a padded image).
 */
export interface ResampleJob {
  src: Uint8Array;
  width: number;
  height: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  outWidth: number;
  outHeight: number;
  /**
   * Outside the image: `black` (default; PIL on a black canvas), or `renormalize`: taps outside
   * are dropped and the rest renormalized (PIL at a real image edge), so pixels next to the
   * image's edge keep their level, for filters that treat that edge as a border of their own.
   */
  outside?: 'black' | 'renormalize';
}

const ONE = 1 << 14;

/**
 * Filter taps of one axis: output i reads `count[i]` inputs from `start[i]` (absolute, inside the
 * image) with Q14 `weights[i * maxTaps + k]`.
 */
export interface AxisTaps { start: Int32Array; count: Int32Array; weights: Int32Array; maxTaps: number }

/**
 * Triangle (antialiased bilinear) taps for the window [a0, a1) of an axis of `inLen` pixels onto
 * `outLen` outputs: centre of output i at a0 + (i + 0.5) * scale, half-width max(scale, 1), as PIL
 * computes them. Weights are normalized over the whole window, inside the image or not, then the
 * taps outside the image are dropped (they read black).
 */
export function triangleTaps(inLen: number, a0: number, a1: number, outLen: number, renormalize = false): AxisTaps {
  const scale = (a1 - a0) / outLen;
  const support = Math.max(scale, 1);
  const maxTaps = 2 * Math.ceil(support) + 1;
  const start = new Int32Array(outLen), count = new Int32Array(outLen), weights = new Int32Array(outLen * maxTaps);
  const raw = new Float64Array(maxTaps), q = new Int32Array(maxTaps);
  for (let i = 0; i < outLen; i++) {
    const centre = a0 + (i + 0.5) * scale;
    // Pixels whose centre j + 0.5 lies strictly inside the triangle.
    let lo = Math.floor(centre - support - 0.5) + 1, hi = Math.ceil(centre + support - 0.5) - 1;
    if (renormalize) { lo = Math.max(lo, 0); hi = Math.min(hi, inLen - 1); }
    let sum = 0, n = 0;
    for (let x = lo; x <= hi; x++) sum += raw[n++] = Math.max(0, 1 - Math.abs(x + 0.5 - centre) / support);
    let total = 0, biggest = 0;
    for (let k = 0; k < n; k++) {
      q[k] = sum > 0 ? Math.round((raw[k]! / sum) * ONE) : k === 0 ? ONE : 0;
      total += q[k]!;
      if (q[k]! > q[biggest]!) biggest = k;
    }
    // Rounding must not change the sum: the largest tap absorbs the difference.
    q[biggest]! += ONE - total;
    const first = Math.max(lo, 0), last = Math.min(hi, inLen - 1);
    start[i] = first;
    count[i] = Math.max(0, last - first + 1);
    for (let x = first; x <= last; x++) weights[i * maxTaps + x - first] = q[x - lo]!;
  }
  return { start, count, weights, maxTaps };
}

function check(job: ResampleJob): void {
  const { width, height, outWidth, outHeight, src, x0, y0, x1, y1 } = job;
  if (![width, height, outWidth, outHeight].every((v) => Number.isInteger(v) && v >= 1) || src.length < width * height * 3
    || ![x0, y0, x1, y1].every(Number.isFinite) || !(x1 > x0) || !(y1 > y0)) {
    throw new RangeError(`resample: window [${x0}, ${x1}) x [${y0}, ${y1}) -> ${outWidth}x${outHeight} of a ${width}x${height} RGB image of ${src.length} bytes`);
  }
}

/** The taps of a job, both axes. */
function jobTaps(job: ResampleJob): { hx: AxisTaps; vy: AxisTaps } {
  const renorm = job.outside === 'renormalize';
  return { hx: triangleTaps(job.width, job.x0, job.x1, job.outWidth, renorm), vy: triangleTaps(job.height, job.y0, job.y1, job.outHeight, renorm) };
}

/** The reference implementation, in plain JS (and the fallback where WebAssembly SIMD is missing). */
export function resampleJs(job: ResampleJob): Uint8Array {
  check(job);
  const { hx, vy } = jobTaps(job);
  return applyTapsJs(job.src, job.width, hx, vy, job.outWidth, job.outHeight);
}

/**
 * Separable filtering of an RGB image of row length `width` with explicit taps, vertical pass
 * first (kept in Q8), then horizontal (rounded to bytes). The arithmetic both the WebAssembly
 * kernels and this reference do.
 */
export function applyTapsJs(src: Uint8Array, width: number, hx: AxisTaps, vy: AxisTaps, tw: number, th: number): Uint8Array {
  const tmp = new Uint16Array(th * width * 3);
  const rowLen = width * 3;
  for (let y = 0; y < th; y++) {
    const o = y * rowLen;
    for (let i = 0; i < rowLen; i++) {
      let acc = 0;
      for (let k = 0; k < vy.count[y]!; k++) acc += vy.weights[y * vy.maxTaps + k]! * src[(vy.start[y]! + k) * rowLen + i]!;
      tmp[o + i] = (acc + 32) >> 6;
    }
  }
  const out = new Uint8Array(tw * th * 3);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let k = 0; k < hx.count[x]!; k++) acc += hx.weights[x * hx.maxTaps + k]! * tmp[y * rowLen + (hx.start[x]! + k) * 3 + c]!;
        out[(y * tw + x) * 3 + c] = (acc + (1 << 21)) >> 22;
      }
    }
  }
  return out;
}

const I32 = 0x7f, V128 = 0x7b;
const get = (i: number) => [0x20, i], set = (i: number) => [0x21, i];
const i32 = (n: number) => [0x41, ...sleb(n)];
const add = 0x6a, sub = 0x6b, eqz = 0x45;
const load = (offset = 0) => [0x28, 2, ...sleb(offset)]; // i32.load align=4
const zero = [...i32(0), ...simd(0x11)]; // i32x4.splat(0)
const loopWhile = (counter: number, body: number[]) => [
  0x02, 0x40, 0x03, 0x40, ...get(counter), eqz, 0x0d, 1, // block; loop; br_if out when counter == 0
  ...body,
  ...get(counter), ...i32(1), sub, ...set(counter), 0x0c, 0, 0x0b, 0x0b, // counter -= 1; br loop; end; end
];

/**
 * vpass(dst, chunks, taps, nTaps): for each 16-byte column chunk j, sum over the taps
 * (rowAddress i32, weight i32) of weight * u8[rowAddress + 16 j], stored as (sum + 32) >> 6 in
 * 16 u16 at dst + 32 j.
 */
const VPASS = (() => {
  const [dst, chunks, taps, nTaps, off, k, tp, a0, a1, a2, a3, v, w, t] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const acc = (a: number, half: number) => [...get(a), ...get(t), ...get(w), ...simd(half), ...simd(0xae), ...set(a)]; // a += extmul(t, w)
  const round = (a: number) => [...get(a), ...i32(32), ...simd(0x11), ...simd(0xae), ...i32(6), ...simd(0xad)]; // (a + 32) >> 6
  const tap = [
    ...get(tp), ...load(4), ...simd(0x10), ...set(w), // w = i16x8.splat(weight)
    ...get(tp), ...load(0), ...get(off), add, ...simd(0x00), 0, 0, ...set(v), // v = v128.load(rowAddress + off)
    ...get(v), ...simd(0x89), ...set(t), ...acc(a0, 0xbe), ...acc(a1, 0xbf), // low 8 bytes
    ...get(v), ...simd(0x8a), ...set(t), ...acc(a2, 0xbe), ...acc(a3, 0xbf), // high 8 bytes
    ...get(tp), ...i32(8), add, ...set(tp),
  ];
  const chunk = [
    ...zero, ...set(a0), ...zero, ...set(a1), ...zero, ...set(a2), ...zero, ...set(a3),
    ...get(taps), ...set(tp), ...get(nTaps), ...set(k),
    ...loopWhile(k, tap),
    ...get(dst), ...round(a0), ...round(a1), ...simd(0x86), ...simd(0x0b), 0, 0, // v128.store(dst, narrow_u(a0, a1))
    ...get(dst), ...round(a2), ...round(a3), ...simd(0x86), ...simd(0x0b), 0, 16,
    ...get(dst), ...i32(32), add, ...set(dst), ...get(off), ...i32(16), add, ...set(off),
  ];
  return { name: 'vpass', params: [I32, I32, I32, I32], locals: [[3, I32], [7, V128]] as Array<[number, number]>, body: [...i32(0), ...set(off), ...loopWhile(chunks, chunk)] };
})();

/**
 * hpass(src, dst, tw, xtab, weights, maxTaps): for each output pixel x (record (byteOffset,
 * count) at xtab + 8x, weights from `weights` + 4 maxTaps x), sum weight * u16x3 pixel over the
 * taps, round Q22 to bytes and store 4 bytes at dst + 3x (the 4th is overwritten by the next
 * pixel; the caller leaves room after the last).
 */
const HPASS = (() => {
  const [src, dst, tw, xtab, weights, maxTaps, p, k, wp, acc] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const tap = [
    ...get(acc), ...get(p), ...simd(0x04), 1, 0, // v128.load16x4_u(p): R G B and the next R, as i32x4
    ...get(wp), ...load(0), ...simd(0x11), ...simd(0xb5), ...simd(0xae), ...set(acc), // acc += pixel * splat(weight)
    ...get(p), ...i32(6), add, ...set(p), ...get(wp), ...i32(4), add, ...set(wp),
  ];
  const body = [
    ...zero, ...set(acc),
    ...get(src), ...get(xtab), ...load(0), add, ...set(p), ...get(xtab), ...load(4), ...set(k), ...get(weights), ...set(wp),
    ...loopWhile(k, tap),
    ...get(dst),
    ...get(acc), ...i32(1 << 21), ...simd(0x11), ...simd(0xae), ...i32(22), ...simd(0xad), ...set(acc),
    ...get(acc), ...get(acc), ...simd(0x86), // i16x8.narrow_i32x4_u
    ...set(acc), ...get(acc), ...get(acc), ...simd(0x66), // i8x16.narrow_i16x8_u
    ...simd(0x5a), 0, 0, 0, // v128.store32_lane align=1 offset=0 lane 0
    ...get(dst), ...i32(3), add, ...set(dst), ...get(xtab), ...i32(8), add, ...set(xtab),
    ...get(weights), ...get(maxTaps), ...i32(4), 0x6c, add, ...set(weights), // weights += 4 * maxTaps
  ];
  return { name: 'hpass', params: [I32, I32, I32, I32, I32, I32], locals: [[3, I32], [1, V128]] as Array<[number, number]>, body: loopWhile(tw, body) };
})();

/**
 * vpass16(dst, chunks, taps, nTaps): for each 8-lane chunk j, sum over the taps (rowAddress i32,
 * weight i32) of weight * u16[rowAddress + 16 j] (Q8 values, Q14 weights), rounded Q22 to bytes:
 * 8 bytes stored at dst + 8 j. The second pass of `convolveRgb`.
 */
const VPASS16 = (() => {
  const [dst, chunks, taps, nTaps, off, k, tp, a0, a1, v, w] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const round = (a: number) => [...get(a), ...i32(1 << 21), ...simd(0x11), ...simd(0xae), ...i32(22), ...simd(0xad)]; // (a + 2^21) >> 22
  const tap = [
    ...get(tp), ...load(4), ...simd(0x10), ...set(w), // w = i16x8.splat(weight)
    ...get(tp), ...load(0), ...get(off), add, ...simd(0x00), 0, 0, ...set(v), // v = 8 u16 at rowAddress + off
    ...get(a0), ...get(v), ...get(w), ...simd(0xbe), ...simd(0xae), ...set(a0), // a0 += extmul_low_u(v, w)
    ...get(a1), ...get(v), ...get(w), ...simd(0xbf), ...simd(0xae), ...set(a1),
    ...get(tp), ...i32(8), add, ...set(tp),
  ];
  const chunk = [
    ...zero, ...set(a0), ...zero, ...set(a1),
    ...get(taps), ...set(tp), ...get(nTaps), ...set(k),
    ...loopWhile(k, tap),
    ...get(dst), ...round(a0), ...round(a1), ...simd(0x86), ...set(v), ...get(v), ...get(v), ...simd(0x66), // u8 narrow
    ...simd(0x5b), 0, 0, 0, // v128.store64_lane lane 0
    ...get(dst), ...i32(8), add, ...set(dst), ...get(off), ...i32(16), add, ...set(off),
  ];
  return { name: 'vpass16', params: [I32, I32, I32, I32], locals: [[3, I32], [4, V128]] as Array<[number, number]>, body: [...i32(0), ...set(off), ...loopWhile(chunks, chunk)] };
})();

let compiled: WasmModule | null | undefined;
function kernels(): WasmModule | null {
  if (compiled === undefined) compiled = compileOrNull(assembleModule([VPASS, HPASS, VPASS16]));
  return compiled;
}

/** True when the WebAssembly SIMD kernels are available (Node 16.4+ on x64/arm64). */
export function resampleSimdAvailable(): boolean {
  return kernels() !== null;
}

interface Instance {
  memory: WasmMemory;
  vpass: (dst: number, chunks: number, taps: number, nTaps: number) => void;
  hpass: (src: number, dst: number, tw: number, xtab: number, w: number, maxTaps: number) => void;
  vpass16: (dst: number, chunks: number, taps: number, nTaps: number) => void;
}
let instance: Instance | undefined;

const align16 = (n: number) => (n + 15) & ~15;

/**
 * Resample `job` (see `ResampleJob`). Deterministic and identical to `resampleJs`.
 */
export function resample(job: ResampleJob): Uint8Array {
  check(job);
  const { hx, vy } = jobTaps(job);
  return applyTaps(job.src, job.width, hx, vy, job.outWidth, job.outHeight);
}

/**
 * `applyTapsJs` in WebAssembly where SIMD is available (the same bytes). Only the rows and
 * columns some tap reads are copied into the WebAssembly memory, which is kept between calls and
 * grows to the largest job seen (one per thread: a worker that calls this gets its own).
 */
export function applyTaps(src: Uint8Array, width: number, hx: AxisTaps, vy: AxisTaps, tw: number, th: number): Uint8Array {
  const mod = kernels();
  if (!mod) return applyTapsJs(src, width, hx, vy, tw, th);
  const [left, right] = span(hx), [top, bottom] = span(vy);
  if (right <= left || bottom <= top) return new Uint8Array(tw * th * 3);
  const w = right - left, h = bottom - top;
  const chunks = Math.ceil((w * 3) / 16);
  const rowBytes = width * 3;
  // Layout: source rows top..bottom (whole rows, one copy) | x table | x weights | row taps | vertical result | output.
  const srcBytes = align16(h * rowBytes + 16);
  const xtabAt = srcBytes, xwAt = xtabAt + align16(tw * 8), tapsAt = xwAt + align16(tw * hx.maxTaps * 4);
  const tmpAt = tapsAt + align16(vy.maxTaps * 8), tmpStride = chunks * 32;
  const outAt = tmpAt + align16(th * tmpStride + 16), end = outAt + align16(tw * th * 3 + 16);
  if (!instance) {
    const memory = new Wasm.Memory({ initial: Math.ceil(end / 65536) });
    const exports = new Wasm.Instance(mod, { env: { mem: memory } }).exports as unknown as Omit<Instance, 'memory'>;
    instance = { memory, vpass: exports.vpass, hpass: exports.hpass, vpass16: exports.vpass16 };
  }
  const { memory, vpass, hpass } = instance;
  if (memory.buffer.byteLength < end) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
  const buf = memory.buffer;
  new Uint8Array(buf, 0, h * rowBytes).set(src.subarray(top * rowBytes, bottom * rowBytes));
  const xtab = new Int32Array(buf, xtabAt, tw * 2);
  for (let x = 0; x < tw; x++) { xtab[2 * x] = hx.count[x]! ? (hx.start[x]! - left) * 6 : 0; xtab[2 * x + 1] = hx.count[x]!; }
  new Int32Array(buf, xwAt, hx.weights.length).set(hx.weights);
  const taps = new Int32Array(buf, tapsAt, vy.maxTaps * 2);
  for (let y = 0; y < th; y++) {
    const n = vy.count[y]!;
    for (let k = 0; k < n; k++) {
      taps[2 * k] = (vy.start[y]! - top + k) * rowBytes + left * 3;
      taps[2 * k + 1] = vy.weights[y * vy.maxTaps + k]!;
    }
    vpass(tmpAt + y * tmpStride, chunks, tapsAt, n);
    hpass(tmpAt + y * tmpStride, outAt + y * tw * 3, tw, xtabAt, xwAt, hx.maxTaps);
  }
  return new Uint8Array(buf, outAt, tw * th * 3).slice();
}

/** The range [first, end) of input indices some output of `t` reads. */
function span(t: AxisTaps): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < t.start.length; i++) {
    if (t.count[i]! > 0) { lo = Math.min(lo, t.start[i]!); hi = Math.max(hi, t.start[i]! + t.count[i]!); }
  }
  return lo < hi ? [lo, hi] : [0, 0];
}

/**
 * 2-D convolution of an RGB image with the separable kernel q x q (Q14 weights summing to 16384):
 * output (x, y) of a `w` x `h` result reads `padded` (w + K - 1) x (h + K - 1), K = q.length,
 * from (x, y). Horizontal pass first, kept in Q8, then vertical, rounded to bytes: OpenCV's
 * order for its separable filters. Both passes run 16 (then 8) bytes at a time, whole rows: the
 * horizontal pass is the vertical kernel with the taps K pixels apart along one row, so a wide
 * kernel costs what a short one costs per tap (a 31-tap Gaussian of 299x299: ~1 ms, not 5).
 */
export function convolveRgb(padded: Uint8Array, w: number, h: number, q: Int32Array): Uint8Array {
  const mod = kernels();
  if (!mod) return convolveRgbJs(padded, w, h, q);
  const K = q.length, pw = w + K - 1, ph = h + K - 1, rowBytes = pw * 3;
  const chunks = Math.ceil((w * 3) / 16), tmpStride = chunks * 32, chunks8 = Math.ceil((w * 3) / 8);
  const srcBytes = align16(ph * rowBytes + 3 * K + 32);
  const tapsAt = srcBytes, tmpAt = tapsAt + align16(K * 8), outAt = tmpAt + align16(ph * tmpStride + 32), end = outAt + align16(w * h * 3 + 16);
  if (!instance) {
    const memory = new Wasm.Memory({ initial: Math.ceil(end / 65536) });
    const exports = new Wasm.Instance(mod, { env: { mem: memory } }).exports as unknown as Omit<Instance, 'memory'>;
    instance = { memory, vpass: exports.vpass, hpass: exports.hpass, vpass16: exports.vpass16 };
  }
  const { memory, vpass, vpass16 } = instance;
  if (memory.buffer.byteLength < end) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
  const buf = memory.buffer;
  new Uint8Array(buf, 0, ph * rowBytes).set(padded.subarray(0, ph * rowBytes));
  const taps = new Int32Array(buf, tapsAt, K * 2);
  for (let y = 0; y < ph; y++) {
    for (let k = 0; k < K; k++) { taps[2 * k] = y * rowBytes + 3 * k; taps[2 * k + 1] = q[k]!; }
    vpass(tmpAt + y * tmpStride, chunks, tapsAt, K);
  }
  for (let y = 0; y < h; y++) {
    for (let k = 0; k < K; k++) { taps[2 * k] = tmpAt + (y + k) * tmpStride; taps[2 * k + 1] = q[k]!; }
    vpass16(outAt + y * w * 3, chunks8, tapsAt, K);
  }
  return new Uint8Array(buf, outAt, w * h * 3).slice();
}

/** `convolveRgb` in plain JS: the reference, and the fallback without WebAssembly SIMD. */
export function convolveRgbJs(padded: Uint8Array, w: number, h: number, q: Int32Array): Uint8Array {
  const K = q.length, pw = w + K - 1, ph = h + K - 1, row = w * 3;
  const tmp = new Uint16Array(ph * row);
  for (let y = 0; y < ph; y++) {
    for (let b = 0; b < row; b++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += q[k]! * padded[y * pw * 3 + b + 3 * k]!;
      tmp[y * row + b] = (acc + 32) >> 6;
    }
  }
  const out = new Uint8Array(h * row);
  for (let y = 0; y < h; y++) {
    for (let b = 0; b < row; b++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += q[k]! * tmp[(y + k) * row + b]!;
      out[y * row + b] = (acc + (1 << 21)) >> 22;
    }
  }
  return out;
}
