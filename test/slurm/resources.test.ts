import { describe, expect, it } from 'vitest';
import { parseSlurmTime, signalLeadSeconds, validateResources } from '../../slurm/resources.js';

describe('parseSlurmTime', () => {
  it('reads every sbatch time form', () => {
    expect(parseSlurmTime('30')).toBe(1800);
    expect(parseSlurmTime('5:30')).toBe(330);
    expect(parseSlurmTime('01:00:00')).toBe(3600);
    expect(parseSlurmTime('2-0')).toBe(172800);
    expect(parseSlurmTime('1-02:03')).toBe(86400 + 7200 + 180);
    expect(parseSlurmTime('1-02:03:04')).toBe(86400 + 7200 + 180 + 4);
  });
  it('refuses nonsense and zero', () => {
    for (const bad of ['', '1h', '01:00:00:00', '-5', '0', '00:00:00', 'x-1']) expect(() => parseSlurmTime(bad)).toThrow(/--time/);
  });
});

describe('signalLeadSeconds', () => {
  it('is two minutes for normal limits, a quarter of short ones, never zero', () => {
    expect(signalLeadSeconds(3600)).toBe(120);
    expect(signalLeadSeconds(480)).toBe(120);
    expect(signalLeadSeconds(300)).toBe(75);
    expect(signalLeadSeconds(2)).toBe(1);
  });
});

describe('validateResources', () => {
  const ok = { jobName: 'j', cpusPerTask: 2, mem: '4g', time: '10' };
  it('normalizes memory units', () => {
    expect(validateResources(ok).mem).toBe('4G');
  });
  it('names the bad flag', () => {
    expect(() => validateResources({ ...ok, cpusPerTask: 0 })).toThrow(/--cpus-per-task/);
    expect(() => validateResources({ ...ok, mem: '4 GB' })).toThrow(/--mem/);
    expect(() => validateResources({ ...ok, partition: 'a b' })).toThrow(/--partition/);
    expect(() => validateResources({ ...ok, account: 'x;y' })).toThrow(/--account/);
    expect(() => validateResources({ ...ok, gpus: -1 })).toThrow(/--gpus/);
    expect(() => validateResources({ ...ok, jobName: ' ' })).toThrow(/--job-name/);
    expect(() => validateResources({ ...ok, extra: ['qos=high'] })).toThrow(/--sbatch-option/);
  });
});
