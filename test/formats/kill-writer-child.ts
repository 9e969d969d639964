/**
 * Child process for the conformance suite's "writer killed before close" case: writes `n` records
 * of shard 0 of 1 in FORMAT to DATASET, says "ready" and waits to be SIGKILLed before close().
 * Usage: node --import tsx kill-writer-child.ts DATASET FORMAT N
 */
import { createShardWriter } from '../../formats/dataset.js';
import { recordMeta, tensorBytes } from '../helpers/tensors.js';

const [dataset, format, n] = process.argv.slice(2);
const spec = { dtype: 'uint8' as const, shape: [8, 8, 3] };
const w = await createShardWriter(dataset!, format!, { index: 0, count: 1, spec });
for (let i = 0; i < Number(n); i++) await w.append(recordMeta(i), tensorBytes(spec, 7_000 + i));
process.stdout.write('ready\n');
setInterval(() => undefined, 1_000);
