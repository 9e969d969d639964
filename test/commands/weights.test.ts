import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeImagenetWeights, IMAGENET_INCEPTION_V3 } from '../../src/train/models/imagenet-weights.js';
import { parseJson, ROOT, runCli, tempDir } from '../helpers/cli.js';
import { rejection } from '../helpers/errors.js';
import { PYTHON, requirement } from '../helpers/requirements.js';

const h5py = requirement('python3-h5py', spawnSync(PYTHON, ['-c', 'import h5py, numpy'], { stdio: 'ignore' }).status === 0,
  `${PYTHON} cannot import h5py and numpy (apt-get install -y python3-h5py)`);

describe('retina weights', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir('retina-weights-')));
  afterAll(() => cleanup());

  it('prints where the official file lives and its published MD5, and finds Keras\' cached download', async () => {
    const home = join(dir, 'home');
    let r = await runCli(['weights', '--json'], { env: { HOME: home } });
    expect(r.code).toBe(0);
    const j = parseJson(r);
    expect(j).toMatchObject({
      name: 'inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5',
      url: 'https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5',
      md5: 'bcbd6486424b2319ff4ef7d526e38f63', kerasCache: null,
    });
    await mkdir(join(home, '.keras', 'models'), { recursive: true });
    await writeFile(join(home, '.keras', 'models', IMAGENET_INCEPTION_V3.name), 'x');
    r = await runCli(['weights'], { env: { HOME: home } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('bcbd6486424b2319ff4ef7d526e38f63');
    expect(r.stdout).toContain(join(home, '.keras', 'models', IMAGENET_INCEPTION_V3.name));
  });

  it('a file with another MD5 is CORRUPT (exit 5), saying what it found; a missing one NOT_FOUND (exit 4)', async () => {
    await writeFile(join(dir, 'partial.h5'), 'truncated');
    let r = await runCli(['weights', join(dir, 'partial.h5'), '--json']);
    expect(r.code).toBe(5);
    const err = parseJson<{ error: { code: string; message: string; hint: string } }>(r).error;
    expect(err.code).toBe('CORRUPT');
    expect(err.message).toContain('MD5 '); // what it found
    expect(err.message).toContain('bcbd6486424b2319ff4ef7d526e38f63'); // what was expected
    expect(err.message).toContain('not an HDF5 file');
    expect(err.hint).toContain(IMAGENET_INCEPTION_V3.url);
    r = await runCli(['weights', join(dir, 'nothing.h5')]);
    expect(r.code).toBe(4);
  });

  it.skipIf(!h5py.available)('a file with the published MD5 is verified; a usable Keras InceptionV3 with another MD5 is told apart', async () => {
    const file = join(dir, 'k.h5');
    const w = spawnSync(PYTHON, [join(ROOT, 'test/helpers/write_keras_h5.py'), file]);
    expect(w.status).toBe(0);
    const md5 = spawnSync(PYTHON, ['-c', 'import hashlib,sys; print(hashlib.md5(open(sys.argv[1],"rb").read()).hexdigest())', file], { encoding: 'utf8' }).stdout.trim();
    const ok = await describeImagenetWeights(file, { published: { ...IMAGENET_INCEPTION_V3, md5: md5 as typeof IMAGENET_INCEPTION_V3.md5 } });
    expect(ok.verified).toMatchObject({ file, md5, matches: true });
    const err = await rejection(describeImagenetWeights(file));
    expect(err.code).toBe('CORRUPT');
    expect(err.message).toContain('a Keras InceptionV3 weights file that --weights can load, but not the published ImageNet one');
  });
});
