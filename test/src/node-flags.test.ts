import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MALLOC_ASSIGNMENTS, NODE_FLAGS } from '../../src/node-flags.js';
import { ROOT } from '../helpers/cli.js';

describe('node flags', () => {
  it('bin/run.js starts Node with them through its shebang, and runs when executed directly', () => {
    const first = readFileSync(join(ROOT, 'bin', 'run.js'), 'utf8').split('\n')[0];
    expect(first).toBe(`#!/usr/bin/env -S ${MALLOC_ASSIGNMENTS.join(' ')} node ${NODE_FLAGS.join(' ')}`);
    // Linux before 5.1 reads only 127 bytes of a shebang.
    expect(first!.length).toBeLessThan(128);
    // Executed as a program (as npm's bin link is): the kernel hands the shebang to env -S.
    const out = execFileSync(join(ROOT, 'bin', 'run.js'), ['--version'], { cwd: ROOT, encoding: 'utf8' });
    expect(out).toMatch(/^retina\/\d+\.\d+\.\d+/);
  });

  it('the GPU bundle\'s entry script and the Slurm examples pass the same flags', () => {
    const flags = NODE_FLAGS.join(' ');
    const malloc = `export ${MALLOC_ASSIGNMENTS.join(' ')}`;
    expect(readFileSync(join(ROOT, 'bench', 'gpu', 'pack-bundle.sh'), 'utf8')).toContain(`${malloc}; exec "$B/bin/node" ${flags} "$B/app/bin/run.js"`);
    for (const f of ['preprocess', 'index', 'train']) {
      const text = readFileSync(join(ROOT, 'slurm', 'examples', `${f}.sbatch`), 'utf8');
      expect(text).toContain(`NODE_FLAGS=(${flags})`);
      expect(text).toContain(malloc);
    }
  });

  it('the allocator settings reach the process started through the shebang', () => {
    const out = execFileSync(join(ROOT, 'bin', 'run.js'), ['--version'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: `--import=data:text/javascript,process.on('exit',()=>console.log(process.env.MALLOC_MMAP_THRESHOLD_))` } });
    expect(out.trim().split('\n').at(-1)).toBe('8388608');
  });

  it('are flags Node accepts (a typo would stop every Slurm task at start)', () => {
    expect(execFileSync(process.execPath, [...NODE_FLAGS, '-p', '1+1'], { encoding: 'utf8' }).trim()).toBe('2');
  });
});
