import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../../helpers/cli.js';
import { makeFixtures } from '../../helpers/train-data.js';

/** Issue #14 item 13: bench output a user can read, and nothing misleading left behind. */
describe('retina bench formats output', () => {
  let dir: string, cleanup: () => Promise<void>;
  let fx: { images: string; labels: string };
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('retina-bench-out-'));
    fx = await makeFixtures(join(dir, 'fx'), 8, 4, { width: 64, height: 48 });
  });
  afterAll(() => cleanup?.());

  it('the table fits 80 columns by default, --wide has every column; report.md names the user\'s files, not deleted copies', async () => {
    const args = ['bench', 'formats', '--images', fx.images, '--labels', fx.labels, '--formats', 'raw', '--epochs', '1', '--repeat', '2', '--size', '16', '--batch-size', '4', '--val-fraction', '0.25'];
    const r = await runCli([...args, '--out', join(dir, 'out')], { timeoutMs: 300_000 });
    expect(r.code, r.stderr).toBe(0);
    const table = r.stdout.split('\n').filter((l) => /^(source|images|raw|-)/.test(l));
    expect(table.length).toBe(4);
    expect(Math.max(...table.map((l) => l.length))).toBeLessThanOrEqual(80);
    expect(r.stdout).toContain('--wide');
    const md = await readFile(join(dir, 'out', 'report.md'), 'utf8');
    expect(md).toContain(`${fx.images} with labels ${fx.labels}`);
    expect(md).not.toMatch(/work-|study-labels\.csv/);
    const json = JSON.parse(await readFile(join(dir, 'out', 'report.json'), 'utf8')) as { config: { images: string; labels: string } };
    expect(json.config).toMatchObject({ images: fx.images, labels: fx.labels });

    const wide = await runCli([...args, '--out', join(dir, 'wide'), '--wide'], { timeoutMs: 300_000 });
    expect(wide.code, wide.stderr).toBe(0);
    expect(wide.stdout).toMatch(/source\s+on disk\s+per record\s+write img\/s\s+read img\/s\s+float img\/s\s+random img\/s\s+cached/);
  });

  it('a failed run leaves no empty report folder (and keeps a folder the user already had)', async () => {
    const empty = join(dir, 'no-images');
    await mkdir(empty);
    const out = join(dir, 'failed');
    const r = await runCli(['bench', 'formats', '--images', empty, '--labels', fx.labels, '--formats', 'raw', '--out', out]);
    expect(r.code).toBe(3);
    expect(existsSync(out)).toBe(false);
    const mine = join(dir, 'mine');
    await mkdir(mine);
    const again = await runCli(['bench', 'formats', '--images', empty, '--labels', fx.labels, '--formats', 'raw', '--out', mine]);
    expect(again.code).toBe(3);
    expect(existsSync(mine)).toBe(true);
  });
});
