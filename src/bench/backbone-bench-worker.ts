/**
 * One thread of `retina bench backbone`: builds the frozen backbone on its backend (or opens the
 * ONNX graph in ONNX Runtime), runs one warm-up batch, says `ready`, waits for `go`, then runs
 * batches of synthetic images until its time budget is spent (at least `minBatches`) and reports
 * how many images it ran in how many milliseconds.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend } from '../backends/backend-registry.js';
import { buildBackbone, type BackboneSpec } from '../train/models/model-registry.js';
import { onnxForward, tfjsForward, type FrozenForward } from '../train/frozen-forward.js';
import { messageOf } from '../core/errors.js';

export interface BenchWorkerData {
  backend: string;
  spec: BackboneSpec;
  onnxFile?: string;
  /** Intra-op threads of the ONNX Runtime session. */
  intraOp: number;
  dim: number;
  batch: number;
  minBatches: number;
  budgetMs: number;
}

export type BenchWorkerMessage = { ready: true } | { images: number; ms: number } | { error: string };

function syntheticImages(n: number, size: number): Float32Array {
  const x = new Float32Array(n * size);
  for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761) % 2001) / 1000 - 1;
  return x;
}

async function main(): Promise<void> {
  const d = workerData as BenchWorkerData;
  const [h, w, c] = d.spec.inputShape!;
  let forward: FrozenForward;
  if (d.onnxFile !== undefined) forward = await onnxForward(d.onnxFile, d.dim, d.intraOp);
  else {
    await selectBackend(d.backend);
    forward = tfjsForward((await buildBackbone({ ...d.spec, trainable: false })).model);
  }
  const x = syntheticImages(d.batch, h * w * c);
  // Warm-up (kernels compiled, buffers allocated) on one image: the cpu backend takes ~12 s each.
  await forward.run(x.subarray(0, h * w * c), [1, h, w, c]);
  parentPort!.postMessage({ ready: true } satisfies BenchWorkerMessage);
  await new Promise<void>((resolve) => parentPort!.once('message', () => resolve()));
  const t0 = performance.now();
  let images = 0, batches = 0;
  while (batches < d.minBatches || performance.now() - t0 < d.budgetMs) {
    await forward.run(x, [d.batch, h, w, c]);
    images += d.batch;
    batches++;
  }
  parentPort!.postMessage({ images, ms: performance.now() - t0 } satisfies BenchWorkerMessage);
  await forward.dispose();
}

main().catch((err: unknown) => parentPort!.postMessage({ error: messageOf(err) } satisfies BenchWorkerMessage));
