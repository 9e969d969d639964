// ONNX Runtime on a GPU node: retina's own InceptionV3 graph (built here from the seeded tfjs model
// by retina's dist, batch norm folded, NHWC input) through each execution provider the bundle's
// onnxruntime-node offers (webgpu always; cuda when its libraries were fetched at install; cpu for
// scale), batch 32 and 128, for a time budget each after a warm-up. Goal (issue #13): webgpu
// >= 2,000 images/s at batch 128 (tfjs over WebGPU: 1,092 on an H100). Writes $OUT/ort.json as it goes.
// Run by bench/gpu/ort-proof.sh with the bundle's node; RETINA_APP = the bundle's app/ folder.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';

const app = process.env.RETINA_APP ?? process.cwd();
const out = process.env.OUT ?? '.';
const budget = Number(process.env.ORT_BUDGET_S ?? 20) * 1000;
const imp = (p) => import(pathToFileURL(join(app, 'dist', p)).href);
const { selectBackend } = await imp('src/train/backend.js');
const { buildBackbone } = await imp('src/train/models/registry.js');
const { cachedOnnxGraph } = await imp('src/onnx/graph-cache.js');
const ort = (await import(pathToFileURL(join(app, 'node_modules', 'onnxruntime-node', 'dist', 'index.js')).href)).default;

const report = { date: new Date().toISOString(), cpus: availableParallelism(), backends: ort.listSupportedBackends(), results: [], errors: [] };
const save = () => writeFileSync(join(out, 'ort.json'), JSON.stringify(report, null, 2));
await selectBackend('wasm');
let t = performance.now();
const bb = await buildBackbone({ model: 'inception-v3', seed: 1, trainable: false });
const graph = await cachedOnnxGraph(bb.model, bb.identity, process.env.PROOF_WORK ?? '/tmp/retina-ort-proof');
report.graph = { file: graph.file, buildSeconds: (performance.now() - t) / 1000 };
save();
const eps = (process.env.ORT_EPS ?? 'webgpu,cuda,cpu').split(',');
for (const ep of eps) {
  // cuda is not bundled: it runs only where the install script fetched its libraries (see README).
  for (const batch of ep === 'cpu' ? [32] : [32, 128]) {
    try {
      t = performance.now();
      const session = await ort.InferenceSession.create(graph.file, { executionProviders: [ep], graphOptimizationLevel: 'all', intraOpNumThreads: ep === 'cpu' ? availableParallelism() : 1 });
      const createSeconds = (performance.now() - t) / 1000;
      const x = new Float32Array(batch * 299 * 299 * 3);
      for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761) % 2001) / 1000 - 1;
      const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x, [batch, 299, 299, 3]) };
      t = performance.now();
      await session.run(feeds);
      const warmSeconds = (performance.now() - t) / 1000;
      let images = 0;
      t = performance.now();
      while (performance.now() - t < budget || images === 0) { await session.run(feeds); images += batch; }
      const seconds = (performance.now() - t) / 1000;
      const row = { ep, batch, images, seconds, imagesPerSecond: images / seconds, createSeconds, warmSeconds };
      report.results.push(row);
      console.error(JSON.stringify(row));
      await session.release();
    } catch (err) {
      report.errors.push({ ep, batch, error: String(err?.message ?? err) });
      console.error(`ort ${ep} batch ${batch}: ${err?.message ?? err}`);
    }
    save();
  }
}
