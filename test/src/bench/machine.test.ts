import { describe, expect, it } from 'vitest';
import { cpuModelFrom, describeMachine, machineInfo } from '../../../src/bench/machine.js';

describe('machine info', () => {
  it('reads the CPU model from /proc/cpuinfo text', () => {
    expect(cpuModelFrom('processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC   7B13\nflags\t: x\n')).toBe('AMD EPYC 7B13');
    expect(cpuModelFrom('processor : 0\nHardware : BCM2835\n')).toBe('BCM2835');
    expect(cpuModelFrom('')).toBe('unknown');
  });

  it('describes this machine with what the figures need', () => {
    const m = machineInfo('wasm');
    expect(m.cpus).toBeGreaterThanOrEqual(1);
    expect(m.memoryBytes).toBeGreaterThan(0);
    expect(m.node).toBe(process.version);
    expect(m.backend).toBe('wasm');
    const line = describeMachine(m);
    expect(line).toContain(`${m.cpus} CPU`);
    expect(line).toContain(process.version);
    expect(line).toContain('tfjs backend wasm');
  });
});
