/**
 * CPU seconds of each piece of a frozen-InceptionV3 run on ONNX Runtime, in one process: selecting
 * the backend, building the seeded model in tfjs, building its ONNX graph, opening a session, a
 * batch of 8 (twice), serializing the tfjs model. CPU time, so it holds on a contended machine.
 *
 *   npx tsx bench/onnx-setup-cost.ts
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backends/backend-registry.js';
import { buildBackbone } from '../src/train/models/model-registry.js';
import { buildOnnxModel } from '../src/onnx/graph.js';
import { writeFileSync } from 'node:fs';
import { createSession, runSession } from '../src/backends/onnxruntime/ort-runtime.js';
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
let c = cpu(); await selectBackend('onnxruntime'); console.log('select', (cpu() - c).toFixed(2));
c = cpu(); const bb = await buildBackbone({ model: 'inception-v3', seed: 1, trainable: false }); console.log('build tfjs', (cpu() - c).toFixed(2));
c = cpu(); const bytes = buildOnnxModel(bb.model); console.log('onnx graph', (cpu() - c).toFixed(2), bytes.length);
writeFileSync(join(tmpdir(), 'retina-onnx-setup-cost.onnx'), bytes);
c = cpu(); const s = await createSession(join(tmpdir(), 'retina-onnx-setup-cost.onnx'), { threads: 1 }); console.log('session', (cpu() - c).toFixed(2));
const x = new Float32Array(8 * 299 * 299 * 3).fill(0.1);
c = cpu(); await runSession(s, x, [8, 299, 299, 3]); console.log('first batch of 8', (cpu() - c).toFixed(2));
c = cpu(); await runSession(s, x, [8, 299, 299, 3]); console.log('second batch of 8', (cpu() - c).toFixed(2));
c = cpu(); await bb.model.save(tf.io.withSaveHandler(async () => ({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }))); console.log('save (serialize only)', (cpu() - c).toFixed(2));
