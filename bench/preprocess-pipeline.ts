/**
 * CPU per image of the in-process pipeline (`transformInOrder`, one decode slot) with a no-op sink
 * and with the raw writer, without the CLI around it: separates the transform and writing from
 * the command's own overhead.
 *
 *   npx tsx bench/preprocess-pipeline.ts [IMAGES_DIR]   (default: the set bench/preprocess.ts makes)
 */
import { readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { createShardWriter } from '../formats/dataset.js';
import { createFinisher } from '../src/preprocess/finish-pool.js';
import { transformInOrder } from '../src/preprocess/pipeline.js';

const ROOT = new URL('..', import.meta.url).pathname;
const dir = process.argv[2] ?? join(ROOT, 'tmp', 'bench-preprocess', 'synth-big', 'train');
const out = join(ROOT, 'tmp', 'bench-preprocess-pipeline');
sharp.concurrency(1);
sharp.cache(false);
const items = readdirSync(dir).sort().map((f) => ({ file: join(dir, f) }));
const finisher = createFinisher(0);
for (const mode of ['no-op sink', 'raw writer', 'no-op sink', 'raw writer']) {
  await rm(out, { recursive: true, force: true });
  const w = mode === 'raw writer' ? await createShardWriter(out, 'raw', { index: 0, count: 1, spec: { dtype: 'uint8', shape: [299, 299, 3] } }) : undefined;
  const c = process.cpuUsage();
  let i = 0;
  await transformInOrder(items, { transform: { size: 299, crop: 'auto', normalize: 'none', dtype: 'uint8' }, decodeSlots: 1, window: 4, finisher }, async (o) => {
    if (w && 'tensor' in o) await w.append({ id: `x${i++}`, label: 0, split: 'train' }, o.tensor);
  });
  if (w) await w.close();
  const u = process.cpuUsage(c);
  console.log(`${dir}: ${items.length} images, ${mode}: user ${(u.user / 1000 / items.length).toFixed(2)} + sys ${(u.system / 1000 / items.length).toFixed(2)} ms CPU/image`);
}
await finisher.close();
await rm(out, { recursive: true, force: true });
