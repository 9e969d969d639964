import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { spawn } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { train, type TrainOptions } from '../../../src/train/train.js';
import { ForwardClock, slices } from '../../../src/train/pooled-forward.js';
import { makeFixtures, writeImageDataset } from '../../helpers/train-data.js';
import { ROOT, tempDir } from '../../helpers/cli.js';

const TRANSFORM = { size: 32, crop: 'auto', normalize: 'none', dtype: 'uint8' } as const;

describe('the pooled epoch\'s bookkeeping', () => {
  it('splits each wait for features between reading and forward in proportion of the workers\' times', () => {
    const clock = new ForwardClock();
    clock.add(100, { readMs: 30, forwardMs: 90 });
    clock.add(8, { readMs: 0, forwardMs: 0 }); // an empty batch: nothing to attribute to reading
    clock.add(0, { readMs: 50, forwardMs: 50 }); // computed ahead: no wait, worker time still counted
    expect(clock.waitMs).toBe(108);
    expect(clock.dataMs).toBeCloseTo(25, 12);
    expect(clock.forwardWaitMs).toBeCloseTo(83, 12);
    expect(clock.workerReadMs).toBe(80);
    expect(clock.workerForwardMs).toBe(140);
  });

  it('cuts an order into batches like the in-process loader', () => {
    expect(slices([5, 1, 4, 2, 3], 2)).toEqual([[5, 1], [4, 2], [3]]);
    expect(slices([], 4)).toEqual([]);
  });
});

