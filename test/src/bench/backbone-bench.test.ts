import { describe, expect, it } from 'vitest';
import { parseJson, runCli } from '../../helpers/cli.js';

interface Row { backend: string; mode: string; threads: number; batch: number; images: number; seconds: number; imagesPerSecond: number; msPerImagePerThread: number }
interface Result { model: string; cpus: number; results: Row[]; skipped: { backend: string; reason: string }[] }

describe('retina bench backbone', () => {
  it('measures every backend that starts, per thread and on all CPUs, in one run (--json)', async () => {
    const r = await runCli(['bench', 'backbone', '--model', 'small-cnn', '--size', '32', '--seconds', '1', '--threads', '2', '--json'], { env: { RETINA_CACHE_DIR: '/tmp/retina-test-bench-backbone' } });
    expect(r.code, r.stderr).toBe(0);
    const j = parseJson<Result>(r);
    expect(j.model).toBe('small-cnn');
    const key = (x: Row) => `${x.backend}/${x.mode}/${x.threads}`;
    expect(j.results.map(key)).toEqual([
      'onnxruntime/per-thread/1', 'onnxruntime/workers/2', 'onnxruntime/intra-op/2',
      'wasm/per-thread/1', 'wasm/workers/2', 'cpu/per-thread/1', 'cpu/workers/2',
    ]);
    for (const x of j.results) {
      expect(x.images).toBeGreaterThanOrEqual(x.batch);
      expect(x.imagesPerSecond).toBeCloseTo(x.images / x.seconds, 6);
      expect(x.msPerImagePerThread).toBeCloseTo((x.seconds * 1000 * x.threads) / x.images, 6);
    }
    // Not installed or no GPU here: listed with the reason, not measured.
    expect(j.skipped.map((s) => s.backend)).toEqual(['tensorflow', 'webgpu']);
    expect(j.skipped[0]!.reason).toMatch(/tfjs-node/);
  }, 180_000);

  it('rejects an unknown backend before measuring anything (exit 2)', async () => {
    const r = await runCli(['bench', 'backbone', '--model', 'small-cnn', '--backends', 'onnxruntime,tpu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('tpu');
  });
});
