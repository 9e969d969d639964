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
  const attrs = args.attrs as unknown as {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  if (attrs.dataFormat === 'NCHW') throw new Error('wasm Conv2DBackpropFilter supports only NHWC');
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
  registerWasmContiguousSlices();
}
