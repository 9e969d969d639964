import * as tf from '@tensorflow/tfjs';

/**
 * The parts of tfjs-backend-wasm's BackendWasm used here (it exports no typings for them).
 * `typedArrayFromHeap` is a view on the wasm heap, valid only until the next allocation (which may
 * grow and move the heap), so it is taken after `makeOutput`.
 */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

function isWasmBackend(b: unknown): b is WasmBackendLike {
  const r = b as Partial<WasmBackendLike> | null;
  return typeof r?.makeOutput === 'function' && typeof r.typedArrayFromHeap === 'function';
}

const FLAT_DTYPES = new Set<tf.DataType>(['float32', 'int32', 'bool']);

/** Copies `count` values from offset `from` of `x` into a new [shape] tensor on the wasm heap. */
function copyRange(backend: WasmBackendLike, x: tf.TensorInfo, from: number, count: number, shape: number[]): tf.TensorInfo {
  const out = backend.makeOutput(shape, x.dtype);
  if (count > 0) backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(x).subarray(from, from + count));
  return out;
}

/** Offset and length of a slice that is one contiguous run of x's values, else undefined. */
function contiguousRun(shape: readonly number[], begin: readonly number[], size: readonly number[]): { from: number; count: number } | undefined {
  if (!tf.slice_util.isSliceContinous(shape as number[], begin as number[], size as number[])) return undefined;
  const strides = tf.util.computeStrides(shape as number[]);
  return { from: tf.slice_util.computeFlatOffset(begin as number[], strides), count: tf.util.sizeFromShape(size as number[]) };
}

/**
 * Slice and SplitV for the wasm backend that copy only the values they return when those are
 * contiguous. tfjs-backend-wasm 4.22 reads the whole input into a fresh JavaScript array for
 * every slice (`readSync`), so splitting InceptionV3's 21.8M-value flat Adam update into its 284
 * variables copied 25 GB and took 10 s; this takes milliseconds. Non-contiguous slices and other
 * dtypes go to the stock kernels. Returns a function that restores them.
 */
export function registerWasmContiguousSlices(): () => void {
  const restores: (() => void)[] = [];
  for (const kernelName of [tf.Slice, tf.SplitV]) {
    const stock = tf.getKernel(kernelName, 'wasm');
    if (!stock) continue;
    tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({
      kernelName, backendName: 'wasm',
      kernelFunc: (args) => {
        const x = args.inputs['x'];
        const backend = args.backend;
        if (!x || !FLAT_DTYPES.has(x.dtype) || !isWasmBackend(backend)) return stock.kernelFunc(args);
        const attrs = args.attrs ?? {};
        if (kernelName === tf.Slice) {
          const [begin, size] = tf.slice_util.parseSliceParams(x as tf.TensorInfo as tf.Tensor, attrs['begin'] as number[], attrs['size'] as number[]) as [number[], number[]];
          const run = contiguousRun(x.shape, begin, size);
          return run ? copyRange(backend, x, run.from, run.count, size) : stock.kernelFunc(args);
        }
        const axis = tf.util.parseAxisParam(attrs['axis'] as number, x.shape)[0]!;
        const sizes = tf.backend_util.prepareSplitSize(x as tf.TensorInfo as tf.Tensor, attrs['numOrSizeSplits'] as number[] | number, axis);
        // Every part is contiguous exactly when all axes before `axis` have size 1.
        if (x.shape.slice(0, axis).some((d) => d !== 1)) return stock.kernelFunc(args);
        const inner = tf.util.sizeFromShape(x.shape.slice(axis + 1));
        let from = 0;
        return sizes.map((s) => {
          const shape = x.shape.slice();
          shape[axis] = s;
          const out = copyRange(backend, x, from, s * inner, shape);
          from += s * inner;
          return out;
        });
      },
    });
    restores.push(() => {
      tf.unregisterKernel(kernelName, 'wasm');
      tf.registerKernel(stock);
    });
  }
  return () => restores.reverse().forEach((r) => r());
}
