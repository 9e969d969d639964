import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from './cli.js';

const run = promisify(execFile);

/** What a test file sees from `requirement()` with and without CI, in a fresh process. */
async function check(env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = `import { requirement } from ${JSON.stringify(join(ROOT, 'test/helpers/requirements.ts'))};
const r = requirement('the moon', false, 'it is far away (apt-get install moon)');
console.log(JSON.stringify(r));`;
  const { CI: _ci, ...base } = process.env;
  try {
    const r = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env: { ...base, ...env } });
    return { code: 0, ...r };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('tests that need something outside the repo', () => {
  it('skip with the reason printed on a bare machine', async () => {
    const r = await check({});
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('SKIPPING the tests that need the moon: it is far away (apt-get install moon)');
    expect(JSON.parse(r.stdout)).toMatchObject({ available: false, titleSuffix: ' (SKIPPED: it is far away (apt-get install moon))' });
  });

  it('must run where CI is set: a missing requirement fails the file', async () => {
    for (const ci of ['true', '1']) {
      const r = await check({ CI: ci });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('CI is set, so the tests that need the moon must run, but: it is far away');
    }
    expect((await check({ CI: 'false' })).code).toBe(0);
  });
});
