/**
 * A large dataset for measuring contact-sheet memory (#19): N raw uint8 records of SIDE x SIDE x 3,
 * grades 0-4 in turn, patterned tensors. Then compare peak RSS, e.g.
 *   npx tsx bench/contact-sheet-dataset.ts /tmp/big 5000 128
 *   /usr/bin/time -f %M bin/run.js inspect /tmp/big --sheet /tmp/big.png --per-grade 1000
 */
import { createShardWriter, indexDataset } from '../formats/dataset.js';

const [out, nText = '5000', sideText = '128'] = process.argv.slice(2);
if (!out) throw new Error('usage: tsx bench/contact-sheet-dataset.ts OUT [N] [SIDE]');
const n = Number(nText), side = Number(sideText);
const spec = { dtype: 'uint8' as const, shape: [side, side, 3] };
const w = await createShardWriter(out, 'raw', { index: 0, count: 1, spec, params: { tool: 'bench/contact-sheet-dataset.ts', size: side, crop: 'auto', normalize: 'none', dtype: 'uint8' } });
const t = new Uint8Array(side * side * 3);
for (let i = 0; i < n; i++) {
  for (let k = 0; k < t.length; k++) t[k] = (k * 7 + i * 13 + (k >> 9)) & 255;
  await w.append({ id: `${i}_left`, label: i % 5, split: i % 10 === 0 ? 'val' : 'train' }, t);
}
await w.close();
await indexDataset(out);
