/**
 * Registers the op-composed convolution gradients (conv-backprop-filter.ts, conv-backprop-input.ts)
 * as tfjs kernels for one backend, replacing the stock ones (webgpu: a naive filter-gradient
 * shader at ~195 GFLOP/s on an H200, against 10 TFLOP/s for its matmul).
 *
 * A kernel receives TensorInfos and returns one; the composed version wraps the inputs as Tensors
 * and runs ordinary tfjs ops on the same backend. Reference counts follow the backend's own
 * `identity` kernel: every wrapper holds one reference of its own, so disposing it never frees
 * data that the engine still owns, and the result keeps exactly the reference the engine takes over.
 */
import * as tf from '@tensorflow/tfjs';
import { conv2dBackpropFilterMatMul, type Conv2DPad, type FilterGradOptions, type FilterGradStrategy } from './conv-backprop-filter.js';
import { conv2dBackpropInputConv } from './conv-backprop-input.js';

export interface FastConvOptions {
  /** Filter-gradient implementation; `stock` keeps the backend's kernel. Default `auto`. */
  filter?: FilterGradStrategy | 'stock';
  /** Input-gradient implementation: `conv` (forward conv of upsampled dy) or `stock` (default). */
  input?: 'conv' | 'stock';
  /** Chunking and split-K tuning for the filter gradient. */
  filterOptions?: Omit<FilterGradOptions, 'strategy'>;
}

type Quad = [number, number, number, number];

function isQuad(v: unknown): v is Quad {
  return Array.isArray(v) && v.length === 4 && v.every((n) => Number.isInteger(n) && n > 0);
}

function stridesOf(v: unknown): number | [number, number] {
  if (typeof v === 'number') return v;
  if (Array.isArray(v) && v.length === 2 && v.every((n) => typeof n === 'number')) return [v[0] as number, v[1] as number];
  throw new TypeError(`strides must be a number or [number, number], got ${JSON.stringify(v)}`);
}

function padOf(v: unknown): Conv2DPad {
  if (v === 'same' || v === 'valid' || typeof v === 'number') return v;
  if (Array.isArray(v) && v.length === 4) return v as tf.backend_util.ExplicitPadding;
  throw new TypeError(`pad must be 'same', 'valid', a number or explicit padding, got ${JSON.stringify(v)}`);
}

function roundingOf(v: unknown): 'floor' | 'round' | 'ceil' | undefined {
  return v === 'floor' || v === 'round' || v === 'ceil' ? v : undefined;
}

/** Runs `compute` on Tensor views of `inputs` and hands its result to the engine as a TensorInfo. */
export function runComposed(backend: tf.KernelBackend, inputs: tf.TensorInfo[], compute: (...t: tf.Tensor[]) => tf.Tensor): tf.TensorInfo {
  const engine = tf.engine();
  const views = inputs.map((info) => {
    backend.incRef(info.dataId);
    return engine.makeTensorFromTensorInfo(info, backend);
  });
  try {
    const out = tf.tidy(() => compute(...views));
    backend.incRef(out.dataId);
    const result: tf.TensorInfo = { dataId: out.dataId, shape: out.shape.slice(), dtype: out.dtype };
    out.dispose();
    return result;
  } finally {
    for (const v of views) v.dispose();
  }
}

function input(inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new TypeError(`kernel input ${name} is missing`);
  return t;
}

/**
 * Replaces Conv2DBackpropFilter (and, with `input: 'conv'`, Conv2DBackpropInput) for
 * `backendName`. NCHW convolutions still go to the stock kernel. Returns a function that restores
 * the previous registrations.
 */
export function registerFastConvGradients(backendName: string, options: FastConvOptions = {}): () => void {
  const restores: Array<() => void> = [];
  const replace = (kernelName: string, kernelFunc: (stock: tf.KernelConfig | undefined) => tf.KernelFunc): void => {
    const stock = tf.getKernel(kernelName, backendName);
    if (stock !== undefined) tf.unregisterKernel(kernelName, backendName);
    tf.registerKernel({ kernelName, backendName, kernelFunc: kernelFunc(stock) });
    restores.push(() => {
      tf.unregisterKernel(kernelName, backendName);
      if (stock !== undefined) tf.registerKernel(stock);
    });
  };
  const delegate = (stock: tf.KernelConfig | undefined, kernelName: string, args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | tf.TensorInfo[] => {
    if (stock === undefined) throw new Error(`${kernelName} on ${backendName}: only NHWC (channelsLast) is supported`);
    return stock.kernelFunc(args);
  };

  const filter = options.filter ?? 'auto';
  if (filter !== 'stock') {
    replace(tf.Conv2DBackpropFilter, (stock) => (args) => {
      const attrs = args.attrs ?? {};
      if (attrs['dataFormat'] === 'NCHW') return delegate(stock, tf.Conv2DBackpropFilter, args);
      const filterShape = attrs['filterShape'];
      if (!isQuad(filterShape)) throw new TypeError(`filterShape must be 4 positive integers, got ${JSON.stringify(filterShape)}`);
      const geometry = { filterShape, strides: stridesOf(attrs['strides']), pad: padOf(attrs['pad']), dimRoundingMode: roundingOf(attrs['dimRoundingMode']) };
      return runComposed(args.backend as tf.KernelBackend, [input(args.inputs, 'x'), input(args.inputs, 'dy')], (x, dy) =>
        conv2dBackpropFilterMatMul(x as tf.Tensor4D, dy as tf.Tensor4D, geometry, { ...options.filterOptions, strategy: filter }));
    });
  }
  if (options.input === 'conv') {
    replace(tf.Conv2DBackpropInput, (stock) => (args) => {
      const attrs = args.attrs ?? {};
      if (attrs['dataFormat'] === 'NCHW') return delegate(stock, tf.Conv2DBackpropInput, args);
      const inputShape = attrs['inputShape'];
      if (!isQuad(inputShape)) throw new TypeError(`inputShape must be 4 positive integers, got ${JSON.stringify(inputShape)}`);
      const geometry = { inputShape, strides: stridesOf(attrs['strides']), pad: padOf(attrs['pad']), dimRoundingMode: roundingOf(attrs['dimRoundingMode']) };
      return runComposed(args.backend as tf.KernelBackend, [input(args.inputs, 'dy'), input(args.inputs, 'filter')], (dy, w) =>
        conv2dBackpropInputConv(dy as tf.Tensor4D, w as tf.Tensor4D, geometry));
    });
  }
  return () => {
    for (const restore of restores.reverse()) restore();
  };
}
