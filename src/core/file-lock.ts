import { open, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { RetinaError } from './errors.js';
import { pidAlive } from './stale-temps.js';

/**
 * An exclusive lock file for one writer of a shard (or of a dataset's manifest): created with
 * O_EXCL, holding who took it. Two `preprocess` runs on the same shard used to race: the second
 * removed the first's temporary folder and the first died with a raw ENOENT. Now the second is
 * told who holds the lock. A lock whose holder is gone does not block forever: on the same host a
 * dead pid frees it at once; from another host (a crashed node) it expires STALE_MS after its
 * holder's last heartbeat (the holder touches it every HEARTBEAT_MS).
 */

export const HEARTBEAT_MS = 10_000;
export const STALE_MS = 60_000;

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  what: string;
}

export interface FileLock {
  readonly path: string;
  release(): Promise<void>;
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (typeof v.pid === 'number' && typeof v.host === 'string')
      return { pid: v.pid, host: v.host, startedAt: String(v.startedAt ?? '?'), what: String(v.what ?? '?') };
  } catch {
    // a lock cut short by a kill between create and write: judged by its age alone
  }
  return undefined;
}

/** Why the lock at `path` (held by `holder`, last touched at `mtimeMs`) may be taken over, or undefined. */
function staleReason(holder: LockHolder | undefined, mtimeMs: number, now: number): string | undefined {
  if (holder && holder.host === hostname() && !pidAlive(holder.pid)) return `pid ${holder.pid} is no longer running`;
  if (now - mtimeMs > STALE_MS) return `no heartbeat for ${Math.round((now - mtimeMs) / 1000)} s`;
  return undefined;
}

/**
 * Take the lock at `path` for `what` (e.g. "shard 3/8 of DATA"). Throws EXISTS naming the holder
 * (pid, host, since when) when another live writer has it. `onStale` hears about locks taken over.
 */
export async function acquireLock(path: string, what: string, onStale?: (message: string) => void, opts: { foreignWaitMs?: number } = {}): Promise<FileLock> {
  const me: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), what };
  // A holder on another host cannot be asked whether it lives: wait (up to a stale period) for its
  // heartbeat to stop, so a Slurm task requeued onto another node after its first instance was
  // killed goes on, while a live writer elsewhere is still refused.
  const foreignUntil = Date.now() + (opts.foreignWaitMs ?? STALE_MS + 2 * HEARTBEAT_MS);
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(path, 'wx');
      try {
        await fh.writeFile(JSON.stringify(me));
      } finally {
        await fh.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let text = '';
    let mtimeMs = Date.now();
    try {
      text = await readFile(path, 'utf8');
      mtimeMs = (await stat(path)).mtimeMs;
    } catch {
      continue; // released meanwhile: try again
    }
    const holder = parseHolder(text);
    const stale = staleReason(holder, mtimeMs, Date.now());
    if (stale === undefined && holder?.host !== hostname() && Date.now() < foreignUntil) {
      if (attempt === 0)
        onStale?.(
          `waiting for the lock ${path} of pid ${holder?.pid ?? '?'} on ${holder?.host ?? 'an unknown host'} (taken over after ${STALE_MS / 1000} s without its heartbeat)`,
        );
      await new Promise((r) => setTimeout(r, 1_000));
      attempt = -1; // waiting is not a takeover attempt
      continue;
    }
    if (stale === undefined || attempt >= 3) {
      const who = holder ? `pid ${holder.pid} on host ${holder.host}, since ${holder.startedAt}` : 'a process that left no name';
      throw new RetinaError('EXISTS', `Another writer holds ${what}: ${who} (lock file ${path})`, {
        location: { file: path },
        hint: `Wait for it to finish. If it is gone (its node crashed), the lock expires ${STALE_MS / 1000} s after its last heartbeat; or remove ${path} once you are sure.`,
      });
    }
    // Move the stale lock aside under a unique name first: of two runs that both found it stale,
    // only one can rename it, so a fresh lock taken meanwhile is never removed.
    const aside = `${path}.stale-${process.pid}-${attempt}`;
    try {
      await rename(path, aside);
      const moved = await readFile(aside, 'utf8').catch(() => '');
      if (moved !== text) {
        // We moved someone's fresh lock: put it back unless a newer one took its place.
        await rename(aside, path).catch(() => undefined);
        continue;
      }
      await rm(aside, { force: true });
      onStale?.(`took over the lock ${path} of ${holder ? `pid ${holder.pid} on ${holder.host}` : 'an unnamed writer'} (${stale})`);
    } catch {
      // someone else got there first
    }
  }
  const beat = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => undefined);
  }, HEARTBEAT_MS);
  beat.unref();
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      clearInterval(beat);
      // Only our own lock: a stale-takeover by another run (after a long pause) is not ours to remove.
      const text = await readFile(path, 'utf8').catch(() => '');
      const holder = parseHolder(text);
      if (holder && holder.pid === me.pid && holder.host === me.host && holder.startedAt === me.startedAt) await rm(path, { force: true });
    },
  };
}
