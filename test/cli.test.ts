import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

describe('retina CLI', () => {
  it('--help lists the commands', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['fixtures']) expect(r.stdout).toMatch(new RegExp(`^\\s+${cmd}\\s`, 'm'));
  });

  it('rejects an unknown flag with a non-zero exit and names it', async () => {
    const r = await runCli(['fixtures', '--out', '/tmp/x', '--bogus']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--bogus');
  });

  it('maps a RetinaError to its exit code and a JSON error under --json', async () => {
    const r = await runCli(['fixtures', '--out', '/tmp/retina-never', '--size', 'huge', '--json']);
    expect(r.code).toBe(2);
    const body = JSON.parse(r.stdout) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('BAD_ARGUMENT');
    expect(body.error.message).toContain('--size');
  });
});
