import { open } from 'node:fs/promises';
import { RetinaError } from '../../core/errors.js';

/**
 * Keras' HDF5 weight files (`model.save_weights`, and the ImageNet files `keras.applications`
 * downloads), read with h5wasm (HDF5 compiled to WebAssembly: no Python, no native addon).
 *
 * Layout (Keras 2 `save_weights_to_hdf5_group`): a root attribute `layer_names` lists every layer;
 * each layer is a group whose attribute `weight_names` lists its weights, stored as datasets at
 * `<layer>/<weight name>` (the weight name repeats the layer name: `conv2d_5/conv2d_5/kernel:0`).
 * A whole saved model (`model.save`) keeps the same layout under the group `model_weights`.
 */

/** One weight: its role (`kernel`, `beta`, `moving_mean`, ...), shape and values. */
export interface KerasWeight {
  name: string;
  role: string;
  shape: number[];
  values: Float32Array;
}

export interface KerasLayer {
  name: string;
  weights: KerasWeight[];
}

export interface KerasWeightsFile {
  file: string;
  /** Layers that hold weights, in the file's `layer_names` order. */
  layers: KerasLayer[];
  kerasVersion: string | null;
}

/** The HDF5 signature every HDF5 file starts with (at offset 0 for files Keras writes). */
export const HDF5_MAGIC = Uint8Array.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Whether `path` names a Keras HDF5 file by its extension (the loader checks the content). */
export function isH5Path(path: string): boolean {
  return /\.(h5|hdf5|keras\.h5)$/i.test(path);
}

function stringList(v: unknown): string[] | undefined {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[];
  return undefined;
}

/** `conv2d_5/kernel:0` → `kernel`. */
function roleOf(weightName: string): string {
  return (weightName.split('/').pop() ?? weightName).replace(/:\d+$/, '');
}

/**
 * Read every layer's weights from a Keras HDF5 file (float32 in memory: 88 MB for InceptionV3).
 * @throws RetinaError NOT_FOUND (no file), CORRUPT (not HDF5), BAD_INPUT (not Keras' layout).
 */
export async function readKerasH5(file: string): Promise<KerasWeightsFile> {
  let head: Uint8Array;
  try {
    const fh = await open(file, 'r');
    try {
      head = new Uint8Array(8);
      await fh.read(head, 0, 8, 0);
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new RetinaError('NOT_FOUND', `No weights file at ${file}`, {
      location: { file }, cause: err,
      hint: 'Pass the path of a Keras .h5 weights file (`retina weights` says where the ImageNet one lives) or a tfjs model.json.',
    });
  }
  if (!HDF5_MAGIC.every((b, i) => head[i] === b)) {
    throw new RetinaError('CORRUPT', `${file} is not an HDF5 file (it does not start with the HDF5 signature)`, {
      location: { file }, hint: 'A partial download? Check it with `retina weights --verify FILE` and download it again.',
    });
  }
  // Loaded here, not at the top: `--help` and every run without .h5 weights never load the wasm.
  const h5wasm = (await import('h5wasm/node')).default;
  await h5wasm.ready;
  let f: InstanceType<typeof h5wasm.File>;
  try {
    f = new h5wasm.File(file, 'r');
  } catch (err) {
    throw new RetinaError('CORRUPT', `${file} has the HDF5 signature but HDF5 cannot open it`, { location: { file }, cause: err, hint: 'Download it again.' });
  }
  try {
    let root: InstanceType<typeof h5wasm.Group> = f;
    if (!('layer_names' in f.attrs)) {
      const mw = f.get('model_weights');
      if (mw instanceof h5wasm.Group && 'layer_names' in mw.attrs) root = mw;
    }
    const names = 'layer_names' in root.attrs ? stringList(root.attrs['layer_names']!.value) : undefined;
    if (!names) {
      throw new RetinaError('BAD_INPUT', `${file} is HDF5 but not Keras' weights layout: no root attribute "layer_names"`, {
        location: { file }, hint: 'Pass a file written by Keras (model.save_weights / keras.applications), e.g. inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5.',
      });
    }
    const layers: KerasLayer[] = [];
    for (const name of names) {
      const group = root.get(name);
      if (!(group instanceof h5wasm.Group)) {
        throw new RetinaError('BAD_INPUT', `${file}: layer "${name}" is listed in layer_names but has no group`, { location: { file, id: name } });
      }
      const weightNames = 'weight_names' in group.attrs ? stringList(group.attrs['weight_names']!.value) ?? [] : [];
      if (weightNames.length === 0) continue;
      const weights: KerasWeight[] = [];
      for (const wn of weightNames) {
        const ds = group.get(wn);
        if (!(ds instanceof h5wasm.Dataset)) {
          throw new RetinaError('BAD_INPUT', `${file}: layer "${name}" lists weight "${wn}" but holds no dataset ${name}/${wn}`, { location: { file, id: `${name}/${wn}` } });
        }
        const value = ds.value;
        const shape = ds.shape ?? [];
        let values: Float32Array;
        if (value instanceof Float32Array) values = value;
        else if (value instanceof Float64Array) values = Float32Array.from(value);
        else {
          throw new RetinaError('UNSUPPORTED', `${file}: weight ${name}/${wn} has type ${JSON.stringify(ds.dtype)}; retina reads float32 and float64 weights`, { location: { file, id: `${name}/${wn}` } });
        }
        weights.push({ name: wn, role: roleOf(wn), shape, values });
      }
      layers.push({ name, weights });
    }
    const kv = 'keras_version' in root.attrs ? root.attrs['keras_version']!.value : ('keras_version' in f.attrs ? f.attrs['keras_version']!.value : null);
    return { file, layers, kerasVersion: typeof kv === 'string' ? kv : null };
  } finally {
    f.close();
  }
}