describe('frozen backbone without the cache: forward pass on a worker pool', () => {
  let dir: string, cleanup: () => Promise<void>;
  let raw: string;
  let base: TrainOptions;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('retina-pooled-'));
    const fx = await makeFixtures(join(dir, 'fx'), 40, 5, { width: 64, height: 48 });
    raw = join(dir, 'raw');
    await writeImageDataset(fx, raw, { transform: TRANSFORM, valFraction: 0.25 });
    // 30 train images in batches of 12: chunks of 8 and 4 per batch, and a short last batch (6).
    base = { source: 'raw', data: raw, model: 'small-cnn', epochs: 2, batchSize: 12, lr: 1e-2, seed: 4, backend: 'wasm', cacheFeatures: false, poolForward: true };
  }, 300_000);
  afterAll(() => cleanup?.());

  it('trains exactly as the in-process forward pass: same losses, predictions and confusion', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const inProcess = await train({ ...base, threads: 1, out: join(dir, 'one') });
    const pooled = await train({ ...base, threads: 2, out: join(dir, 'two') });
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(inProcess.epochs.map((e) => e.forwardWorkers)).toEqual([0, 0]);
    expect(pooled.epochs.map((e) => e.forwardWorkers)).toEqual([2, 2]);
    for (let e = 0; e < 2; e++) {
      const a = inProcess.epochs[e]!, b = pooled.epochs[e]!;
      expect(b.trainLoss).toBeCloseTo(a.trainLoss, 5);
      expect(b.valLoss).toBeCloseTo(a.valLoss, 5);
      expect(b.confusion).toEqual(a.confusion);
      expect(b.valKappa).toBeCloseTo(a.valKappa, 6);
    }
    // The trained heads agree too: the saved models' last weights are equal to float tolerance.
    const weights = async (run: string) => new Float32Array((await readFile(join(dir, run, 'model', 'weights.bin'))).buffer.slice(0));
    const [wa, wb] = [await weights('one'), await weights('two')];
    expect(wb.length).toBe(wa.length);
    let maxDiff = 0;
    for (let i = 0; i < wa.length; i++) maxDiff = Math.max(maxDiff, Math.abs(wa[i]! - wb[i]!));
    expect(maxDiff).toBeLessThan(1e-5);
  }, 300_000);

  it('keeps a small backbone in the main thread by default (the pool costs more than it saves there)', async () => {
    const { poolForward: _forced, ...auto } = base;
    const r = await train({ ...auto, epochs: 1, threads: 2, out: join(dir, 'auto') });
    expect(r.epochs.map((e) => e.forwardWorkers)).toEqual([0]);
  }, 300_000);

  it('splits each epoch\'s time honestly between the workers\' reading and their forward pass', async () => {
    const r = await train({ ...base, threads: 2, out: join(dir, 'split') });
    const lines = (await readFile(join(dir, 'split', 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    expect(lines).toHaveLength(2);
    for (const [e, line] of lines.entries()) {
      const rep = r.epochs[e]!;
      for (const key of ['dataWaitSeconds', 'computeSeconds', 'forwardWorkers', 'featureWaitSeconds', 'workerReadSeconds', 'workerForwardSeconds']) {
        expect(line[key]).toBe((rep as unknown as Record<string, number>)[key]);
      }
      expect(rep.workerReadSeconds).toBeGreaterThan(0);
      expect(rep.workerForwardSeconds).toBeGreaterThan(0);
      // Data wait is the reading share of the waits for features, never more than those waits.
      expect(rep.dataWaitSeconds).toBeLessThanOrEqual(rep.featureWaitSeconds + 1e-9);
      expect(rep.dataWaitSeconds + rep.computeSeconds).toBeLessThanOrEqual(rep.seconds + 1e-6);
      expect(rep.computeSeconds).toBeGreaterThanOrEqual(rep.featureWaitSeconds - rep.dataWaitSeconds - 1e-9);
    }
  }, 300_000);

  it('reports a damaged record read in a worker as the in-process path does: CORRUPT, naming shard and record', async () => {
    const bad = join(dir, 'bad');
    await cp(raw, bad, { recursive: true });
    const npy = join(bad, 'shards', 'shard-00000-of-00001', 'data.npy');
    const bytes = await readFile(npy);
    bytes[bytes.length - 100]! ^= 0x10; // inside the last record
    await writeFile(npy, bytes);
    const errorOf = (threads: number) => train({ ...base, data: bad, threads, out: join(dir, `bad-${threads}`) }).then(() => undefined, (e: unknown) => e as { code?: string; location?: unknown; message?: string });
    const inProcess = await errorOf(1), pooled = await errorOf(2);
    expect(inProcess).toMatchObject({ code: 'CORRUPT', location: { shard: 0, record: 39 } });
    expect(pooled).toMatchObject({ code: 'CORRUPT', location: inProcess!.location, message: inProcess!.message });
  }, 300_000);

  it('in-process too, a signal that arrives mid-epoch (a macrotask) stops training at a next batch', async () => {
    // The abort comes from a timer, as a SIGINT handler would, set when the progress bar shows the
    // first batch. Reads and tfjs settle as microtasks: without a turn of the event loop per batch
    // the timer would only fire after the epoch, and this 1-epoch run would finish and save.
    const controller = new AbortController();
    // The per-batch bar is drawn on a terminal only: present stderr as one for this run.
    const wasTTY = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
    Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
    const write = process.stderr.write.bind(process.stderr);
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      if (String(chunk).includes('epoch 1/1 [') && !controller.signal.aborted) setTimeout(() => controller.abort('SIGINT'), 0);
      return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    });
    try {
      await expect(train({ ...base, batchSize: 4, epochs: 1, threads: 1, progress: true, out: join(dir, 'timer'), signal: controller.signal }))
        .rejects.toMatchObject({ code: 'ABORTED', message: expect.stringMatching(/SIGINT.*epoch 1/) });
    } finally {
      spy.mockRestore();
      if (wasTTY) Object.defineProperty(process.stderr, 'isTTY', wasTTY);
      else delete (process.stderr as { isTTY?: boolean }).isTTY;
    }
  }, 120_000);

  it('stops mid-epoch when aborted: ABORTED, no epoch written, no worker thread left, the process exits', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/src/train/pooled-forward-abort-child.ts'), raw, join(dir, 'abort')], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    // A leaked (ref'd) worker would keep the child alive: then this times out and kills it.
    const exit = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(null); }, 120_000);
      child.on('exit', (code) => { clearTimeout(timer); resolve(code); });
    });
    expect(exit).toBe(0);
    const r = JSON.parse(stdout.trim()) as { code: string; epochLines: number; threadsBefore: number; threadsAfter: number; aborted: boolean };
    expect(r).toMatchObject({ code: 'ABORTED', epochLines: 0, aborted: true });
    expect(r.threadsAfter).toBeLessThanOrEqual(r.threadsBefore);
  }, 180_000);
});
