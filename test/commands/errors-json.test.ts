import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

/** stdout of a --json run: exactly one JSON object with an `error` of the documented shape. */
function jsonError(stdout: string): { code: string; message: string; hint?: string } {
  const body = JSON.parse(stdout) as Record<string, unknown>;
  expect(Object.keys(body)).toEqual(['error']);
  const error = body.error as { code: string; message: string; hint?: string };
  expect(Object.keys(error).every((k) => ['code', 'message', 'hint', 'file', 'line', 'shard', 'record', 'id'].includes(k))).toBe(true);
  return error;
}

describe('every error under --json is {"error": {code, message}} with exit 2 for bad arguments', () => {
  it('a typo\'d flag: exit 2, no oclif config dump, the closest flag suggested', async () => {
    const r = await runCli(['preprocess', '--formt', 'raw', '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).not.toMatch(/"config"|"context"|"argv"/);
    const e = jsonError(r.stdout);
    expect(e.code).toBe('BAD_ARGUMENT');
    expect(e.message).toContain('--formt');
    expect(e.hint).toContain('did you mean --format?'.replace('did', 'Did'));
  });

  it('a missing required flag names it', async () => {
    const r = await runCli(['train', '--json']);
    expect(r.code).toBe(2);
    const e = jsonError(r.stdout);
    expect(e.code).toBe('BAD_ARGUMENT');
    expect(e.message).toMatch(/Missing required flag --source/);
  });

  it('a bad integer names the flag and the value', async () => {
    const r = await runCli(['preprocess', '--format', 'raw', '--size', 'abc', '--json']);
    expect(r.code).toBe(2);
    const e = jsonError(r.stdout);
    expect(e.message).toMatch(/--size.*abc/);
  });

  it('a value outside a flag\'s own check (--val-fraction) is the same error', async () => {
    const r = await runCli(['train', '--source', 'raw', '--val-fraction', '1.5', '--json']);
    expect(r.code).toBe(2);
    expect(jsonError(r.stdout).message).toBe('Expected a number in [0, 1) for --val-fraction but received "1.5"');
  });

  it('an unknown command suggests the closest one', async () => {
    const r = await runCli(['preprocss', '--json']);
    expect(r.code).toBe(2);
    const e = jsonError(r.stdout);
    expect(e.code).toBe('BAD_ARGUMENT');
    expect(e.message).toContain('did you mean "preprocess"?');
  });

  it('without --json: one error line and a hint on stderr, nothing on stdout', async () => {
    const r = await runCli(['preprocess', '--formt', 'raw']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Error \[BAD_ARGUMENT\]: Unknown flag --formt/m);
    expect(r.stderr).toMatch(/^Hint: Did you mean --format\?/m);
  });

  it('--help of every command ends with the exit-code table', async () => {
    for (const argv of [['--help'], ['preprocess', '--help'], ['slurm', 'train', '--help']]) {
      const r = await runCli(argv);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/EXIT CODES\n\s+0\s+OK\n\s+2\s+BAD_ARGUMENT[\s\S]*\s5\s+CORRUPT[\s\S]*\s6\s+INCOMPLETE[\s\S]*130\s+ABORTED/);
    }
  });
});
