import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli.js';

/**
 * The multi-host test cluster of `test/cluster/slurm-cluster.sh` (one network, UTS and PID
 * namespace per host), as the tests drive it. `.ci/run` starts it; a test file calls `clusterUp()`
 * too, which is idempotent (about a second when it is down, instant when up).
 */
export const CLUSTER_SCRIPT = join(ROOT, 'test', 'cluster', 'slurm-cluster.sh');
export const CLUSTER_DIR = process.env['RETINA_CLUSTER_DIR'] ?? '/tmp/retina-cluster';
export const CLUSTER_HOSTS = ['h1', 'h2', 'h3'] as const;

/** Environment for Slurm clients and `retina slurm ...`: SLURM_CONF names this cluster. */
export const CLUSTER_ENV: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: join(CLUSTER_DIR, 'slurm.conf') };

/**
 * Whether the cluster can run here: root (namespaces, a bridge) with Slurm's daemons, iproute2
 * and util-linux. Always under CI, so a broken setup fails there instead of skipping.
 */
export const HAS_CLUSTER = process.env['CI'] === 'true' || (() => {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('sh', ['-c', 'command -v slurmctld && command -v slurmd && command -v sbatch && command -v ip && command -v unshare && command -v nsenter'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export const CLUSTER_SKIP = HAS_CLUSTER ? '' : ' [SKIPPED: needs root with slurmd, slurmctld, ip and unshare; see test/cluster/slurm-cluster.sh]';

/** Run the cluster script; rejects with its output on a non-zero exit. */
export function clusterCtl(args: string[], timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [CLUSTER_SCRIPT, ...args], { timeout: timeoutMs, env: process.env }, (err, stdout, stderr) => {
      if (err) reject(new Error(`slurm-cluster.sh ${args.join(' ')} failed (${err.message}):\n${stdout}\n${stderr}`));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

export const clusterUp = () => clusterCtl(['up'], 180_000);
/** Lose a host: its whole PID namespace (slurmd, job steps, job processes) is killed. */
export const killHost = (node: string) => clusterCtl(['kill-host', node]);
/** Boot a lost host again and wait (bounded) until Slurm has it idle. */
export async function restoreHost(node: string): Promise<void> {
  await clusterCtl(['start-host', node]);
  await clusterCtl(['wait-node', node, '^idle$', '90'], 120_000);
}

/** Hosts named by the batch scripts' first line (`... on HOST at ...`) in each of `logs`. */
export function hostsInLog(text: string): string[] {
  return [...text.matchAll(/ on (\S+) (?:at|with) /g)].map((m) => m[1] as string);
}

/**
 * Hold the cluster for one test file: files that lose hosts must not run beside each other
 * (vitest runs two files at once). A lock folder with the holder's pid; a dead holder's lock is
 * taken over. Bounded: gives up after `timeoutMs`.
 */
export async function lockCluster(timeoutMs = 900_000): Promise<() => void> {
  const lock = join(CLUSTER_DIR, 'test.lock');
  mkdirSync(CLUSTER_DIR, { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      return () => rmSync(lock, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSyncSafe(join(lock, 'pid')));
      if (Number.isInteger(holder) && holder > 0 && !alive(holder)) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`the test cluster is held by pid ${holder} (${lock}) for over ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

function readFileSyncSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
