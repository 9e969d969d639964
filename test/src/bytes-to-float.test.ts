import { describe, expect, it } from 'vitest';
import { createFloatConverter, bytesToFloatInto, bytesToFloatJs, simdAvailable } from '../../src/bytes-to-float.js';

function bytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 2654435761) >>> 24;
  out[0] = 0;
  if (n > 1) out[1] = 255;
  return out;
}

describe('normalize', () => {
  it('has the WebAssembly SIMD kernel on this Node', () => {
    expect(simdAvailable()).toBe(true);
  });

  it('maps 0 → -1, 255 → 1 and agrees with the JS reference to float32 rounding, any length', () => {
    for (const n of [0, 1, 15, 16, 17, 64, 1000, 299 * 299 * 3]) {
      const src = bytes(n);
      const ref = new Float32Array(n);
      bytesToFloatJs(src, ref);
      const norm = createFloatConverter(n + 5);
      norm.input.set(src);
      const out = norm.run(n);
      expect(out.length).toBe(n);
      if (n > 1) expect([out[0], out[1]]).toEqual([-1, 1]);
      let worst = 0;
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(out[i]! - ref[i]!));
      expect(worst).toBeLessThanOrEqual(2.5e-7);
    }
  });

  it('bytesToFloatInto writes at an offset with a custom scale and bias, leaving the rest alone', () => {
    const src = bytes(1_500_000); // more than one internal chunk
    const dst = new Float32Array(src.length + 10).fill(42);
    bytesToFloatInto(src, dst, { scale: 1 / 255, bias: 0 }, 7);
    expect(dst[6]).toBe(42);
    expect(dst[dst.length - 3]).toBe(42);
    for (const i of [0, 1, 2, 999_999, 1_048_575, 1_048_576, src.length - 1]) expect(dst[7 + i]).toBeCloseTo(src[i]! / 255, 6);
  });

  it('rejects a run longer than the capacity', () => {
    expect(() => createFloatConverter(10).run(11)).toThrow(RangeError);
  });
});

describe('toNetworkInput: the one byte->float path of training, evaluation, prediction and the bench', () => {
  it('uint8 through the SIMD kernel is bit-identical to v / 127.5 - 1 computed in float64, for every byte', async () => {
    const { toNetworkInput } = await import('../../src/bytes-to-float.js');
    const src = new Uint8Array(256 * 3 + 5);
    for (let i = 0; i < src.length; i++) src[i] = i % 256;
    const out = new Float32Array(src.length + 2);
    toNetworkInput(src, 'uint8', out, 2);
    const want = Float32Array.from(src, (v) => v / 127.5 - 1);
    expect(Array.from(out.subarray(2))).toEqual(Array.from(want));
    expect([out[2], out[2 + 255]]).toEqual([-1, 1]);
  });

  it('float16 and float32 tensors (pixel / 255) map to 2v - 1', async () => {
    const { toNetworkInput } = await import('../../src/bytes-to-float.js');
    const f32 = new Float32Array([0, 0.5, 1]);
    const out = new Float32Array(3);
    toNetworkInput(new Uint8Array(f32.buffer), 'float32', out);
    expect(Array.from(out)).toEqual([-1, 0, 1]);
    const f16 = new Uint8Array([0x00, 0x00, 0x00, 0x38, 0x00, 0x3c]); // 0, 0.5, 1 as float16
    toNetworkInput(f16, 'float16', out);
    expect(Array.from(out)).toEqual([-1, 0, 1]);
  });
});
