import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readdir, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { acquireLock, STALE_MS } from '../../../src/core/file-lock.js';
import { tempDir } from '../../helpers/cli.js';
import { rejection } from '../../helpers/errors.js';

describe('file locks (#16 item 9)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir('integrity-lock-')));
  afterEach(() => cleanup());

  it('a second writer is refused with the holder named (pid, host); after release it gets the lock', async () => {
    const path = join(dir, 'shard.lock');
    const first = await acquireLock(path, 'shard 0/1 of X');
    const err = await rejection(acquireLock(path, 'shard 0/1 of X'));
    expect(err.code).toBe('EXISTS');
    expect(err.message).toContain(`Another writer holds shard 0/1 of X: pid ${process.pid} on host ${hostname()}`);
    await first.release();
    expect(await readdir(dir)).toEqual([]);
    const second = await acquireLock(path, 'shard 0/1 of X');
    await second.release();
  });

  it('a lock of a dead pid on this host, or without heartbeat from another host, is taken over; a fresh foreign one is not', async () => {
    const path = join(dir, 'l.lock');
    const notes: string[] = [];
    await writeFile(path, JSON.stringify({ pid: 4194303, host: hostname(), startedAt: 'then', what: 'x' }));
    const a = await acquireLock(path, 'x', (m) => notes.push(m));
    expect(notes[0]).toMatch(/pid 4194303 is no longer running/);
    await a.release();
    await writeFile(path, JSON.stringify({ pid: 1, host: 'other-node', startedAt: 'then', what: 'x' }));
    expect((await rejection(acquireLock(path, 'x', undefined, { foreignWaitMs: 0 }))).message).toMatch(/pid 1 on host other-node/);
    // a foreign holder whose heartbeat stops while we wait is taken over (a requeued Slurm task)
    const nearlyStale = new Date(Date.now() - STALE_MS + 1_500);
    await utimes(path, nearlyStale, nearlyStale);
    const t0 = Date.now();
    const w = await acquireLock(path, 'x', (m) => notes.push(m), { foreignWaitMs: 10_000 });
    expect(Date.now() - t0).toBeGreaterThan(1_000);
    expect(notes.join('\n')).toMatch(/waiting for the lock .* of pid 1 on other-node/);
    await w.release();
    await writeFile(path, JSON.stringify({ pid: 1, host: 'other-node', startedAt: 'then', what: 'x' }));
    const old = new Date(Date.now() - STALE_MS - 5_000);
    await utimes(path, old, old);
    const b = await acquireLock(path, 'x', (m) => notes.push(m));
    expect(notes.at(-1)).toMatch(/no heartbeat for \d+ s/);
    await b.release();
    // a lock cut short by a kill (empty file) is judged by its age
    await writeFile(path, '');
    expect((await rejection(acquireLock(path, 'x', undefined, { foreignWaitMs: 0 }))).message).toMatch(/a process that left no name/);
  });
});
