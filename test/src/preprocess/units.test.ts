import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { indexImages } from '../../../src/preprocess/image-index.js';
import { createProgress } from '../../../src/preprocess/preprocess-progress.js';
import { planThreads } from '../../../src/preprocess/threads.js';
import { summarizeProblems } from '../../../src/labelled-images.js';
import { transformInOrder } from '../../../src/preprocess/pipeline.js';
import { createFinisher } from '../../../src/preprocess/finish-pool.js';
import { renderFundus } from '../../../fixtures/generate.js';
import { createRng } from '../../../src/rng.js';
import type { RetinaError } from '../../../src/core/errors.js';
import { tempDir } from '../../helpers/cli.js';

let dir: string, cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir('retina-pp-units-')));
afterAll(() => cleanup());

describe('indexImages', () => {
  it('finds ids by name with .jpeg/.jpg/.png/.tif, preferring .jpeg, and ids that carry their extension', async () => {
    const d = join(dir, 'imgs');
    await mkdir(d);
    for (const f of ['a.jpeg', 'a.png', 'b.jpg', 'c.PNG', 'd.tif', 'e.tiff', 'notes.txt', 'x.y.jpeg']) await writeFile(join(d, f), '');
    const idx = await indexImages(d);
    expect(idx.size).toBe(7);
    expect(idx.find('a')).toBe(join(d, 'a.jpeg'));
    expect(idx.find('a.png')).toBe(join(d, 'a.png'));
    expect(idx.find('b')).toBe(join(d, 'b.jpg'));
    expect(idx.find('c')).toBe(join(d, 'c.PNG'));
    expect(idx.find('d')).toBe(join(d, 'd.tif'));
    expect(idx.find('e')).toBe(join(d, 'e.tiff'));
    expect(idx.find('x.y')).toBe(join(d, 'x.y.jpeg'));
    expect(idx.find('notes')).toBeUndefined();
    expect(idx.find('zzz')).toBeUndefined();
  });

  it('a missing folder is NOT_FOUND', async () => {
    const err = await indexImages(join(dir, 'nope')).catch((e: unknown) => e);
    expect((err as RetinaError).code).toBe('NOT_FOUND');
  });
});

describe('summarizeProblems', () => {
  it('gives counts per kind and the first five lines of each', () => {
    const problems = Array.from({ length: 8 }, (_, i) => ({ kind: 'missing-file' as const, id: `p${i}`, line: i + 2, reason: 'x' }));
    problems.push({ kind: 'bad-grade', id: 'g', line: 40, reason: 'grade "7" is not an integer 0-4' } as never);
    const text = summarizeProblems(problems, '/imgs');
    expect(text).toContain('8 missing image files (no <id>.jpeg/.jpg/.png/.tif/.tiff in /imgs): line 2 (p0); line 3 (p1); line 4 (p2); line 5 (p3); line 6 (p4); and 3 more');
    expect(text).toContain('1 grades outside 0-4: line 40 (g): grade "7" is not an integer 0-4');
  });
});

describe('createProgress', () => {
  it('prints periodic lines with count, rate and ETA when not a TTY', async () => {
    const out: string[] = [];
    const p = createProgress({ total: 10, label: 'job', stream: { isTTY: false, write: (s: string) => out.push(s) }, intervalS: 0.01 });
    for (let i = 0; i < 5; i++) { p.tick(); await new Promise((r) => setTimeout(r, 15)); }
    p.done();
    expect(out.length).toBeGreaterThanOrEqual(3);
    expect(out.at(-1)).toMatch(/^job: 5\/10 \(50\.0 %\), [\d.]+ images\/s, ETA \d+s\n$/);
  });

  it('redraws one line on a TTY', () => {
    const out: string[] = [];
    const p = createProgress({ total: 4, label: 'job', stream: { isTTY: true, columns: 80, write: (s: string) => out.push(s) } });
    p.tick(4);
    p.done();
    expect(out.at(-1)).toMatch(/^\r\[#+\] job: 4\/4/);
  });
});

describe('planThreads', () => {
  it('decodes one image per CPU when the libuv pool allows, and says so when it does not', () => {
    expect(planThreads(2, false, {})).toMatchObject({ decodeSlots: 2, vipsThreads: 1, jsThreads: 0, note: undefined });
    const wide = planThreads(16, true, {});
    expect(wide).toMatchObject({ decodeSlots: 4, vipsThreads: 4, jsThreads: 4 });
    expect(wide.note).toContain('UV_THREADPOOL_SIZE=16');
    expect(planThreads(16, true, { UV_THREADPOOL_SIZE: '16' })).toMatchObject({ decodeSlots: 16, vipsThreads: 1, note: undefined });
    // From 4 CPUs the work after decoding leaves the main thread, even for plain uint8.
    expect(planThreads(3, false, {})).toMatchObject({ jsThreads: 0 });
    expect(planThreads(8, false, { UV_THREADPOOL_SIZE: '8' })).toMatchObject({ decodeSlots: 8, jsThreads: 2 });
  });
});

describe('transformInOrder', () => {
  it('delivers outcomes (tensors and decode errors) in input order whatever finishes first', async () => {
    const files: string[] = [];
    for (let i = 0; i < 12; i++) {
      // Alternate big and small images so later ones often finish first.
      const big = i % 3 === 0;
      const file = join(dir, `o${i}.jpeg`);
      await writeFile(file, await renderFundus({ width: big ? 640 : 96, height: big ? 480 : 72, grade: 0, eye: 'left', rng: createRng(i) }));
      files.push(file);
    }
    await writeFile(join(dir, 'bad.jpeg'), 'nope');
    const items = files.map((file, i) => ({ file, i }));
    items.splice(5, 0, { file: join(dir, 'bad.jpeg'), i: -1 });
    const seen: number[] = [];
    const finisher = createFinisher(1);
    try {
      await transformInOrder(items, { transform: { size: 24, crop: 'auto', normalize: 'ben-graham', dtype: 'float32' }, decodeSlots: 3, window: 4, finisher }, async (o) => {
        seen.push(o.item.i);
        if ('tensor' in o) expect(o.tensor.length).toBe(24 * 24 * 3 * 4);
        else expect(o.error.length).toBeGreaterThan(5);
      });
    } finally {
      await finisher.close();
    }
    expect(seen).toEqual(items.map((x) => x.i));
  });

  it('stops launching when the signal aborts', async () => {
    const controller = new AbortController();
    const items = Array.from({ length: 20 }, () => ({ file: join(dir, 'o1.jpeg') }));
    let n = 0;
    const finisher = createFinisher(0);
    await transformInOrder(items, { transform: { size: 16, crop: 'auto', normalize: 'none', dtype: 'uint8' }, decodeSlots: 1, window: 2, finisher, signal: controller.signal }, async () => {
      if (++n === 3) controller.abort();
    });
    expect(n).toBe(3);
  });
});
