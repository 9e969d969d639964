/**
 * The filter gradient of a 2-D convolution (NHWC), expressed through matrix products.
 *
 *   dW[kh, kw, ci, co] = Σ_{b, oh, ow} xpad[b, oh·sh + kh, ow·sw + kw, ci] · dy[b, oh, ow, co]
 *
 * For each filter tap (kh, kw) the strided window of the padded input is a [N, Ci] matrix
 * (N = batch x output pixels), so dW is one product of the im2col matrix [N, KH·KW·Ci] with dy
 * [N, Co] ("im2col"), or KH·KW products of [N, Ci] with dy ("taps", less memory). The products run
 * split-K (see split-k.ts) so that a thin output still fills the GPU. Only backend-agnostic tfjs
 * ops are used: the same code runs on cpu and wasm (where it is tested against the stock kernel)
 * and on webgpu (where it replaces a naive shader running at ~2% of the card's matmul speed).
 */
import * as tf from '@tensorflow/tfjs';
import { viewAs } from '../../tensor-view.js';
import { chooseSplits, DEFAULT_SPLIT_LIMITS, type SplitLimits } from './split-k.js';

export type FilterGradStrategy = 'auto' | 'im2col' | 'taps';

export interface FilterGradOptions {
  /**
   * `im2col` (one product, more memory), `taps` (one product per filter tap) or `auto` (default:
   * im2col unless its matrix would need chunking, as on InceptionV3's 147x147 stem, where taps
   * measured 1.5-2x faster on an H100).
   */
  strategy?: FilterGradStrategy;
  /**
   * Largest im2col (or single tap) tensor built at once, in bytes; the batch is processed in
   * chunks that fit (default 512 MiB: InceptionV3's 147x147x64 3x3 layer at batch 32 needs 1.6 GB).
   */
  maxPatchBytes?: number;
  /** Split-K bounds; `splits` forces the slice count (it must divide the inner size). */
  splitLimits?: SplitLimits;
  splits?: number;
}

export type Conv2DPad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

export interface Conv2DGeometry {
  filterShape: [number, number, number, number];
  strides: number | [number, number];
  pad: Conv2DPad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const DEFAULT_MAX_PATCH_BYTES = 512 * 1024 * 1024;

/** The padded-input windows of one filter tap: [b, OH, OW, Ci]. */
function tapWindow(xpad: tf.Tensor4D, kh: number, kw: number, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const [b, h, w, c] = xpad.shape;
  // A 1x1 stride-1 window without padding is the whole input: no copy, no kernel.
  if (sh === 1 && sw === 1 && h === oh && w === ow) return xpad;
  if (sh === 1 && sw === 1) return tf.slice(xpad, [0, kh, kw, 0], [b, oh, ow, c]);
  return tf.stridedSlice(xpad, [0, kh, kw, 0], [b, kh + (oh - 1) * sh + 1, kw + (ow - 1) * sw + 1, c], [1, sh, sw, 1]) as tf.Tensor4D;
}

/** Pads x so that every window the forward convolution read lies inside it (zeros outside). */
function padInput(x: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { padInfo, filterHeight: kh, filterWidth: kw, outHeight, outWidth, strideHeight, strideWidth } = info;
  const [, h, w] = x.shape;
  const top = padInfo.top;
  const left = padInfo.left;
  // Rows/columns beyond the input that the windows touch; computeConv2DInfo's bottom/right can be
  // smaller than this for explicit or rounded padding, so derive it from the window extent.
  const bottom = Math.max(0, (outHeight - 1) * strideHeight + kh - top - h);
  const right = Math.max(0, (outWidth - 1) * strideWidth + kw - left - w);
  if (top === 0 && left === 0 && bottom === 0 && right === 0) return x;
  return tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]]);
}

