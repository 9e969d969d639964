/**
 * Cost of `train --weights FILE.h5`: building the frozen (BN-folded) InceptionV3 from Keras' HDF5
 * weights (h5wasm read + per-layer shape checks + fold) beside the seeded random init, alternating
 * in one run. Make a Keras-layout file first (known values, full size, 88 MB):
 *
 *   /usr/bin/python3 test/helpers/write_keras_h5.py /tmp/k.h5
 *   npx tsx bench/h5-weights-load.ts /tmp/k.h5 [--repeat 3]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { selectBackend } from '../src/backends/backend-registry.js';
import { buildBackbone } from '../src/train/models/model-registry.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { repeat: { type: 'string', default: '3' } } });
const file = positionals[0];
if (!file) throw new Error('usage: npx tsx bench/h5-weights-load.ts FILE.h5 [--repeat N]');
await selectBackend('wasm');
for (let r = 0; r < Number(values.repeat); r++) {
  for (const weights of [undefined, file]) {
    const t = performance.now();
    const b = await buildBackbone({ model: 'inception-v3', seed: 1, trainable: false, ...(weights ? { weights } : {}) });
    console.log(`${weights === undefined ? 'random' : 'keras-h5'}\t${((performance.now() - t) / 1000).toFixed(2)} s`);
    b.model.dispose();
  }
}
console.log(`load average ${loadavg().map((v) => v.toFixed(1)).join(' ')}`);
