import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, ROOT, runCli, tempDir } from '../helpers/cli.js';

/**
 * A format contributed by a plugin the oclif way: the fixture package (test/fixtures/plugins/
 * retina-plugin-files, plain ESM, a `retina:register` hook) is linked with `retina plugins link`
 * into a private oclif data folder, then used by preprocess, verify and train, and uninstalled.
 */
describe('plugins: a format from an oclif plugin', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let env: NodeJS.ProcessEnv;
  const plugin = join(ROOT, 'test', 'fixtures', 'plugins', 'retina-plugin-files');
  beforeAll(async () => {
    tmp = await tempDir('retina-plugins-');
    env = { XDG_DATA_HOME: join(tmp.dir, 'data'), XDG_CACHE_HOME: join(tmp.dir, 'cache'), XDG_CONFIG_HOME: join(tmp.dir, 'config') };
  });
  afterAll(async () => { await tmp?.cleanup(); });

  it('link: the format appears in --help, preprocess writes it, verify and train read it; uninstall removes it', async () => {
    const cli = (args: string[]) => runCli(args, { env, cwd: tmp.dir });
    expect((await cli(['preprocess', '--help'])).stdout).not.toMatch(/FORMATS\n.*\bfiles\b/);
    const linked = await cli(['plugins', 'link', '--no-install', plugin]);
    expect(linked.code, linked.stderr).toBe(0);
    expect((await cli(['plugins'])).stdout).toContain('retina-plugin-files');
    expect((await cli(['preprocess', '--help'])).stdout).toMatch(/FORMATS\n.*\bfiles\b/);

    const fx = join(tmp.dir, 'fx');
    expect((await cli(['fixtures', '--out', fx, '--count', '16', '--size', '96x64'])).code).toBe(0);
    const ds = join(tmp.dir, 'ds');
    const pre = await cli(['preprocess', '--format', 'files', '--images', join(fx, 'train'), '--labels', join(fx, 'trainLabels.csv'), '--out', ds, '--size', '32', '--val-fraction', '0.25', '--json']);
    expect(pre.code, pre.stderr).toBe(0);
    expect(parseJson(pre)).toMatchObject({ format: 'files', records: 16 });

    const ver = await cli(['verify', ds, '--json']);
    expect(ver.code, ver.stderr).toBe(0);
    expect(parseJson(ver)).toMatchObject({ ok: true, format: 'files', records: 16 });

    const tr = await cli(['train', '--source', 'files', '--data', ds, '--model', 'small-cnn', '--epochs', '1', '--batch-size', '4', '--threads', '1',
      '--backend', 'cpu', '--out', join(tmp.dir, 'run'), '--cache-dir', join(tmp.dir, 'fc'), '--json']);
    expect(tr.code, tr.stderr).toBe(0);
    expect(parseJson(tr)).toMatchObject({ source: 'files', trainImages: expect.any(Number) });

    const un = await cli(['plugins', 'uninstall', 'retina-plugin-files']);
    expect(un.code, un.stderr).toBe(0);
    expect((await cli(['preprocess', '--help'])).stdout).not.toMatch(/FORMATS\n.*\bfiles\b/);
    const gone = await cli(['verify', ds, '--json']);
    expect(gone.code).toBe(2);
    expect(gone.stdout).toContain('Unknown format \\"files\\"');
  }, 300_000);
});
