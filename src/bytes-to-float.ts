import type { DType } from '../formats/types.js';
import { float16Value } from './float16.js';
import { assembleModule, compileOrNull, simd, Wasm, type WasmModule } from './wasm-asm.js';

/**
 * Bytes to floats, the one place: stored tensors -> the network's float input (`toNetworkInput`,
 * what training, evaluation, prediction and the bench's "float" reads all use), built on a uint8 ->
 * float32 conversion with an affine map (default x / 127.5 - 1, i.e. [0, 255] -> [-1, 1]).
 * The map is computed as (x - offset) / divisor (offset = -bias / scale, divisor = 1 / scale):
 * with both exact in float32 (127.5 and 127.5; 0 and 255) the subtraction is exact and the
 * division the one rounding, so every value is the correctly rounded x / 127.5 - 1, bit for bit
 * what a float64 computation stored as float32 gives (checked for all 256 bytes in the tests)
 * and what retina_data's numpy map gives. A multiply by 1/127.5 would be 1 ulp off for 207 bytes. A plain JS loop manages about
 * 2,300-5,900 images/s of 299x299x3 on one core; a 16-lane WebAssembly SIMD kernel (below, about
 * 150 bytes, built here rather than loaded from a file) is several times faster. The fastest use is
 * `createFloatConverter`: readers write the uint8 batch straight into its `input` (WebAssembly memory)
 * and `run()` converts in place into `output`, with no copy in between.
 */

/** Affine map applied to each byte: `x * scale + bias` (computed as `(x - offset) / divisor`, see above). */
export interface FloatScale {
  scale?: number;
  bias?: number;
}

export const MINUS_ONE_TO_ONE: Required<FloatScale> = { scale: 1 / 127.5, bias: -1 };

/** `{scale, bias}` as the kernel computes it: (x - offset) / divisor. */
function divisorForm(opts: FloatScale): { offset: number; divisor: number } {
  const scale = opts.scale ?? MINUS_ONE_TO_ONE.scale;
  const bias = opts.bias ?? MINUS_ONE_TO_ONE.bias;
  return { offset: -bias / scale, divisor: 1 / scale };
}

/** The value the kernel gives for byte `x`: float32 (x - offset) / divisor. */
function mapped(x: number, offset: number, divisor: number): number {
  return Math.fround(Math.fround(x - Math.fround(offset)) / Math.fround(divisor));
}

/** The reference implementation (and the fallback where WebAssembly SIMD is missing). */
export function bytesToFloatJs(src: Uint8Array, dst: Float32Array, opts: FloatScale = {}, dstOffset = 0): void {
  const { offset, divisor } = divisorForm(opts);
  const lut = new Float32Array(256);
  for (let i = 0; i < 256; i++) lut[i] = mapped(i, offset, divisor);
  const n = src.length;
  for (let i = 0; i < n; i++) dst[dstOffset + i] = lut[src[i]!]!;
}

// (func $norm (param $src i32) (param $dst i32) (param $blocks i32) (param $scale f32) (param $bias f32)
//   (local $vs v128) (local $vb v128) (local $v v128) (local $w v128)
//   vs = f32x4.splat(scale); vb = f32x4.splat(bias)
//   loop while blocks != 0: v = load16(src); w = widen-low(v);  store dst+0,16 from w's halves
//                           w = widen-high(v); store dst+32,48; src += 16; dst += 64; blocks -= 1)
// Each lane: u8 → u16 → u32 → f32, then - offset, / divisor. Memory is imported so JS sizes it.
const SIMD_OP = simd;
const STORE_LANES = (widen: number, offset: number): number[] => [
  0x20, 1, // local.get $dst
  0x20, 8, ...SIMD_OP(widen), // i32x4.extend_{low,high}_i16x8_u
  ...SIMD_OP(0xfb), // f32x4.convert_i32x4_u
  0x20, 6, ...SIMD_OP(0xe5), // f32x4.sub $vb (the offset: exact)
  0x20, 5, ...SIMD_OP(0xe7), // f32x4.div by $vs (the divisor: the one rounding)
  ...SIMD_OP(0x0b), 0x00, offset, // v128.store offset=…
];
const BODY: number[] = [
  0x20, 3, ...SIMD_OP(0x13), 0x21, 5, // vs = f32x4.splat(divisor)
  0x20, 4, ...SIMD_OP(0x13), 0x21, 6, // vb = f32x4.splat(offset)
  0x02, 0x40, 0x03, 0x40, // block, loop
  0x20, 2, 0x45, 0x0d, 1, // br_if (blocks == 0) out
  0x20, 0, ...SIMD_OP(0x00), 0x00, 0x00, 0x21, 7, // v = v128.load(src)
  0x20, 7, ...SIMD_OP(0x89), 0x21, 8, // w = i16x8.extend_low_i8x16_u(v)
  ...STORE_LANES(0xa9, 0), ...STORE_LANES(0xaa, 16),
  0x20, 7, ...SIMD_OP(0x8a), 0x21, 8, // w = i16x8.extend_high_i8x16_u(v)
  ...STORE_LANES(0xa9, 32), ...STORE_LANES(0xaa, 48),
  0x20, 0, 0x41, 16, 0x6a, 0x21, 0, // src += 16
  0x20, 1, 0x41, 0xc0, 0x00, 0x6a, 0x21, 1, // dst += 64
  0x20, 2, 0x41, 1, 0x6b, 0x21, 2, // blocks -= 1
  0x0c, 0, 0x0b, 0x0b, // br loop; end loop; end block
];
// (i32 src, i32 dst, i32 blocks, f32 divisor, f32 offset) -> (), 4 v128 locals
const MODULE = assembleModule([{ name: 'norm', params: [0x7f, 0x7f, 0x7f, 0x7d, 0x7d], locals: [[4, 0x7b]], body: BODY }]);

