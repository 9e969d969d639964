/**
 * Peak RSS of `retina preprocess` over as many images as the Kaggle training set (35,126), to show
 * that memory stays flat: small generated images (cycled through hard links) and a small --size keep
 * the run short and the output small; what grows with the image count (labels, ids, split, record
 * table) is what this measures.
 *
 *   npx tsc -p tsconfig.json && npx tsx bench/preprocess-memory.ts [--count 35126] [--size 64]
 */
import { execFile } from 'node:child_process';
import { link, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateFixtures } from '../fixtures/generate.js';

const ROOT = new URL('..', import.meta.url).pathname;
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const WORK = join(ROOT, 'tmp', 'bench-preprocess-memory');
const size = arg('size', 64);

await rm(WORK, { recursive: true, force: true });
await generateFixtures({ out: join(WORK, 'src'), count: 50, seed: 3, size: { width: 320, height: 240 } });
const sources = (await readdir(join(WORK, 'src', 'train'))).sort().map((f) => join(WORK, 'src', 'train', f));

for (const count of [arg('small', 1000), arg('count', 35126)]) {
  const dir = join(WORK, `n${count}`);
  await mkdir(join(dir, 'train'), { recursive: true });
  const rows = ['image,level'];
  for (let i = 0; i < count; i++) {
    const id = `${Math.floor(i / 2) + 1}_${i % 2 ? 'right' : 'left'}`;
    // Hard links: preprocess refuses two rows whose files resolve to one path (symlinks do).
    await link(sources[i % sources.length]!, join(dir, 'train', `${id}.jpeg`));
    rows.push(`${id},${i % 5}`);
  }
  await writeFile(join(dir, 'trainLabels.csv'), rows.join('\n') + '\n');
  const t0 = performance.now();
  const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
    // bin/run.js executed: its shebang starts Node as users get it (src/node-flags.ts).
    execFile('/usr/bin/time', ['-f', 'MAXRSS_KB=%M', join(ROOT, 'bin', 'run.js'), 'preprocess', '--format', 'raw', '--json', '--size', String(size)],
      { cwd: dir, maxBuffer: 1 << 26 }, (err, stdout, stderr) => (err ? reject(new Error(stderr, { cause: err })) : resolve({ stdout, stderr }))));
  const r = JSON.parse(stdout) as { records: number; imagesPerSecond: number };
  const kb = Number(/MAXRSS_KB=(\d+)/.exec(stderr)?.[1]);
  console.log(`${count} images (320x240 JPEG -> ${size}x${size}): ${r.records} records, ${r.imagesPerSecond} images/s, peak RSS ${Math.round(kb / 1024)} MiB, wall ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await rm(dir, { recursive: true, force: true });
}
