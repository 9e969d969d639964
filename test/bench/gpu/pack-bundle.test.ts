/**
 * The GPU bundle builds and runs on its own: its Node starts, imports tfjs and the native packages
 * from the bundle's node_modules, and the entry script runs retina. Packing takes about 5 minutes
 * on 2 cores, so this runs only with RETINA_PACK_TEST=1 (CI: a separate, occasional job).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../../helpers/cli.js';

const run = promisify(execFile);

describe.skipIf(process.env['RETINA_PACK_TEST'] !== '1')('bench/gpu/pack-bundle.sh', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> } | undefined;
  afterAll(async () => tmp?.cleanup());

  it('packs a bundle whose node imports tfjs, lmdb and Dawn, and whose entry script runs retina', async () => {
    tmp = await tempDir('retina-pack-');
    const { stdout } = await run('bash', [join(ROOT, 'bench/gpu/pack-bundle.sh'), '--out', tmp.dir, '--no-debs', '--no-build', '--keep'], { timeout: 900_000, maxBuffer: 16 << 20 });
    expect(stdout.trim()).toBe(join(tmp.dir, 'retina-gpu.tar.xz'));
    const b = join(tmp.dir, 'retina-gpu');
    const env = { PATH: '/usr/bin:/bin' }; // nothing from this machine's node_modules or PATH node
    const version = await run(join(b, 'bin/node'), ['--version'], { env });
    expect(version.stdout.trim()).toBe(process.version);
    const probe = await run(join(b, 'bin/node'), ['--input-type=module', '-e', [
      "const tf = await import('@tensorflow/tfjs'); await import('@tensorflow/tfjs-backend-wasm'); await tf.setBackend('wasm');",
      "const l = await import('lmdb'); const x = await import('@node-rs/xxhash'); const d = await import('webgpu'); const s = await import('sharp');",
      "console.log(JSON.stringify({ v: tf.version.tfjs, b: tf.getBackend(), sq: Array.from(tf.square(tf.tensor([3])).dataSync()), lmdb: typeof l.open, xxh: typeof x.xxh64, dawn: typeof d.create, sharp: typeof s.default }));",
    ].join(' ')], { cwd: join(b, 'app'), env });
    const got = JSON.parse(probe.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(got).toEqual({ v: '4.22.0', b: 'wasm', sq: [9], lmdb: 'function', xxh: 'function', dawn: 'function', sharp: 'function' });
    expect(readdirSync(join(b, 'app/node_modules/webgpu/dist'))).toEqual(['linux-x64']);
    expect(existsSync(join(b, 'app/node_modules/sharp'))).toBe(true); // train/evaluate/predict import it
    const help = await run(join(b, 'retina'), ['train', '--help'], { env });
    expect(help.stdout).toMatch(/--backend/);
    expect(help.stderr).not.toMatch(/MODULE_NOT_FOUND/);
  }, 1_000_000);
});
