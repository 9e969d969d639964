import type { DType } from '../../formats/types.js';
import { float16Value } from '../float16.js';

let f16Table: Float32Array | undefined;

/**
 * Turn stored tensor bytes into the network's input range [-1, 1] (what InceptionV3 expects):
 * uint8 pixels v → v/127.5 − 1; float16/float32 tensors hold pixel/255 (see `transformImage`)
 * → 2v − 1. Writes `count` elements into `out` at `outOffset`.
 */
export function toNetworkInput(bytes: Uint8Array, dtype: DType, out: Float32Array, outOffset = 0): void {
  if (dtype === 'uint8') {
    const n = bytes.length;
    for (let i = 0; i < n; i++) out[outOffset + i] = bytes[i]! / 127.5 - 1;
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
