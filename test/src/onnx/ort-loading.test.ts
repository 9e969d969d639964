import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { train } from '../../../src/train/train.js';
import { makeFixtures, writeImageDataset } from '../../helpers/train-data.js';
import { parseJson, runCli, tempDir } from '../../helpers/cli.js';

/**
 * ONNX Runtime is loaded through `$RETINA_ONNXRUNTIME_MODULE` when set: a module that records being
 * imported shows what loads it, and a path that does not exist is a real load failure.
 */
describe('loading ONNX Runtime', () => {
  let dir: string, cleanup: () => Promise<void>;
  let run: string, image: string, probe: string, marker: string;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('retina-ort-load-'));
    const fx = await makeFixtures(join(dir, 'fx'), 8, 2, { width: 48, height: 40 });
    await writeImageDataset(fx, join(dir, 'raw'), { transform: { size: 16, crop: 'auto', normalize: 'none', dtype: 'uint8' }, valFraction: 0.25 });
    run = join(dir, 'run');
    await train({ source: 'raw', data: join(dir, 'raw'), model: 'small-cnn', epochs: 1, batchSize: 4, seed: 1, backend: 'wasm', out: run, cacheDir: join(dir, 'cache') });
    image = join(fx.images, (await readdir(fx.images))[0]!);
    marker = join(dir, 'ort-was-loaded');
    probe = join(dir, 'ort-probe.mjs');
    // Records the import, then fails as a broken native library would.
    await writeFile(probe, `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'loaded');\nthrow new Error('simulated: libonnxruntime.so.1: cannot open shared object file');\n`);
  }, 300_000);
  afterAll(() => cleanup?.());

  it('--help (of every command touched) never loads it', async () => {
    const env = { RETINA_ONNXRUNTIME_MODULE: probe };
    for (const args of [['--help'], ['train', '--help'], ['bench', 'backbone', '--help'], ['export', '--help']]) {
      const r = await runCli(args, { env });
      expect(r.code, args.join(' ')).toBe(0);
    }
    expect(existsSync(marker)).toBe(false);
    // The same variable is honoured where ONNX Runtime is wanted.
    const r = await runCli(['predict', '--model', run, image, '--backend', 'onnxruntime'], { env });
    expect(r.code).toBe(9);
    expect(existsSync(marker)).toBe(true);
    expect(r.stderr).toContain('ONNX Runtime');
    expect(r.stderr).toContain('simulated: libonnxruntime.so.1');
  });

  it('the quick start does not need it: `bench formats` runs on wasm where ONNX Runtime is missing', async () => {
    const missing = join(dir, 'no-such-onnxruntime', 'index.js');
    const r = await runCli(['bench', 'formats', '--count', '8', '--formats', 'raw', '--epochs', '1', '--repeat', '1', '--out', join(dir, 'qs'), '--json'],
      { env: { RETINA_ONNXRUNTIME_MODULE: missing } });
    expect(r.code, r.stderr).toBe(0);
    const j = parseJson<{ machine: { backend: string }; results: { source: string }[] }>(r);
    expect(j.machine.backend).toBe('wasm');
    expect(j.results.map((x) => x.source)).toEqual(['images', 'raw']);
  }, 180_000);

  it('explicit --backend onnxruntime fails with the reason (not installed: exit 8)', async () => {
    const missing = join(dir, 'no-such-onnxruntime', 'index.js');
    const r = await runCli(['predict', '--model', run, image, '--backend', 'onnxruntime'], { env: { RETINA_ONNXRUNTIME_MODULE: missing } });
    expect(r.code).toBe(8);
    expect(r.stderr).toMatch(/ONNX Runtime \(.*no-such-onnxruntime.*\) is not installed/);
    expect(r.stdout).toBe('');
  });

  it('auto skips it, saying why at --log-level debug, and grades on tfjs', async () => {
    const missing = join(dir, 'no-such-onnxruntime', 'index.js');
    const r = await runCli(['predict', '--model', run, image, '--json', '--log-level', 'debug'], { env: { RETINA_ONNXRUNTIME_MODULE: missing } });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/backend auto: skipped onnxruntime: ONNX Runtime \(.*no-such-onnxruntime.*\) is not installed/);
    const j = parseJson<{ backend: string; engine: string; predictions: unknown[] }>(r);
    expect([j.backend, j.engine]).toEqual(['wasm', 'wasm']);
    expect(j.predictions).toHaveLength(1);
    // Without the variable, auto picks ONNX Runtime.
    const ok = parseJson<{ backend: string; engine: string }>(await runCli(['predict', '--model', run, image, '--json'], { env: { RETINA_CACHE_DIR: join(dir, 'cache') } }));
    expect([ok.backend, ok.engine]).toEqual(['onnxruntime', 'onnxruntime']);
  });
});
