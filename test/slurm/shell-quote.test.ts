import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { directive, shellJoin, shellQuote, slurmPathLiteral } from '../../slurm/shell-quote.js';

/** What a real bash hands to a program for the rendered command line. */
function bashArgs(line: string): string[] {
  const out = execFileSync('bash', ['-c', `for a in ${line}; do printf '%s\\0' "$a"; done`], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

const NASTY = [
  'plain', 'with space', "it's", 'double "quoted"', '$HOME', '`id`', '$(id)', '*', 'a\nb', 'tab\there', '', '-dash', '\\back',
  "mixed ' and \" and $ and \\", 'ünïcödé ✓', '%A_%a', ';rm -rf /;', '!bang', '~', 'x=y', '#hash',
];

describe('shellQuote', () => {
  it('round-trips every nasty word through a real bash as one argument', () => {
    expect(bashArgs(shellJoin(NASTY))).toEqual(NASTY);
  });

  it('leaves plain words bare so scripts stay readable', () => {
    expect(shellQuote('/data/retina-data/lmdb')).toBe('/data/retina-data/lmdb');
    expect(shellQuote('--cpus-per-task=4')).toBe('--cpus-per-task=4');
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote('')).toBe("''");
  });
});

describe('directive', () => {
  it('writes plain, double-quoted or single-quoted values', () => {
    expect(directive('mem', '4G')).toBe('#SBATCH --mem=4G');
    expect(directive('job-name', "my job's")).toBe('#SBATCH --job-name="my job\'s"');
    expect(directive('job-name', 'say "hi"')).toBe("#SBATCH --job-name='say \"hi\"'");
  });

  it('refuses what sbatch cannot read: line breaks, both quote kinds', () => {
    expect(() => directive('job-name', 'a\nb')).toThrow(/line breaks/);
    expect(() => directive('job-name', `a'b"c`)).toThrow(/both single and double quotes/);
  });
});

describe('slurmPathLiteral', () => {
  it('doubles % so a literal % survives Slurm filename patterns', () => {
    expect(slurmPathLiteral('/data/100%/x')).toBe('/data/100%%/x');
  });
  it('refuses backslashes, which switch patterns off', () => {
    expect(() => slurmPathLiteral('/data/a\\b')).toThrow(/backslash/);
  });
});
