/**
 * Peak RSS of `retina preprocess` on huge progressive JPEGs with and without a pixel budget
 * (#16 item 7): N copies of a W x W progressive 4:4:4 JPEG, decoded with --threads 2, once with
 * the default budget and once with a budget so large that only the slot count limits decodes.
 * Usage: npx tsx bench/decode-budget.ts [--side 8000] [--images 4]
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const side = arg('side', 8000);
const n = arg('images', 4);
const root = await mkdtemp(join(tmpdir(), 'retina-decode-budget-'));
try {
  await mkdir(join(root, 'train'));
  // A smooth disc on black: compresses to a small file, as the 1.5 MB 16000² one did.
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${side}" height="${side}"><rect width="100%" height="100%" fill="black"/><circle cx="${side / 2}" cy="${side / 2}" r="${side * 0.45}" fill="#c05020"/></svg>`;
  sharp.cache(false);
  const jpeg = await sharp(Buffer.from(svg), { limitInputPixels: false }).jpeg({ progressive: true, chromaSubsampling: '4:4:4', quality: 90 }).toBuffer();
  const rows = ['image,level'];
  for (let i = 0; i < n; i++) {
    await writeFile(join(root, 'train', `${10 + i}_left.jpeg`), jpeg);
    rows.push(`${10 + i}_left,${i % 5}`);
  }
  await writeFile(join(root, 'labels.csv'), `${rows.join('\n')}\n`);
  process.stdout.write(`${n} x ${side}x${side} progressive 4:4:4 JPEG, ${(jpeg.length / 1e6).toFixed(2)} MB each; retina preprocess --threads 2\n`);
  const bin = join(import.meta.dirname, '..', 'bin', 'run.js');
  for (const [label, extra] of [['default budget', []], ['budget 100000 MP (slots only)', ['--decode-budget', '100000']]] as const) {
    const out = join(root, `out-${extra.length}`);
    const t0 = Date.now();
    const stderr = spawnSync('/usr/bin/time', ['-f', 'maxrss_kb=%M', process.execPath, bin, 'preprocess', '--format', 'raw', '--images', join(root, 'train'), '--labels', join(root, 'labels.csv'), '--out', out, '--size', '64', '--val-fraction', '0', '--threads', '2', '--log-level', 'error', ...extra], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, UV_THREADPOOL_SIZE: '4' } }).stderr;
    const kb = Number(/maxrss_kb=(\d+)/.exec(stderr)?.[1]);
    process.stdout.write(`| ${label} | ${(kb / 1024).toFixed(0)} MiB peak RSS | ${((Date.now() - t0) / 1000).toFixed(1)} s |\n`);
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
