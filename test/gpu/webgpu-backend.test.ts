/**
 * `--backend webgpu` and `auto` on a machine without a usable GPU (this one: no Vulkan loader, or
 * Mesa lavapipe, which Dawn refuses): webgpu fails with a clear UNSUPPORTED error, auto skips it.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetinaError } from '../../src/errors.js';
import { AUTO_ORDER, backendNames, selectBackend } from '../../src/train/backend.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { makeFixtures, writeImageDataset } from '../helpers/train-data.js';

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

  it('auto skips webgpu with the reason and lands on wasm', async () => {
    const s = await selectBackend('auto');
    expect(s.name).toBe('wasm');
    const skipped = s.skipped.find((k) => k.name === 'webgpu');
    expect(skipped?.reason).toMatch(/no GPU adapter/);
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
