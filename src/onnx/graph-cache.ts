/**
 * ONNX graphs of frozen backbones, cached on disk: `ROOT/onnx/<key>.onnx`, the key an xxh64 of
 * the backbone's identity (for `--weights`, the checksum of model.json and its weight files; for a
 * seeded model, its name, input size and seed), the input shape and the builder version. Weights
 * that change give a new key, so their graph is rebuilt; a file that exists is complete (written
 * to a temporary name and renamed). Building InceptionV3's graph takes about 0.8 s and 87 MB;
 * worker threads then open the file without building a tfjs model at all.
 */
import type * as tf from '@tensorflow/tfjs';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { xxh64 } from '@node-rs/xxhash';
import { hexOf } from '../core/checksum.js';
import { writeFileAtomic } from '../core/atomic-write.js';
import { buildOnnxModel, GRAPH_BUILDER_VERSION, type GraphOptions } from './graph.js';

export interface CachedGraph {
  file: string;
  key: string;
  /** True when the file was there already. */
  hit: boolean;
}

export function onnxGraphKey(identity: string, inputShape: readonly number[], kind = 'backbone'): string {
  return hexOf(xxh64(JSON.stringify({ v: GRAPH_BUILDER_VERSION, kind, identity, inputShape })));
}

/** The cached graph of `model` (identity `identity`), built and stored first when absent. */
export async function cachedOnnxGraph(model: tf.LayersModel, identity: string, cacheRoot: string, opts: GraphOptions & { kind?: string } = {}): Promise<CachedGraph> {
  const shape = model.inputs[0]!.shape.slice(1) as number[];
  const key = onnxGraphKey(identity, shape, opts.kind);
  const dir = join(cacheRoot, 'onnx');
  const file = join(dir, `${key}.onnx`);
  const exists = await stat(file).then((s) => s.isFile() && s.size > 0, () => false);
  if (exists) return { file, key, hit: true };
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(file, buildOnnxModel(model, opts));
  return { file, key, hit: false };
}
