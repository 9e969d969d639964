import * as tf from '@tensorflow/tfjs';

/**
 * Backends whose Reshape kernel is a pure view (it adds a reference to the same data and returns
 * a new shape), checked in tfjs 4.22's kernels/Reshape.js of each. The tensorflow (native) backend
 * runs a real op, so it is not listed and gets `tf.reshape`.
 */
const VIEW_RESHAPE_BACKENDS = new Set(['cpu', 'wasm', 'webgpu']);

/**
 * `x` with another shape of the same size, exactly what those backends' Reshape kernel returns,
 * but without going through the engine's kernel dispatch: no tape node, no profile entry, no
 * per-kernel host cost. Meant for code that runs outside gradient recording (optimizer updates),
 * where hundreds of reshapes per step would otherwise each cost a kernel call. Elsewhere (other
 * backends, non-float32 data) it is `tf.reshape`. The result belongs to the current tidy scope,
 * like any new tensor, and disposing it never frees data `x` still holds.
 */
export function viewAs<R extends tf.Rank>(x: tf.Tensor, shape: tf.ShapeMap[R]): tf.Tensor<R> {
  const size = (shape as number[]).reduce((a, b) => a * b, 1);
  if (size !== x.size) throw new Error(`viewAs: cannot view shape [${x.shape.join(',')}] as [${(shape as number[]).join(',')}]`);
  if (!VIEW_RESHAPE_BACKENDS.has(tf.getBackend()) || x.dtype !== 'float32') return tf.reshape(x, shape);
  const backend = tf.backend();
  backend.incRef(x.dataId);
  return tf.engine().makeTensorFromTensorInfo({ dataId: x.dataId, shape: (shape as number[]).slice(), dtype: x.dtype }, backend) as tf.Tensor<R>;
}

/**
 * A second tensor on `x`'s data (same shape), as the cpu/webgpu Identity kernel makes it, without
 * a kernel; undefined where that is not known to be safe (other backends, string or complex data).
 */
export function sharedTensor(x: tf.Tensor): tf.Tensor | undefined {
  if (!VIEW_RESHAPE_BACKENDS.has(tf.getBackend()) || !(x.dtype === 'float32' || x.dtype === 'int32' || x.dtype === 'bool')) return undefined;
  const backend = tf.backend();
  backend.incRef(x.dataId);
  return tf.engine().makeTensorFromTensorInfo({ dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype }, backend);
}
