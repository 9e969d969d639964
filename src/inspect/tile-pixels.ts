import { float16Value } from '../float16.js';
import type { TensorSpec } from '../../formats/types.js';
import { RetinaError } from '../core/errors.js';

/**
 * A stored record's tensor (HWC, any dtype) as 8-bit RGB for display: uint8 as is; float16 and
 * float32 (stored as pixel / 255, src/finish.ts FLOAT_RANGE) mapped back with round(v * 255),
 * clamped to 0-255; one channel shown as grey.
 */
export function tileRgb(tensor: Uint8Array, spec: TensorSpec): Uint8Array {
  checkImageSpec(spec);
  const [h, w, c] = spec.shape as [number, number, number];
  const n = h * w * c;
  let v: ArrayLike<number>;
  if (spec.dtype === 'uint8') v = tensor;
  else {
    const view = new DataView(tensor.buffer, tensor.byteOffset, tensor.byteLength);
    const f = new Float32Array(n);
    if (spec.dtype === 'float32') for (let i = 0; i < n; i++) f[i] = view.getFloat32(i * 4, true);
    else for (let i = 0; i < n; i++) f[i] = float16Value(view.getUint16(i * 2, true));
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const x = Math.round(f[i]! * 255);
      b[i] = Number.isNaN(x) ? 0 : Math.max(0, Math.min(x, 255));
    }
    v = b;
  }
  if (c === 3) return v instanceof Uint8Array ? v : Uint8Array.from(v);
  const rgb = new Uint8Array(h * w * 3);
  for (let p = 0; p < h * w; p++) rgb[p * 3] = rgb[p * 3 + 1] = rgb[p * 3 + 2] = v[p]!;
  return rgb;
}

/** @throws RetinaError UNSUPPORTED unless the records are HxWx3 (or HxWx1) images. */
export function checkImageSpec(spec: TensorSpec): void {
  const [h, w, c] = spec.shape;
  if (spec.shape.length !== 3 || !h || !w || (c !== 3 && c !== 1)) {
    throw new RetinaError('UNSUPPORTED', `A contact sheet shows HxWx3 (or HxWx1) image tensors; this dataset stores [${spec.shape.join(', ')}]`);
  }
}
