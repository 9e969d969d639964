import * as tf from '@tensorflow/tfjs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { isDiskFull, diskFullError } from '../core/disk-full.js';
import { RetinaError, messageOf } from '../core/errors.js';
import { writeDirAtomic } from '../core/atomic-write.js';

const DTYPE_SIZE: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, float16: 2 };

/** Where a model lives: a folder holding model.json, or the model.json path itself. */
export function modelJsonPath(path: string): string {
  return path.endsWith('.json') ? resolve(path) : resolve(path, 'model.json');
}

function corrupt(file: string, what: string, cause?: unknown): RetinaError {
  return new RetinaError('CORRUPT', `${file} is not a valid tfjs layers model: ${what}`, {
    location: { file },
    hint: 'Re-save the model (retina train writes RUN_DIR/model/model.json), or convert it with tensorflowjs_converter --output_format tfjs_layers_model.',
    ...(cause === undefined ? {} : { cause }),
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Check a parsed weights manifest group by group; returns it typed. */
function validateManifest(file: string, manifest: unknown): tf.io.WeightsManifestConfig {
  if (!Array.isArray(manifest)) throw corrupt(file, '"weightsManifest" is not an array');
  for (const [g, group] of manifest.entries()) {
    if (!isRecord(group) || !Array.isArray(group.paths) || !group.paths.every((p) => typeof p === 'string') || !Array.isArray(group.weights)) {
      throw corrupt(file, `weightsManifest[${g}] needs "paths" (strings) and "weights" (array)`);
    }
    for (const [i, w] of group.weights.entries()) {
      if (!isRecord(w) || typeof w.name !== 'string' || !Array.isArray(w.shape) || !w.shape.every((d) => Number.isInteger(d) && (d as number) >= 0) || typeof w.dtype !== 'string' || !(w.dtype in DTYPE_SIZE)) {
        throw corrupt(file, `weightsManifest[${g}].weights[${i}] needs name, shape (integers) and a known dtype`);
      }
      if (w.quantization !== undefined) throw corrupt(file, `weight "${w.name}" is quantized, which retina does not load`);
    }
  }
  return manifest as tf.io.WeightsManifestConfig;
}

/**
 * A tfjs IOHandler over the local file system (no tfjs-node needed): `save` writes `model.json`
 * and one `weights.bin` into `dir`, into a temporary sibling first and renamed into place, so an
 * interrupted save never leaves a half-written model; `load` reads a model.json (given as a file or
 * the folder holding it) and its weight files, checking every size.
 */
export function fileModelHandler(path: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const dir = resolve(path.endsWith('.json') ? dirname(path) : path);
      const weightData = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const json = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: 'retina',
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      try {
        await writeDirAtomic(dir, async (tmp) => {
          await writeFile(join(tmp, 'weights.bin'), new Uint8Array(weightData));
          await writeFile(join(tmp, 'model.json'), JSON.stringify(json));
        });
      } catch (err) {
        if (await isDiskFull(err, dirname(dir))) throw diskFullError(dir, 'the model', err);
        throw new RetinaError('EXTERNAL', `Could not save the model to ${dir}: ${messageOf(err)}`, { location: { file: dir }, cause: err });
      }
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const file = modelJsonPath(path);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new RetinaError('NOT_FOUND', `No model at ${file}`, {
          location: { file },
          hint: 'Pass a run folder written by `retina train --out RUN_DIR`, or a tfjs layers model.json.',
          cause: err,
        });
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        throw corrupt(file, 'not JSON', err);
      }
      if (!isRecord(json) || !isRecord(json.modelTopology)) throw corrupt(file, 'no "modelTopology" object (is it a graph model? retina needs a layers model)');
      const manifest = validateManifest(file, json.weightsManifest);
      const specs: tf.io.WeightsManifestEntry[] = [];
      const parts: Uint8Array[] = [];
      for (const group of manifest) {
        let groupBytes = 0;
        for (const p of group.paths) {
          const weightFile = resolve(dirname(file), p);
          try {
            const bytes = await readFile(weightFile);
            parts.push(bytes);
            groupBytes += bytes.byteLength;
          } catch (err) {
            throw new RetinaError('NOT_FOUND', `Weight file ${weightFile} named by ${file} is missing`, { location: { file: weightFile }, cause: err });
          }
        }
        const expected = group.weights.reduce((sum, w) => sum + w.shape.reduce((a, b) => a * b, 1) * (DTYPE_SIZE[w.dtype] ?? 4), 0);
        if (groupBytes !== expected) throw corrupt(file, `weight files ${group.paths.join(', ')} hold ${groupBytes} bytes, the manifest needs ${expected}`);
        specs.push(...group.weights);
      }
      const total = parts.reduce((a, p) => a + p.byteLength, 0);
      const weightData = new Uint8Array(total);
      let at = 0;
      for (const p of parts) { weightData.set(p, at); at += p.byteLength; }
      return {
        modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
        weightSpecs: specs,
        weightData: weightData.buffer,
        format: typeof json.format === 'string' ? json.format : 'layers-model',
        ...(isRecord(json.userDefinedMetadata) ? { userDefinedMetadata: json.userDefinedMetadata as Record<string, {}> } : {}),
      };
    },
  };
}

/** Load a tfjs layers model from a file or folder, as a RetinaError on anything wrong. */
export async function loadLayersModelFile(path: string): Promise<tf.LayersModel> {
  const file = modelJsonPath(path);
  try {
    await stat(file);
  } catch (err) {
    throw new RetinaError('NOT_FOUND', `No model at ${file}`, { location: { file }, hint: 'Check the path; a run folder holds model/model.json.', cause: err });
  }
  try {
    return await tf.loadLayersModel(fileModelHandler(file));
  } catch (err) {
    if (err instanceof RetinaError) throw err;
    throw corrupt(file, messageOf(err), err);
  }
}
