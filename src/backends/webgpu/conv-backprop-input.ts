/**
 * The input gradient of a 2-D convolution (NHWC), expressed through the forward convolution.
 *
 * dx is the "full" correlation of dy, zero-upsampled by the stride, with the filter rotated by
 * 180° and its channel axes swapped: a plain forward conv2d, which every backend runs through its
 * best kernel (tfjs-webgpu: a tiled matmul shader; a 1x1 stride-1 convolution becomes a matMul).
 * Only backend-agnostic tfjs ops are used, so cpu and wasm tests check the very same code.
 */
import * as tf from '@tensorflow/tfjs';
import type { Conv2DPad } from './conv-backprop-filter.js';

export interface InputGradGeometry {
  inputShape: [number, number, number, number];
  strides: number | [number, number];
  pad: Conv2DPad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Inserts (s-1) zeros between rows and columns: [B, H, W, C] -> [B, (H-1)·sh+1, (W-1)·sw+1, C]. */
function upsampleWithZeros(dy: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  const [b, h, w, c] = dy.shape;
  let t: tf.Tensor4D = dy;
  if (sh > 1) {
    // Rank 4 throughout: [B, H, 1, W·C] padded along the unit axis interleaves zero rows.
    const rows = tf.pad(tf.reshape(t, [b, h, 1, w * c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0]]);
    t = tf.slice(tf.reshape<tf.Rank.R4>(rows, [b, h * sh, w, c]), [0, 0, 0, 0], [b, (h - 1) * sh + 1, w, c]);
  }
  if (sw > 1) {
    const hh = t.shape[1];
    const cols = tf.pad(tf.reshape(t, [b * hh, w, 1, c]), [[0, 0], [0, 0], [0, sw - 1], [0, 0]]);
    t = tf.slice(tf.reshape<tf.Rank.R4>(cols, [b, hh, w * sw, c]), [0, 0, 0, 0], [b, hh, (w - 1) * sw + 1, c]);
  }
  return t;
}

/**
 * dL/dx of `conv2d(x, filter, strides, pad)` given dL/dy, NHWC, dilation 1. Returns `inputShape`.
 * Call inside `tf.tidy`.
 */
export function conv2dBackpropInputConv(dy: tf.Tensor4D, filter: tf.Tensor4D, geometry: InputGradGeometry): tf.Tensor4D {
  const { inputShape } = geometry;
  const info = tf.backend_util.computeConv2DInfo(
    inputShape, filter.shape, geometry.strides, 1, geometry.pad, geometry.dimRoundingMode, false, 'channelsLast');
  const [kh, kw, ci, co] = filter.shape;
  const [b, h, w] = inputShape;
  const { strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow, padInfo } = info;
  if (dy.shape[0] !== b || dy.shape[1] !== oh || dy.shape[2] !== ow || dy.shape[3] !== co) {
    throw new RangeError(`dy shape ${JSON.stringify(dy.shape)} does not match the convolution output [${b},${oh},${ow},${co}]`);
  }
  if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && oh === h && ow === w) {
    const dx = tf.matMul(tf.reshape(dy, [b * h * w, co]), tf.reshape(filter, [ci, co]), false, true);
    return tf.reshape(dx, inputShape);
  }
  const up = upsampleWithZeros(dy, sh, sw);
  const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D; // [KH, KW, Co, Ci]
  // dx[i] = Σ_k up[i + top - k] · W[k]  ⇒  a correlation of `up` padded by (K-1-top) on the top;
  // the bottom pad makes the output exactly H rows (negative: crop rows no window reached).
  const top = kh - 1 - padInfo.top;
  const left = kw - 1 - padInfo.left;
  const bottom = h + kh - 1 - up.shape[1] - top;
  const right = w + kw - 1 - up.shape[2] - left;
  if (top < 0 || left < 0) throw new RangeError(`padding ${JSON.stringify(padInfo)} exceeds the filter size ${kh}x${kw}`);
  let src: tf.Tensor4D = up;
  if (bottom < 0 || right < 0) {
    src = tf.slice(src, [0, 0, 0, 0], [b, up.shape[1] + Math.min(0, bottom), up.shape[2] + Math.min(0, right), co]);
  }
  const pads: tf.backend_util.ExplicitPadding = [[0, 0], [top, Math.max(0, bottom)], [left, Math.max(0, right)], [0, 0]];
  return tf.conv2d(src, flipped, 1, pads);
}
