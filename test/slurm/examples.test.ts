import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../slurm/retina-invocation.js';
import { runSlurmTool } from '../../slurm/slurm-cli.js';
import { HAS_SBATCH, SKIP_REASON } from './helpers/slurm.js';

const DIR = join(packageRoot(), 'slurm', 'examples');
const EXAMPLES = readdirSync(DIR).filter((f) => f.endsWith('.sbatch')).sort();

describe(`slurm/examples${SKIP_REASON}`, () => {
  it('has the preprocess, index and train examples', () => {
    expect(EXAMPLES).toEqual(['index.sbatch', 'preprocess.sbatch', 'train.sbatch']);
  });

  it.each(EXAMPLES)('%s is valid bash with every #SBATCH line before the first command', (name) => {
    const text = readFileSync(join(DIR, name), 'utf8');
    expect(() => execFileSync('bash', ['-n', '-c', text])).not.toThrow();
    const lines = text.split('\n');
    const firstCommand = lines.findIndex((l) => l.trim() !== '' && !l.startsWith('#'));
    expect(lines.findLastIndex((l) => l.startsWith('#SBATCH'))).toBeLessThan(firstCommand);
  });

  it.skipIf(!HAS_SBATCH).each(EXAMPLES)('sbatch --test-only accepts the directives of %s', async (name) => {
    // This 2-CPU test cluster has neither the example's partition nor GPUs: drop those two lines,
    // and ask for what it has on the command line (which overrides #SBATCH lines).
    const text = readFileSync(join(DIR, name), 'utf8').split('\n').filter((l) => !/^#SBATCH --(partition|gres)=/.test(l)).join('\n');
    const r = await runSlurmTool('sbatch', ['--test-only', '--cpus-per-task=1', '--mem=100M'], { input: text });
    expect(r.code, r.stderr).toBe(0);
  });
});
