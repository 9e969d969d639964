import { describe, expect, it } from 'vitest';
import { isUnavailable, namedUnavailableNodes, nodeInList, parseSinfoNodes, waitsOnNodes } from '../../slurm/cluster-nodes.js';

describe('cluster nodes: what Slurm says about unavailable hosts', () => {
  it('parses sinfo -N rows, a not-responding node included', () => {
    expect(parseSinfoNodes('h1|idle|none|hosts*\nh3|down*|Not responding|hosts*\n')).toEqual([
      { node: 'h1', state: 'idle', reason: 'none', partition: 'hosts*' },
      { node: 'h3', state: 'down*', reason: 'Not responding', partition: 'hosts*' },
    ]);
  });

  it('a node is unavailable when down, drained, failed or not responding (*), available when idle, mixed or allocated', () => {
    for (const s of ['down*', 'down', 'drained', 'draining', 'fail', 'idle*', 'mixed*']) expect(isUnavailable(s), s).toBe(true);
    for (const s of ['idle', 'mixed', 'allocated', 'completing']) expect(isUnavailable(s), s).toBe(false);
  });

  it('recognises the pending reasons that wait on nodes, and only those', () => {
    expect(waitsOnNodes('ReqNodeNotAvail, UnavailableNodes:h3')).toBe(true);
    expect(waitsOnNodes('Nodes required for job are DOWN, DRAINED or reserved for jobs in higher priority partitions')).toBe(true);
    for (const r of ['Priority', 'Resources', 'BeginTime', 'None', 'Dependency', 'PartitionNodeLimit']) expect(waitsOnNodes(r), r).toBe(false);
    expect(namedUnavailableNodes('ReqNodeNotAvail, UnavailableNodes:h3,gpu[01-02]')).toBe('h3,gpu[01-02]');
    expect(namedUnavailableNodes('Nodes required for job are DOWN')).toBeUndefined();
  });

  it('reads Slurm host lists with ranges and zero padding', () => {
    expect(nodeInList('h3', 'h3')).toBe(true);
    expect(nodeInList('h3', 'h1,h3')).toBe(true);
    expect(nodeInList('gpu02', 'h3,gpu[01-03]')).toBe(true);
    expect(nodeInList('gpu2', 'gpu[01-03]')).toBe(false);
    expect(nodeInList('n7', 'n[1-3,7]')).toBe(true);
    expect(nodeInList('h4', 'h[1-3]')).toBe(false);
  });
});
