import * as tf from '@tensorflow/tfjs';
import { registerWasmContiguousSlices } from './wasm-slice.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];
type Info = tf.TensorInfo;

/** Run an already registered wasm kernel directly (no tape, no engine bookkeeping). */
function run(name: string, args: KernelArgs, inputs: Record<string, Info>, attrs: Record<string, unknown>): Info {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`wasm kernel ${name} is not registered`);
  const out = kernel.kernelFunc({ inputs, attrs: attrs as tf.NamedAttrMap, backend: args.backend });
  if (Array.isArray(out)) throw new Error(`wasm kernel ${name} returned several outputs`);
  return out as Info;
}

function dispose(args: KernelArgs, info: Info): void {
  (args.backend as tf.KernelBackend).disposeData(info.dataId);
}

/** The attributes tfjs passes to both convolution-gradient kernels. */
interface ConvGradAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** A gradient kernel's attributes; only NHWC is implemented here. */
function convGradAttrs(args: KernelArgs, kernel: string): ConvGradAttrs {
  const attrs = args.attrs as unknown as ConvGradAttrs;
  if (attrs.dataFormat === 'NCHW') throw new Error(`wasm ${kernel} supports only NHWC`);
  return attrs;
}

/**
 * Conv2DBackpropFilter for the wasm backend, which tfjs 4.22 lacks (so no convolution can train
 * there). The filter gradient of a convolution with stride s is itself a convolution:
 *
 *   dW[kh,kw,ci,co] = Σ_{n,oh,ow} xpad[n, oh·s+kh, ow·s+kw, ci] · dy[n,oh,ow,co]
 *
 * which is Conv2D(input = xpad transposed to [ci,H,W,n], filter = dy transposed to
 * [OH,OW,n,co], stride 1, dilation s, valid), sliced to the first KH×KW outputs and transposed to
 * [KH,KW,ci,co]. Every step is an existing wasm kernel (PadV2, Transpose, Conv2D, Slice).
 */
function conv2DBackpropFilter(args: KernelArgs): Info {
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const attrs = convGradAttrs(args, 'Conv2DBackpropFilter') as ConvGradAttrs & { filterShape: [number, number, number, number] };
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  const { top, bottom, left, right } = info.padInfo;
  const [kh, kw, ci, co] = attrs.filterShape;

  const temps: Info[] = [];
  let xp = x;
  if (top || bottom || left || right) {
    xp = run('PadV2', args, { x }, { paddings: [[0, 0], [top, bottom], [left, right], [0, 0]], constantValue: 0 });
    temps.push(xp);
  }
  const xt = run('Transpose', args, { x: xp }, { perm: [3, 1, 2, 0] });
  temps.push(xt);
  const dyt = run('Transpose', args, { x: dy }, { perm: [1, 2, 0, 3] });
  temps.push(dyt);
  const full = run('Conv2D', args, { x: xt, filter: dyt }, {
    strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [info.strideHeight, info.strideWidth], dimRoundingMode: undefined,
  });
  temps.push(full);
  let cropped = full;
  if (full.shape[1] !== kh || full.shape[2] !== kw) {
    cropped = run('Slice', args, { x: full }, { begin: [0, 0, 0, 0], size: [ci, kh, kw, co] });
    temps.push(cropped);
  }
  const out = run('Transpose', args, { x: cropped }, { perm: [1, 2, 0, 3] });
  for (const t of temps) dispose(args, t);
  return out;
}

/**
 * Conv2DBackpropInput for the wasm backend. tfjs-backend-wasm 4.22 ships a direct loop for it
 * that took 2.7 of the 4.0 s of an InceptionV3 fine-tuning step at batch 1; the input gradient of
 * a convolution is itself a forward convolution, which wasm runs through XNNPACK:
 *
 *   dx = Conv2D(dy upsampled by the stride with zeros and padded by (K - 1 - pad),
 *               filter rotated by 180° with its channel axes swapped, stride 1)
 *
 * (the same algebra as src/backends/webgpu/conv-backprop-input.ts, here on raw kernels: no tape, no engine).
 * A negative far-side pad (rows or columns no window reached) crops instead.
 */
