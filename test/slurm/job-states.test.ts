import { describe, expect, it } from 'vitest';
import { expandArrayId, exitCodeOf, parseSacct, parseSqueue, stateKind } from '../../slurm/job-states.js';
import { parseParsable } from '../../slurm/slurm-cli.js';

describe('stateKind', () => {
  it('sorts states into active, ok, failed', () => {
    for (const s of ['PENDING', 'RUNNING', 'COMPLETING', 'REQUEUED', 'SUSPENDED', 'CONFIGURING']) expect(stateKind(s)).toBe('active');
    expect(stateKind('COMPLETED')).toBe('ok');
    for (const s of ['FAILED', 'CANCELLED', 'CANCELLED by 0', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE']) {
      expect(stateKind(s)).toBe('failed');
    }
    expect(stateKind('SOMETHING_NEW')).toBe('active');
  });
});

describe('parsers', () => {
  it('reads squeue -r -t all rows (as printed by slurm 22.05 here)', () => {
    const rows = parseSqueue('4_1|FAILED|NonZeroExitCode\n4_2|RUNNING|None\n4_0|PENDING|JobArrayTaskLimit\n13|PENDING|Dependency\n');
    expect(rows).toEqual([
      { id: '4_1', state: 'FAILED', reason: 'NonZeroExitCode' },
      { id: '4_2', state: 'RUNNING', reason: 'None' },
      { id: '4_0', state: 'PENDING', reason: 'JobArrayTaskLimit' },
      { id: '13', state: 'PENDING', reason: 'Dependency' },
    ]);
  });

  it('expands collapsed pending array rows', () => {
    expect(expandArrayId('12_[4-6,9%2]')).toEqual(['12_4', '12_5', '12_6', '12_9']);
    expect(expandArrayId('12_[0-6:3]')).toEqual(['12_0', '12_3', '12_6']);
    expect(expandArrayId('12_3')).toEqual(['12_3']);
    expect(parseSqueue('7_[1-2]|PENDING|Priority\n').map((r) => r.id)).toEqual(['7_1', '7_2']);
  });

  it('reads sacct -P rows with exit codes', () => {
    expect(parseSacct('12_3|CANCELLED by 0|0:15\n13|COMPLETED|0:0\n')).toEqual([
      { id: '12_3', state: 'CANCELLED', reason: 'exit 0:15' },
      { id: '13', state: 'COMPLETED', reason: 'exit 0:0' },
    ]);
  });

  it('reads the exit code from scontrol -o and the id from sbatch --parsable', () => {
    expect(exitCodeOf('JobId=6 ArrayJobId=4 JobState=FAILED Reason=NonZeroExitCode Requeue=1 ExitCode=3:0 RunTime=00:00:00')).toBe('3:0');
    expect(exitCodeOf('JobId=6')).toBeUndefined();
    expect(parseParsable('123\n')).toBe('123');
    expect(parseParsable('123;cluster2\n')).toBe('123');
    expect(parseParsable('sbatch: warning: x\n45\n')).toBe('45');
    expect(parseParsable('')).toBeUndefined();
  });
});
