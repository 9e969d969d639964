/**
 * CPU milliseconds per image of each step of the transform, one libvips thread, in-process
 * (`process.cpuUsage`, all threads): sharp's plain resize for reference, the working decode,
 * retina detection, crop+resize, and the whole `transformImage` (plain and Ben Graham).
 *
 *   npx tsx bench/transform-steps.ts [DIR...]   (default: the real Kaggle sample)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeWorking, renderSquare, squareRegion, transformImage } from '../src/transform.js';

const ROOT = new URL('..', import.meta.url).pathname;
const dirs = process.argv.slice(2).length ? process.argv.slice(2) : [join(ROOT, '..', 'shared', 'data', 'kaggle-sample', 'train')];
sharp.concurrency(1);
sharp.cache(false);
for (const dir of dirs) {
  const bufs = readdirSync(dir).sort().slice(0, 20).map((f) => readFileSync(join(dir, f)));
  const rounds = Math.max(2, Math.ceil(40 / bufs.length));
  const time = async (name: string, fn: (b: Buffer, i: number) => Promise<unknown>) => {
    for (const [i, b] of bufs.slice(0, 3).entries()) await fn(b, i);
    const c = process.cpuUsage();
    for (let r = 0; r < rounds; r++) for (const [i, b] of bufs.entries()) await fn(b, i);
    const u = process.cpuUsage(c);
    console.log(`${dir}: ${name} ${((u.user + u.system) / 1000 / (rounds * bufs.length)).toFixed(2)} ms CPU/image`);
  };
  await time('sharp plain resize(299, contain)', (b) => sharp(b).resize(299, 299, { fit: 'contain' }).raw().toBuffer());
  await time('decodeWorking', (b) => decodeWorking(b, 299));
  const works = await Promise.all(bufs.map((b) => decodeWorking(b, 299)));
  await time('retina detection', async (_, i) => squareRegion(works[i]!, 'auto'));
  await time('crop+resize', async (_, i) => renderSquare(works[i]!, squareRegion(works[i]!, 'auto'), 299));
  await time('transformImage (all)', (b) => transformImage(b, { size: 299, crop: 'auto', normalize: 'none', dtype: 'uint8' }));
  await time('transformImage ben-graham (all)', (b) => transformImage(b, { size: 299, crop: 'auto', normalize: 'ben-graham', dtype: 'uint8' }));
}