let compiled: WasmModule | null | undefined;
function simdModule(): WasmModule | null {
  if (compiled === undefined) compiled = compileOrNull(MODULE); // null: no SIMD, fall back to JS
  return compiled;
}

/** True when the WebAssembly SIMD kernel is available (Node 16.4+ on x64/arm64). */
export function simdAvailable(): boolean {
  return simdModule() !== null;
}

/** A batch converter whose uint8 input and float32 output share one WebAssembly memory. */
export interface FloatConverter {
  /** Capacity in elements (bytes of uint8 input). */
  readonly capacity: number;
  /**
   * The uint8 batch: fill it (e.g. `reader.readInto(i, norm.input, k * recordBytes)`), then `run`.
   * Valid for the converter's whole life (its memory never grows).
   */
  readonly input: Uint8Array;
  /** Float32 results; overwritten by the next `run`. */
  readonly output: Float32Array;
  /** Convert `input[0, elements)` into `output[0, elements)`; returns that part of `output`. */
  run(elements?: number): Float32Array;
  readonly simd: boolean;
}

/** Create a converter for batches of up to `capacity` elements. */
export function createFloatConverter(capacity: number, opts: FloatScale = {}): FloatConverter {
  if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`Expected a non-negative integer capacity but received ${capacity}`);
  const { offset, divisor } = divisorForm(opts);
  const mod = simdModule();
  const outOffset = Math.ceil(capacity / 64) * 64 + 64; // 16 bytes of slack for the last block's read
  const pages = Math.max(1, Math.ceil((outOffset + capacity * 4 + 64) / 65536));
  const memory = new Wasm.Memory({ initial: pages, maximum: pages });
  const input = new Uint8Array(memory.buffer, 0, capacity);
  const output = new Float32Array(memory.buffer, outOffset, capacity);
  if (!mod) {
    return { capacity, input, output, simd: false, run: (n = capacity) => (bytesToFloatJs(input.subarray(0, n), output, opts), output.subarray(0, n)) };
  }
  const norm = (new Wasm.Instance(mod, { env: { mem: memory } }).exports as unknown as { norm: (s: number, d: number, b: number, sc: number, bi: number) => void }).norm;
  const fdivisor = Math.fround(divisor);
  const foffset = Math.fround(offset);
  return {
    capacity, input, output, simd: true,
    run(n = capacity) {
      if (!Number.isInteger(n) || n < 0 || n > capacity) throw new RangeError(`Expected 0..${capacity} elements but received ${n}`);
      const blocks = n >>> 4;
      norm(0, outOffset, blocks, fdivisor, foffset);
      // the last < 16 elements, in JS with the same float32 arithmetic
      for (let i = blocks << 4; i < n; i++) output[i] = mapped(input[i]!, foffset, fdivisor);
      return output.subarray(0, n);
    },
  };
}

const shared = new Map<string, FloatConverter>();
const CHUNK = 1 << 20;

/**
 * Convert any `src` into `dst` (from `dstOffset`): copies through a shared 1 Mi-element converter
 * in chunks. Prefer `createFloatConverter` when you control the input buffer (no copies at all).
 */
export function bytesToFloatInto(src: Uint8Array, dst: Float32Array, opts: FloatScale = {}, dstOffset = 0): void {
  if (dstOffset + src.length > dst.length) throw new RangeError(`Expected room for ${src.length} floats at ${dstOffset} but the target holds ${dst.length}`);
  const key = `${opts.scale ?? MINUS_ONE_TO_ONE.scale}:${opts.bias ?? MINUS_ONE_TO_ONE.bias}`;
  let n = shared.get(key);
  if (!n) shared.set(key, (n = createFloatConverter(CHUNK, opts)));
  for (let at = 0; at < src.length; at += CHUNK) {
    const len = Math.min(CHUNK, src.length - at);
    n.input.set(src.subarray(at, at + len));
    dst.set(n.run(len), dstOffset + at);
  }
}

let f16Table: Float32Array | undefined;

/**
 * Turn stored tensor bytes into the network's input range [-1, 1] (what InceptionV3 expects):
 * uint8 pixels v -> v/127.5 - 1 through the SIMD kernel above; float16/float32 tensors hold
 * pixel/255 (see `transformImage`) -> 2v - 1. Writes the converted elements into `out` at
 * `outOffset`. Record by record or a whole batch at once: the map is elementwise.
 */
export function toNetworkInput(bytes: Uint8Array, dtype: DType, out: Float32Array, outOffset = 0): void {
  if (dtype === 'uint8') {
    bytesToFloatInto(bytes, out, MINUS_ONE_TO_ONE, outOffset);
    return;
  }
  if (dtype === 'float32') {
    const n = bytes.byteLength / 4;
    // A Float32Array view needs 4-byte alignment; copy when the borrowed buffer is not aligned.
    const view = bytes.byteOffset % 4 === 0 ? new Float32Array(bytes.buffer, bytes.byteOffset, n) : new Float32Array(bytes.slice().buffer);
    for (let i = 0; i < n; i++) out[outOffset + i] = view[i]! * 2 - 1;
    return;
  }
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let b = 0; b < 65536; b++) f16Table[b] = float16Value(b);
  }
  const n = bytes.byteLength / 2;
  for (let i = 0; i < n; i++) out[outOffset + i] = f16Table[bytes[2 * i]! | (bytes[2 * i + 1]! << 8)]! * 2 - 1;
}
