import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { imagePixels, PixelBudget } from '../../../src/preprocess/pixel-budget.js';
import { usableCpus } from '../../../src/core/cpus.js';

describe('resource bombs (#16 item 7)', () => {
  it('--threads above the usable CPUs is capped, with a warning', () => {
    const usable = usableCpus(undefined, {}).cpus;
    const r = usableCpus(999, {});
    expect(r.cpus).toBe(usable);
    expect(r.warning).toMatch(new RegExp(`--threads 999 is more than the ${usable} CPUs this process may use`));
    expect(usableCpus(1, {})).toEqual({ cpus: 1, source: 'flag' });
    expect(usableCpus(99, { SLURM_CPUS_PER_TASK: '4' }).cpus).toBe(4);
  });

  it('imagePixels reads JPEG (with EXIF, progressive) and PNG headers', async () => {
    const raw = { raw: { width: 40, height: 30, channels: 3 as const } };
    const px = Buffer.alloc(40 * 30 * 3, 100);
    expect(imagePixels(await sharp(px, raw).jpeg().toBuffer())).toBe(1200);
    expect(imagePixels(await sharp(px, raw).jpeg({ progressive: true }).withMetadata({ orientation: 6 }).toBuffer())).toBe(1200);
    expect(imagePixels(await sharp(px, raw).png().toBuffer())).toBe(1200);
    expect(imagePixels(Buffer.from('not an image'))).toBeUndefined();
  });

  it('PixelBudget: decodes start only while their pixels fit; one larger than the budget runs alone', async () => {
    const b = new PixelBudget(100);
    const order: string[] = [];
    await b.acquire(60);
    const second = b.acquire(60).then(() => order.push('second'));
    const huge = b.acquire(500).then(() => order.push('huge'));
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual([]);
    expect(b.used).toBe(60);
    b.release(60);
    await second;
    expect(b.used).toBe(60);
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual(['second']); // huge waits until nothing else runs
    b.release(60);
    await huge;
    expect(b.used).toBe(500);
    b.release(500);
    expect(b.used).toBe(0);
  });
});
