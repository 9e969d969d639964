/**
 * Child process for the pooled forward pass's abort test: trains small-cnn on DATASET (raw) with
 * the backbone in 2 worker threads and aborts during epoch 1, right after its first batch, then
 * prints one JSON line {code, epochLines, threadsBefore, threadsAfter} and ends WITHOUT
 * process.exit: the parent checks that it exits on its own (no worker thread keeps it alive).
 * Usage: node --import tsx pooled-forward-abort-child.ts DATASET OUT
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../../../src/core/log.js';
import { train } from '../../../src/train/train.js';

const [data, out] = process.argv.slice(2) as [string, string];
/** OS threads of this process (each worker thread is one). */
const threads = () => readdirSync('/proc/self/task').length;
const base = { source: 'raw', data, model: 'small-cnn' as const, batchSize: 8, lr: 1e-2, seed: 2, backend: 'wasm', cacheFeatures: false, poolForward: true };

// A first in-process run starts what stays for the process's life (tfjs, libuv's thread pool).
await train({ ...base, epochs: 1, threads: 1, out: join(out, 'warm') });
const threadsBefore = threads();
const controller = new AbortController();
const logger = createLogger('debug', (line) => { if (/^debug: forward: train batch 1\//.test(line)) controller.abort('SIGINT'); });
let code = 'none';
try {
  await train({ ...base, epochs: 2, threads: 2, out: join(out, 'aborted'), logger, signal: controller.signal });
} catch (err) {
  code = String((err as { code?: unknown }).code);
}
// Terminated threads leave /proc shortly after their pool's destroy() resolves.
let threadsAfter = threads();
for (let i = 0; i < 50 && threadsAfter > threadsBefore; i++) {
  await new Promise((r) => setTimeout(r, 100));
  threadsAfter = threads();
}
const epochLines = readFileSync(join(out, 'aborted', 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).length;
process.stdout.write(JSON.stringify({ code, epochLines, threadsBefore, threadsAfter, aborted: controller.signal.aborted }) + '\n');
