/**
 * `--backend webgpu` and `auto` on a machine without a usable GPU (this one: no Vulkan loader, or
 * Mesa lavapipe, which Dawn refuses): webgpu fails with a clear UNSUPPORTED error, auto skips it.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetinaError } from '../../../../src/core/errors.js';
import { AUTO_ORDER, backendNames, selectBackend } from '../../../../src/backends/backend-registry.js';
import { vulkanLoader } from '../../../../src/backends/webgpu/vulkan-diagnosis.js';
import { ROOT, runCli, tempDir } from '../../../helpers/cli.js';
import { makeFixtures, writeImageDataset } from '../../../helpers/train-data.js';

describe('webgpu backend provider', () => {
  it('is offered by --backend and tried by auto after tensorflow, before wasm', () => {
    expect(backendNames()).toContain('webgpu');
    expect(AUTO_ORDER.indexOf('webgpu')).toBeGreaterThan(AUTO_ORDER.indexOf('tensorflow'));
    expect(AUTO_ORDER.indexOf('webgpu')).toBeLessThan(AUTO_ORDER.indexOf('wasm'));
  });

  it('--backend webgpu fails with UNSUPPORTED saying what is missing', async () => {
    const err = await selectBackend('webgpu').then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RetinaError);
    expect((err as RetinaError).code).toBe('UNSUPPORTED');
    expect((err as RetinaError).message).toMatch(/no GPU adapter/);
  });

  it('auto skips webgpu with the reason and lands on the next provider (onnxruntime, the head on wasm)', async () => {
    const s = await selectBackend('auto');
    expect(s.name).toBe('onnxruntime');
    expect(s.tfjsBackend).toBe('wasm');
    const skipped = s.skipped.find((k) => k.name === 'webgpu');
    expect(skipped?.reason).toMatch(/no GPU adapter/);
  });

  it.runIf(process.platform === 'linux' && vulkanLoader() === undefined)('auto does not even load Dawn where there is no Vulkan loader (nothing printed, no native library mapped)', () => {
    const backend = pathToFileURL(join(ROOT, 'dist', 'src', 'backends', 'backend-registry.js')).href;
    const script = `const { selectBackend } = await import(${JSON.stringify(backend)}); const s = await selectBackend('auto');`
      + `const maps = (await import('node:fs')).readFileSync('/proc/self/maps', 'utf8');`
      + `console.log(JSON.stringify({ name: s.name, reason: s.skipped.find((k) => k.name === 'webgpu')?.reason, dawn: /dawn|webgpu/i.test(maps) }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { name: string; reason: string; dawn: boolean };
    expect(out).toMatchObject({ name: 'onnxruntime', dawn: false });
    expect(out.reason).toMatch(/no Vulkan loader/);
    expect(r.stderr).not.toMatch(/Couldn't load Vulkan/);
  });
});

describe('retina train --backend webgpu (CLI)', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    tmp = await tempDir('retina-gpu-');
    const fx = await makeFixtures(join(tmp.dir, 'fx'), 12, 5, { width: 64, height: 48 });
    await writeImageDataset(fx, join(tmp.dir, 'data'), { transform: { size: 32, crop: 'none', normalize: 'none', dtype: 'uint8' }, valFraction: 0.3 });
  });
  afterAll(async () => tmp?.cleanup());

  it('exits 8 with the missing pieces and the wasm fallback', async () => {
    const r = await runCli(['train', '--source', 'raw', '--data', join(tmp.dir, 'data'), '--model', 'small-cnn', '--epochs', '1',
      '--backend', 'webgpu', '--out', join(tmp.dir, 'run'), '--json']);
    expect(r.code, r.stderr).toBe(8);
    expect(r.stderr + r.stdout).toMatch(/no GPU adapter/);
    expect(r.stderr + r.stdout).toMatch(/--backend wasm/);
  });
});
