import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '../../../src/core/log.js';
import { train, type TrainOptions } from '../../../src/train/train.js';
import { loadFeatureCache, saveFeatureCache, type FeatureCacheMeta } from '../../../src/train/feature-cache.js';
import { makeFixtures, writeImageDataset } from '../../helpers/train-data.js';
import { tempDir } from '../../helpers/cli.js';
import { rejection } from '../../helpers/errors.js';

const TRANSFORM = { size: 32, crop: 'auto', normalize: 'none', dtype: 'uint8' } as const;

function capture(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger('info', (l) => lines.push(l)), lines };
}

describe('feature cache integrity (#16 items 1, 8, 11)', () => {
  let dir: string, cleanup: () => Promise<void>;
  let raw: string;
  let base: TrainOptions;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('integrity-cache-'));
    const fx = await makeFixtures(join(dir, 'fx'), 24, 5, { width: 64, height: 48 });
    raw = join(dir, 'raw');
    await writeImageDataset(fx, raw, { transform: TRANSFORM, valFraction: 0.25 });
    base = { source: 'raw', data: raw, model: 'small-cnn', epochs: 1, batchSize: 8, lr: 1e-2, seed: 2, backend: 'wasm', threads: 1 };
  }, 300_000);
  afterAll(() => cleanup?.());

  it('loadFeatureCache: a flipped byte in features.f32 or an edit to meta.json is damage, not a hit', async () => {
    const d = join(dir, 'unit', 'k');
    const features = Float32Array.from({ length: 6 }, (_, i) => i / 7);
    const meta: FeatureCacheMeta = { kind: 'retina-features', version: 1, key: 'k', count: 2, dim: 3, sourceIdentity: 's', backboneIdentity: 'b', seconds: 1, threads: 1, createdAt: 'now' };
    await saveFeatureCache(d, features, meta);
    const hit = await loadFeatureCache(d, 'k', 2, 3);
    expect(hit.state).toBe('hit');
    const f = join(d, 'features.f32');
    const bytes = await readFile(f);
    bytes[9]! ^= 0x01;
    await writeFile(f, bytes);
    expect(await loadFeatureCache(d, 'k', 2, 3)).toMatchObject({ state: 'damaged', reason: expect.stringMatching(/features\.f32 fails its xxh64/) });
    await saveFeatureCache(d, features, meta);
    const m = join(d, 'meta.json');
    await writeFile(m, (await readFile(m, 'utf8')).replace('"count": 2', '"count": 3'));
    expect((await loadFeatureCache(d, 'k', 3, 3)).state).toBe('damaged');
    expect((await loadFeatureCache(d, 'k', 9, 9)).state).toBe('damaged');
    expect((await loadFeatureCache(join(dir, 'unit', 'none'), 'k', 2, 3)).state).toBe('miss');
  });

  it('a damaged cache is reported and recomputed: training gives the numbers of an intact cache', async () => {
    const cacheDir = join(dir, 'cache-a');
    const first = await train({ ...base, cacheDir, out: join(dir, 'run-a1') });
    expect(first.featureCache?.hit).toBe(false);
    const key = first.featureCache!.key;
    const f = join(cacheDir, 'features', key, 'features.f32');
    const bytes = await readFile(f);
    bytes[bytes.length >> 1]! ^= 0x40;
    await writeFile(f, bytes);
    const { logger, lines } = capture();
    const second = await train({ ...base, cacheDir, out: join(dir, 'run-a2'), logger });
    expect(second.featureCache?.hit).toBe(false);
    expect(lines.join('\n')).toMatch(/warn: features: the cache .* is not usable \(.*fails its xxh64 checksum/);
    expect(second.final).toEqual(first.final);
    expect((await train({ ...base, cacheDir, out: join(dir, 'run-a3') })).featureCache?.hit).toBe(true);
  }, 300_000);

  it('a dataset damaged after its cache was built is reported on the cache hit (CORRUPT naming the shard file)', async () => {
    const cacheDir = join(dir, 'cache-b');
    await train({ ...base, cacheDir, out: join(dir, 'run-b1') });
    const shard = join(raw, 'shards', 'shard-00000-of-00001');
    const data = join(shard, 'data.npy');
    const good = await readFile(data);
    const bad = Buffer.from(good);
    bad[bad.length - 3]! ^= 0x08;
    await writeFile(data, bad);
    try {
      const err = await rejection(train({ ...base, cacheDir, out: join(dir, 'run-b2') }));
      expect(err.code).toBe('CORRUPT');
      expect(err.location).toMatchObject({ shard: 0, file: data });
    } finally {
      await writeFile(data, good);
    }
  }, 300_000);

  it('an unusable cache folder trains without the cache, with a warning; temp folders of dead runs are removed', async () => {
    const blocker = join(dir, 'not-a-folder');
    await writeFile(blocker, 'x');
    const { logger, lines } = capture();
    const r = await train({ ...base, cacheDir: blocker, out: join(dir, 'run-c1'), logger });
    expect(r.featureCache?.hit).toBe(false);
    expect(lines.join('\n')).toMatch(/warn: features: could not store the feature cache .*training without it/);
    // a copy left by a killed run (pid 2^22 - 1 does not run) is cleaned up by the next save
    const cacheDir = join(dir, 'cache-c');
    const key = r.featureCache!.key;
    const stale = join(cacheDir, 'features', `${key}.tmp-4194303-1`);
    await mkdir(stale, { recursive: true });
    await writeFile(join(stale, 'features.f32'), Buffer.alloc(1024));
    const run = join(dir, 'run-c2');
    await mkdir(join(run, 'model.tmp-4194303-1'), { recursive: true });
    await train({ ...base, cacheDir, out: run });
    expect(await readdir(join(cacheDir, 'features'))).toEqual([key]);
    expect((await readdir(run)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  }, 300_000);
});
