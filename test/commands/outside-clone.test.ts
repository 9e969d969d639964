import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/cli.js';
import { makeFixtures } from '../helpers/train-data.js';

const run = promisify(execFile);

/**
 * Issue #14 item 11: the README's way to run retina outside the clone, done as written
 * (`npm install -g --prefix DIR .`: a link to the clone, offline), then used in a Kaggle-layout
 * folder with preprocess's defaults (./train, ./trainLabels.csv).
 */
describe('retina outside the clone', () => {
  let dir: string, cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir('retina-outside-')));
  afterAll(() => cleanup?.());

  it('the README says how, and `npm install -g --prefix` gives a retina command that works in a Kaggle folder', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('### Running `retina` outside the clone');
    expect(readme).toContain('npm install -g --prefix ~/.local .');
    expect(readme).toContain('npx --prefix /path/to/retina retina');

    const prefix = join(dir, 'prefix');
    await run('npm', ['install', '-g', '--prefix', prefix, '.', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: ROOT, timeout: 120_000 });
    const retina = join(prefix, 'bin', 'retina');
    expect(existsSync(retina)).toBe(true);
    const kaggle = join(dir, 'kaggle');
    await makeFixtures(kaggle, 4, 3, { width: 64, height: 48 });
    const r = await run(retina, ['preprocess', '--format', 'raw', '--size', '16', '--json'], { cwd: kaggle, timeout: 120_000 });
    expect(JSON.parse(r.stdout)).toMatchObject({ dataset: join(kaggle, 'retina-data', 'raw'), records: 4 });
    const viaNpx = await run('npx', ['--prefix', ROOT, '--offline', 'retina', '--version'], { cwd: kaggle, timeout: 120_000 });
    expect(viaNpx.stdout).toMatch(/^retina\/\d+\.\d+\.\d+/);
  });
});
