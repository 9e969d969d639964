import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { RetinaError, messageOf } from '../../core/errors.js';
import { selectBackend } from '../../backends/backend-registry.js';
import { buildInceptionV3 } from './inception-v3.js';
import { adoptKerasInception } from './inception-h5.js';
import { readKerasH5 } from './keras-h5.js';

/**
 * Keras' ImageNet weights of InceptionV3 without its top: the file `keras.applications.InceptionV3(
 * weights='imagenet', include_top=False)` downloads. URL and MD5 as published in
 * keras/applications/inception_v3.py (`WEIGHTS_PATH_NO_TOP`, `get_file(..., file_hash=...)`; a
 * 32-digit file_hash is MD5 there). The same file is the v0.5 release asset of
 * fchollet/deep-learning-models.
 */
export const IMAGENET_INCEPTION_V3 = {
  name: 'inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5',
  url: 'https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5',
  mirror: 'https://github.com/fchollet/deep-learning-models/releases/download/v0.5/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5',
  md5: 'bcbd6486424b2319ff4ef7d526e38f63',
  publishedIn: 'keras/applications/inception_v3.py (WEIGHTS_PATH_NO_TOP, file_hash)',
} as const;

/** What `retina weights [FILE]` prints with --json. */
export interface WeightsResult {
  name: string;
  url: string;
  mirror: string;
  md5: string;
  publishedIn: string;
  /** Where Keras caches its download; the path when the file is there, else null. */
  kerasCache: string | null;
  /** The local file checked against the published MD5 (absent without FILE). */
  verified?: { file: string; bytes: number; md5: string; matches: true };
}

/** Streaming MD5 of a file (memory stays bounded). */
export async function md5File(file: string): Promise<{ md5: string; bytes: number }> {
  const hash = createHash('md5');
  let bytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 4 << 20 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { md5: hash.digest('hex'), bytes };
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

/**
 * Where the official file lives and its checksum; with `file`, check that file against the
 * published MD5.
 * @throws RetinaError NOT_FOUND (no such file), CORRUPT (the MD5 differs; the message says whether
 *   the file is still a Keras InceptionV3 that --weights can load, e.g. one's own fine-tuned one).
 */
export async function describeImagenetWeights(file?: string, opts: { home?: string; published?: typeof IMAGENET_INCEPTION_V3 } = {}): Promise<WeightsResult> {
  const published = opts.published ?? IMAGENET_INCEPTION_V3;
  const cache = join(opts.home ?? homedir(), '.keras', 'models', published.name);
  const result: WeightsResult = { ...published, kerasCache: (await isFile(cache)) ? cache : null };
  if (file === undefined) return result;
  if (!(await isFile(file))) {
    throw new RetinaError('NOT_FOUND', `No file at ${file}`, { location: { file }, hint: `Download ${published.url}` });
  }
  const { md5, bytes } = await md5File(file);
  if (md5 !== published.md5) {
    // Tell a damaged download from a different but usable InceptionV3 (another Keras save).
    let usable: string;
    try {
      const h5 = await readKerasH5(file);
      // The shape checks need the layers built (wasm: tfjs' cpu backend prints a banner in Node).
      await selectBackend('wasm');
      const model = buildInceptionV3({ mode: 'trainable', seed: 0 });
      try {
        adoptKerasInception(h5, model);
      } finally {
        model.dispose();
      }
      usable = 'It is a Keras InceptionV3 weights file that --weights can load, but not the published ImageNet one.';
    } catch (err) {
      usable = `It is not a usable InceptionV3 weights file either (${messageOf(err)}).`;
    }
    throw new RetinaError('CORRUPT', `${file}: MD5 ${md5} (${bytes} bytes); the published ${published.name} has MD5 ${published.md5}. ${usable}`, {
      location: { file }, hint: `A partial or different download: fetch ${published.url} again.`,
    });
  }
  return { ...result, verified: { file, bytes, md5, matches: true } };
}