/** Σ over the rows of a [N, M]ᵀ·[N, Co] product, computed split-K: returns [M, Co]. */
function splitKProduct(a: tf.Tensor2D, g: tf.Tensor2D, opts: FilterGradOptions): tf.Tensor2D {
  const [n, m] = a.shape;
  const co = g.shape[1];
  const s = opts.splits ?? chooseSplits(m, co, n, opts.splitLimits ?? DEFAULT_SPLIT_LIMITS);
  if (n % s !== 0) throw new RangeError(`splits ${s} does not divide the inner size ${n}`);
  if (s === 1) return tf.matMul(a, g, true, false);
  const parts = tf.matMul(viewAs<tf.Rank.R3>(a, [s, n / s, m]), viewAs<tf.Rank.R3>(g, [s, n / s, co]), true, false);
  return tf.sum<tf.Tensor2D>(parts, 0);
}

/**
 * dL/dW of `conv2d(x, W, strides, pad)` given dL/dy, NHWC, dilation 1. Returns [KH, KW, Ci, Co].
 * Call inside `tf.tidy` (it creates intermediates), not under gradient recording: its reshapes are
 * views without a kernel (`viewAs`), because every kernel costs host time on a GPU.
 */
export function conv2dBackpropFilterMatMul(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  geometry: Conv2DGeometry,
  opts: FilterGradOptions = {},
): tf.Tensor4D {
  const { filterShape } = geometry;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape, filterShape, geometry.strides, 1, geometry.pad, geometry.dimRoundingMode, false, 'channelsLast');
  const [kh, kw, ci, co] = filterShape;
  const { outHeight: oh, outWidth: ow, batchSize } = info;
  if (dy.shape[0] !== batchSize || dy.shape[1] !== oh || dy.shape[2] !== ow || dy.shape[3] !== co) {
    throw new RangeError(`dy shape ${JSON.stringify(dy.shape)} does not match the convolution output [${batchSize},${oh},${ow},${co}]`);
  }
  const maxPatchBytes = opts.maxPatchBytes ?? DEFAULT_MAX_PATCH_BYTES;
  const wanted = opts.strategy ?? 'auto';
  const strategy = wanted !== 'auto' ? wanted : batchSize * oh * ow * ci * 4 * kh * kw > maxPatchBytes ? 'taps' : 'im2col';
  const perImage = oh * ow * ci * 4 * (strategy === 'im2col' ? kh * kw : 1);
  const chunk = Math.max(1, Math.min(batchSize, Math.floor(maxPatchBytes / perImage)));

  let acc: tf.Tensor2D | undefined; // [KH·KW·Ci, Co]
  for (let start = 0; start < batchSize; start += chunk) {
    const size = Math.min(chunk, batchSize - start);
    const part = tf.tidy(() => {
      const xc = size === batchSize ? x : tf.slice(x, [start, 0, 0, 0], [size, -1, -1, -1]);
      const dyc = size === batchSize ? dy : tf.slice(dy, [start, 0, 0, 0], [size, -1, -1, -1]);
      const n = size * oh * ow;
      const g = viewAs<tf.Rank.R2>(dyc, [n, co]);
      const xpad = padInput(xc, info);
      if (strategy === 'im2col') {
        const taps: tf.Tensor4D[] = [];
        for (let r = 0; r < kh; r++) for (let c = 0; c < kw; c++) taps.push(tapWindow(xpad, r, c, info));
        const cols = taps.length === 1 ? taps[0]! : tf.concat(taps, 3);
        return splitKProduct(viewAs<tf.Rank.R2>(cols, [n, kh * kw * ci]), g, opts);
      }
      const perTap: tf.Tensor2D[] = [];
      for (let r = 0; r < kh; r++) {
        for (let c = 0; c < kw; c++) {
          perTap.push(tf.tidy(() => splitKProduct(viewAs<tf.Rank.R2>(tapWindow(xpad, r, c, info), [n, ci]), g, opts)));
        }
      }
      return perTap.length === 1 ? perTap[0]! : tf.concat<tf.Tensor2D>(perTap, 0);
    });
    if (acc === undefined) {
      acc = part;
    } else {
      const next = tf.add<tf.Tensor2D>(acc, part);
      acc.dispose();
      part.dispose();
      acc = next;
    }
  }
  return viewAs<tf.Rank.R4>(acc!, filterShape);
}
