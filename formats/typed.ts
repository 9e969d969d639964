import type { DType } from './types.js';

/** The typed array a dtype maps to. float16 has no JS array type in Node 20: its bits as Uint16Array. */
export type TypedArrayOf<D extends DType> = D extends 'uint8' ? Uint8Array : D extends 'float16' ? Uint16Array : Float32Array;

const ELEMENT: Record<DType, number> = { uint8: 1, float16: 2, float32: 4 };

/**
 * Tensor bytes as their typed array: a view when `bytes` is aligned for the dtype, else a view of
 * an aligned copy (a misaligned Float32Array view would throw). The result shares memory with
 * `bytes` only in the aligned case (writes to one show in the other).
 */
export function typedArrayOf<D extends DType>(bytes: Uint8Array, dtype: D): TypedArrayOf<D> {
  const size = ELEMENT[dtype];
  if (bytes.byteLength % size !== 0) throw new RangeError(`Expected a multiple of ${size} bytes for ${dtype} but received ${bytes.byteLength}`);
  if (size === 1) return bytes as TypedArrayOf<D>;
  const src = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  const n = src.byteLength / size;
  return (dtype === 'float32' ? new Float32Array(src.buffer, src.byteOffset, n) : new Uint16Array(src.buffer, src.byteOffset, n)) as TypedArrayOf<D>;
}

/** Decode one IEEE half-precision value from its bits. */
export function float16ToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}