function conv2DBackpropInput(args: KernelArgs): Info {
  const { dy, filter } = args.inputs as { dy: Info; filter: Info };
  const attrs = convGradAttrs(args, 'Conv2DBackpropInput') as ConvGradAttrs & { inputShape: [number, number, number, number] };
  const fshape = filter.shape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(attrs.inputShape, fshape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  const [kh, kw, ci, co] = fshape;
  const [b, h, w] = attrs.inputShape;
  const { strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow, padInfo } = info;
  const temps: Info[] = [];
  const keep = (t: Info): Info => (temps.push(t), t);
  // Zeros between rows, then between columns: pad a unit axis, fold it in, drop the trailing zeros.
  let up = dy;
  let uh = oh, uw = ow;
  if (sh > 1) {
    const rows = keep(run('PadV2', args, { x: keep(run('Reshape', args, { x: up }, { shape: [b, oh, 1, uw * co] })) }, { paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0]], constantValue: 0 }));
    uh = (oh - 1) * sh + 1;
    up = keep(run('Slice', args, { x: keep(run('Reshape', args, { x: rows }, { shape: [b, oh * sh, uw, co] })) }, { begin: [0, 0, 0, 0], size: [b, uh, uw, co] }));
  }
  if (sw > 1) {
    const cols = keep(run('PadV2', args, { x: keep(run('Reshape', args, { x: up }, { shape: [b * uh, ow, 1, co] })) }, { paddings: [[0, 0], [0, 0], [0, sw - 1], [0, 0]], constantValue: 0 }));
    uw = (ow - 1) * sw + 1;
    up = keep(run('Slice', args, { x: keep(run('Reshape', args, { x: cols }, { shape: [b, uh, ow * sw, co] })) }, { begin: [0, 0, 0, 0], size: [b, uh, uw, co] }));
  }
  const top = kh - 1 - padInfo.top, left = kw - 1 - padInfo.left;
  const bottom = h + kh - 1 - uh - top, right = w + kw - 1 - uw - left;
  if (top < 0 || left < 0) throw new Error(`wasm Conv2DBackpropInput: padding ${JSON.stringify(padInfo)} exceeds the filter ${kh}x${kw}`);
  if (bottom < 0 || right < 0) {
    up = keep(run('Slice', args, { x: up }, { begin: [0, 0, 0, 0], size: [b, uh + Math.min(0, bottom), uw + Math.min(0, right), co] }));
  }
  let rotated = filter;
  if (kh > 1 || kw > 1) rotated = keep(run('Reverse', args, { x: filter }, { dims: [0, 1] }));
  const flipped = keep(run('Transpose', args, { x: rotated }, { perm: [0, 1, 3, 2] }));
  const out = run('Conv2D', args, { x: up, filter: flipped }, {
    strides: [1, 1], pad: [[0, 0], [top, Math.max(0, bottom)], [left, Math.max(0, right)], [0, 0]], dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined,
  });
  for (const t of new Set(temps)) if (t !== dy && t !== filter) dispose(args, t);
  if (out.shape.join() !== [b, h, w, ci].join()) throw new Error(`wasm Conv2DBackpropInput: got ${JSON.stringify(out.shape)}, expected ${JSON.stringify([b, h, w, ci])}`);
  return out;
}

let registered = false;

/**
 * Register the kernels retina adds to the wasm backend so that convolutions can train there.
 * Idempotent; call after `@tensorflow/tfjs-backend-wasm` is imported.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2DBackpropFilter as tf.KernelFunc });
  }
  // Replaces the stock kernel (a direct loop) by the XNNPACK convolution above.
  const stock = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if (stock?.kernelFunc !== (conv2DBackpropInput as tf.KernelFunc)) {
    if (stock) tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    tf.registerKernel({ kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: conv2DBackpropInput as tf.KernelFunc });
  }
  registerWasmContiguousSlices();
}
