import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { runCli, type CliResult } from '../../helpers/cli.js';

function ok(r: CliResult): CliResult {
  expect(r.code, `exit ${r.code}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r;
}

const built = new Map<string, Promise<{ common: string[]; reference: string }>>();

/**
 * 400 generated images (320x240) under `dir`, and their single-process dataset at 299 px with
 * Ben Graham: enough work per task (200 images, 1 thread, about 2 s here) to catch a task while
 * it works. `common` holds the preprocess flags both runs share. Built once per folder.
 */
export function bigFixture(dir: string): Promise<{ common: string[]; reference: string }> {
  let p = built.get(dir);
  if (!p) {
    p = (async () => {
      const fx = join(dir, 'fx-big');
      ok(await runCli(['fixtures', '--out', fx, '--count', '400', '--seed', '12', '--size', '320x240']));
      const common = ['--format', 'raw', '--normalize', 'ben-graham', '--images', join(fx, 'train'), '--labels', join(fx, 'trainLabels.csv')];
      const reference = join(dir, 'single-big');
      ok(await runCli(['preprocess', ...common, '--out', reference, '--threads', '2']));
      ok(await runCli(['index', reference]));
      return { common, reference };
    })();
    built.set(dir, p);
  }
  return p;
}

/** Wait until array task `victim` has started on its images (its log says so), not just launched. */
export async function untilWorking(victim: string, log: string, shard: string): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
    if (new RegExp(`shard ${shard}: \\d+ images on`).test(text)) return;
    expect(text, `task ${victim} ended before it could be interrupted`).not.toContain('retina: exit status');
    expect(Date.now(), `task ${victim} did not start within 300 s`).toBeLessThan(deadline);
    await sleep(100);
  }
}
