import type { DType } from './types.js';

/**
 * NumPy `.npy` version 1.0 headers, so a raw shard's data file is what `numpy.load(path,
 * mmap_mode='r')` expects. The header is written before the record count is known and rewritten
 * in place on close, so it has a fixed length: wide enough for any record count, padded with
 * spaces, and a multiple of 64 bytes long (the alignment NumPy itself writes), which also keeps
 * every float tensor in the file naturally aligned.
 */

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** NumPy's descr of each dtype (little-endian). */
export const NPY_DESCR: Record<DType, string> = { uint8: '|u1', float16: '<f2', float32: '<f4' };

function dict(dtype: DType, shape: readonly number[]): string {
  return `{'descr': '${NPY_DESCR[dtype]}', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
}

/** Total header length for records of `recordShape` (any record count up to 10^15). */
export function npyHeaderLength(dtype: DType, recordShape: readonly number[]): number {
  const widest = dict(dtype, [999_999_999_999_999, ...recordShape]);
  return Math.ceil((10 + widest.length + 1) / 64) * 64;
}

/** The `.npy` header for `count` records of `recordShape`. */
export function npyHeader(dtype: DType, count: number, recordShape: readonly number[]): Uint8Array {
  const total = npyHeaderLength(dtype, recordShape);
  const text = dict(dtype, [count, ...recordShape]).padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = 1; // major version
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, total - 10, true);
  out.set(Buffer.from(text, 'latin1'), 10);
  return out;
}

/** True when `head` is exactly the header `npyHeader(dtype, count, recordShape)` would write. */
export function npyHeaderMatches(head: Uint8Array, dtype: DType, count: number, recordShape: readonly number[]): boolean {
  const want = npyHeader(dtype, count, recordShape);
  return head.length >= want.length && Buffer.compare(Buffer.from(head.buffer, head.byteOffset, want.length), Buffer.from(want)) === 0;
}
