/**
 * The fault suite (#16 Goal): hostile events against the real CLI and readers, each judged
 * handled / silent (a wrong result with success) / hang / crash (died by a signal, or an exit
 * without a RetinaError message). Used by test/faults/fault-suite.test.ts (small, in `npm test`)
 * and bench/fault-suite.ts (larger). Categories:
 *   kill-random      SIGKILL of `preprocess` at random moments, then a rerun
 *   kill-commit-step SIGKILL at each named commit step (RETINA_FAULT_POINT), then a rerun
 *   flip             bit flips over every file of every format (metadata, LMDB meta pages included)
 *   special-files    /dev/zero symlink, FIFO, socket, folder, dangling link as images; SIGTERM
 *   disk-full        preprocess and train on a small tmpfs (needs root; skipped with reason)
 *   concurrent       two writers of one shard, two indexers of one dataset
 *   unwritable       --out under /proc, /sys, a regular file
 */
import { spawn, execFileSync } from 'node:child_process';
import { cp, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { openDataset, shardPath } from '../../formats/dataset.js';
import { verifyDataset } from '../../formats/verify.js';
import { xxh64Hex } from '../../src/core/checksum.js';
import { FAULT_POINTS } from '../../src/core/fault-point.js';
import { createRng } from '../../src/rng.js';
import { BIN, ROOT } from '../helpers/cli.js';

export interface CategoryResult {
  category: string;
  tried: number;
  handled: number;
  silent: number;
  hangs: number;
  crashes: number;
  skipped?: string;
  /** What was not handled, one line each. */
  failures: string[];
}

export interface FaultOptions {
  /** Scratch folder (removed by the caller). */
  root: string;
  /** A Kaggle-layout fixture folder: train/ + trainLabels.csv. */
  fixtures: string;
  formats: string[];
  /** Random kills per format. */
  randomKills: number;
  /** Flipped positions per file (LMDB meta pages get `metaFlips` more). */
  flipsPerFile: number;
  metaFlips: number;
  seed: number;
  /** Image side for preprocess (small keeps runs short). */
  size: number;
  log?: (line: string) => void;
  /** Run only these categories (default: all). */
  only?: string[];
}

interface Run { code: number | null; signal: string | null; stdout: string; stderr: string; timedOut: boolean; ms: number; pid: number }

const DOCUMENTED_EXITS = new Set([0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 130]);

function cli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; killAfterMs?: number; onSpawn?: (pid: number) => void } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '', timedOut = false;
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    opts.onSpawn?.(child.pid!);
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, opts.timeoutMs ?? 120_000);
    const killer = opts.killAfterMs !== undefined ? setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs) : undefined;
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (killer) clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, timedOut, ms: Date.now() - t0, pid: child.pid! });
    });
  });
}

/** A crash: died by a signal we did not send, or an exit status outside the documented set, or no message. */
function crashed(r: Run, sentKill = false): string | undefined {
  if (r.signal && !(sentKill && r.signal === 'SIGKILL')) return `died by ${r.signal}`;
  if (r.code !== null && !DOCUMENTED_EXITS.has(r.code)) return `exit ${r.code}: ${r.stderr.slice(-300)}`;
  if (r.code !== null && r.code !== 0 && !/Error \[[A-Z_]+\]|"error":\s*\{/.test(r.stderr + r.stdout)) return `exit ${r.code} without a RetinaError message`;
  return undefined;
}

const lockOf = (dataset: string) => join(dataset, 'shards', 'shard-00000-of-00001.lock');

/** Poll (25 ms) until `path` exists; false after `ms`. */
async function waitFor(path: string, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 25))) if (existsSync(path)) return true;
  return false;
}

function category(name: string): CategoryResult {
  return { category: name, tried: 0, handled: 0, silent: 0, hangs: 0, crashes: 0, failures: [] };
}

function judge(c: CategoryResult, what: string, outcome: { ok: boolean; silent?: boolean; hang?: boolean; crash?: string; why?: string }): void {
  c.tried++;
  if (outcome.hang) { c.hangs++; c.failures.push(`${what}: hang`); return; }
  if (outcome.crash) { c.crashes++; c.failures.push(`${what}: ${outcome.crash}`); return; }
  if (outcome.silent) { c.silent++; c.failures.push(`${what}: silent wrong result (${outcome.why ?? ''})`); return; }
  if (outcome.ok) c.handled++;
  else c.failures.push(`${what}: ${outcome.why ?? 'not handled'}`);
}

const preprocessArgs = (o: FaultOptions, fx: string, out: string, format: string, extra: string[] = [], size = o.size) =>
  ['preprocess', '--format', format, '--images', join(fx, 'train'), '--labels', join(fx, 'trainLabels.csv'), '--out', out, '--size', String(size), '--val-fraction', '0.3', '--threads', '1', '--log-level', 'error', ...extra];

/** The files of each shard as shard.json lists them: equal lists mean byte-identical shards. */
async function shardFiles(dataset: string): Promise<string> {
  const names = (await readdir(join(dataset, 'shards')).catch(() => [] as string[])).filter((n) => /^shard-\d+-of-\d+$/.test(n)).sort();
  const out: string[] = [];
  for (const n of names) {
    const m = JSON.parse(await readFile(join(dataset, 'shards', n, 'shard.json'), 'utf8')) as { files: Array<{ name: string; bytes: number; xxh64: string }> };
    out.push(`${n}:${m.files.map((f) => `${f.name}/${f.bytes}/${f.xxh64}`).join(',')}`);
  }
  return out.join('\n');
}

async function leftovers(dataset: string): Promise<string[]> {
  const found: string[] = [];
  for (const d of [dataset, join(dataset, 'shards')]) {
    for (const n of await readdir(d).catch(() => [] as string[])) if (/\.tmp-|\.old-|\.lock$/.test(n)) found.push(join(d, n));
  }
  return found;
}

/** After a kill: what a reader sees must be nothing or the reference; a rerun must give the reference, with no leftovers. */
async function afterKill(o: FaultOptions, c: CategoryResult, what: string, out: string, format: string, ref: string): Promise<void> {
  let silent: string | undefined;
  try {
    const r = await openDataset(out);
    await r.close();
    if ((await shardFiles(out)) !== ref) silent = 'a reader accepted a shard that differs from the reference';
  } catch {
    // refused: INCOMPLETE / NOT_FOUND / CORRUPT are all fine after a kill
  }
  const rerun = await cli(preprocessArgs(o, o.fixtures, out, format), { timeoutMs: 120_000 });
  const crash = crashed(rerun);
  const same = (await shardFiles(out)) === ref;
  const left = await leftovers(out);
  judge(c, what, {
    ok: rerun.code === 0 && same && left.length === 0 && (await verifyDataset(out)).ok,
    hang: rerun.timedOut, crash, ...(silent ? { silent: true, why: silent } : {}),
    why: rerun.code !== 0 ? `rerun exit ${rerun.code}: ${rerun.stderr.slice(-200)}` : !same ? 'rerun not byte-identical to the reference' : `left ${left.join(', ')}`,
  });
}

export async function runFaultSuite(o: FaultOptions): Promise<CategoryResult[]> {
  const log = o.log ?? (() => undefined);
  const rng = createRng(o.seed);
  const results: CategoryResult[] = [];
  const refs = new Map<string, { dir: string; files: string; workMs: number }>();
  for (const format of o.formats) {
    const dir = join(o.root, 'ref', format);
    let lockAt = 0;
    const run = cli(preprocessArgs(o, o.fixtures, dir, format), { timeoutMs: 180_000 });
    const t0 = Date.now();
    void waitFor(lockOf(dir), 60_000).then((seen) => { if (seen) lockAt = Date.now() - t0; });
    const r = await run;
    if (r.code !== 0) throw new Error(`reference preprocess (${format}) failed: ${r.stderr}`);
    // The work phase: from taking the shard's lock (start-up done, inputs validated) to the exit.
    refs.set(format, { dir, files: await shardFiles(dir), workMs: Math.max(50, r.ms - lockAt) });
  }

  const want = (name: string) => !o.only || o.only.includes(name);
  // kill-random
  const kills = category('kill-random');
  for (const format of want('kill-random') ? o.formats : []) {
    const ref = refs.get(format)!;
    for (let k = 0; k < o.randomKills; k++) {
      const out = join(o.root, 'kill', `${format}-${k}`);
      // Aimed at the work phase (start-up is most of a small run): a random moment after the
      // shard's lock appears, up to the reference run's work time (so some land in the commit).
      const at = Math.round(ref.workMs * 1.05 * rng.next());
      let pid = 0;
      const run = cli(preprocessArgs(o, o.fixtures, out, format), { onSpawn: (p) => { pid = p; } });
      if (await waitFor(lockOf(out), 60_000)) {
        await new Promise((r) => setTimeout(r, at));
        try { process.kill(pid, 'SIGKILL'); } catch { /* already done */ }
      }
      const r = await run;
      log(`kill-random ${format} #${k} at +${at} ms of ~${ref.workMs} ms work: ${r.signal ?? `exit ${r.code}`}`);
      await afterKill(o, kills, `${format} killed ${at} ms into its work`, out, format, ref.files);
    }
  }
  results.push(kills);

  // kill-commit-step
  const steps = category('kill-commit-step');
  for (const format of want('kill-commit-step') ? o.formats : []) {
    const ref = refs.get(format)!;
    for (const point of FAULT_POINTS) {
      const out = join(o.root, 'step', `${format}-${point.replace(/:/g, '-')}`);
      const r = await cli(preprocessArgs(o, o.fixtures, out, format), { env: { RETINA_FAULT_POINT: point } });
      if (r.signal !== 'SIGKILL') { judge(steps, `${format} ${point}`, { ok: false, why: `the point was not reached (exit ${r.code})` }); continue; }
      await afterKill(o, steps, `${format} killed at ${point}`, out, format, ref.files);
    }
  }
  results.push(steps);

  if (want('flip')) results.push(await flips(o, refs, rng));
  if (want('special-files')) results.push(await specialFiles(o));
  if (want('disk-full')) results.push(await diskFull(o, refs));
  if (want('concurrent')) results.push(await concurrent(o));
  if (want('unwritable')) results.push(await unwritable(o));
  return results.filter((r) => want(r.category));
}

async function flips(o: FaultOptions, refs: Map<string, { dir: string }>, rng: ReturnType<typeof createRng>): Promise<CategoryResult> {
  const c = category('flip');
  for (const [format, ref] of refs) {
    const dir = join(o.root, 'flip', format);
    await cp(ref.dir, dir, { recursive: true });
    // The reference records, and manifest.json, as the user would have them.
    const idx = await cli(['index', dir, '--log-level', 'error']);
    if (idx.code !== 0) throw new Error(`index failed: ${idx.stderr}`);
    const reader = await openDataset(dir);
    const recs = [];
    for (let i = 0; i < reader.count; i++) { const r = await reader.get(i); recs.push({ id: r.id, label: r.label, split: r.split, xxh64: xxh64Hex(r.tensor) }); }
    await reader.close();
    await writeFile(join(o.root, `ref-${format}.json`), JSON.stringify(recs));
    const files = ['manifest.json', ...(await readdir(shardPath(dir, 0, 1))).filter((n) => !n.endsWith('-lock')).map((n) => join('shards', 'shard-00000-of-00001', n))];
    const jobs: Array<{ file: string; pos: number; mask: number }> = [];
    for (const file of files) {
      const size = (await stat(join(dir, file))).size;
      const positions = new Set<number>();
      for (let k = 0; k < Math.min(o.flipsPerFile, size); k++) positions.add(rng.int(0, size - 1));
      // LMDB's meta pages: what crashed lmdb-js before #16.
      if (file.endsWith('data.mdb')) for (let k = 0; k < o.metaFlips; k++) positions.add(rng.int(0, 1) * 4096 + rng.int(0, 191));
      for (const pos of positions) jobs.push({ file, pos, mask: 1 << rng.int(0, 7) });
    }
    const jobsFile = join(o.root, `jobs-${format}.json`);
    await writeFile(jobsFile, JSON.stringify(jobs));
    let start = 0;
    while (start < jobs.length) {
      const r = await new Promise<{ lines: string[]; signal: string | null; code: number | null }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/faults/flip-child.ts'), dir, join(o.root, `ref-${format}.json`), jobsFile, String(start)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d) => { out += d; });
        const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
        child.on('close', (code, signal) => { clearTimeout(timer); resolve({ lines: out.trim().split('\n').filter(Boolean), signal, code }); });
      });
      let last = start;
      for (const line of r.lines) {
        const v = JSON.parse(line) as { j: number; state?: string; verify?: string; read?: string };
        last = v.j;
        if (v.state === 'start') continue;
        const job = jobs[v.j]!;
        const what = `${format} ${job.file} byte ${job.pos} ^${job.mask}`;
        const readFailed = v.read !== 'same' && v.read !== 'different';
        const named = (s: string | undefined) => s !== undefined && !s.startsWith('raw:');
        judge(c, what, {
          // verify must object; a read must fail with a RetinaError or return exactly the reference.
          ok: v.verify !== 'ok' && named(v.verify) && (v.read === 'same' || (readFailed && named(v.read))),
          ...(v.read === 'different' ? { silent: true, why: `read returned other records (verify: ${v.verify})` } : {}),
          why: `verify ${v.verify}, read ${v.read}`,
        });
        start = v.j + 1;
      }
      if (r.signal || r.code !== 0) {
        const job = jobs[last]!;
        judge(c, `${format} ${job.file} byte ${job.pos}`, { ok: false, crash: `flip child died (${r.signal ?? `exit ${r.code}`})` });
        start = last + 1;
        // put the byte back: the child died holding it flipped
        const p = join(dir, job.file);
        const b = await readFile(p);
        b[job.pos]! ^= job.mask;
        await writeFile(p, b);
      }
    }
  }
  return c;
}

async function specialFiles(o: FaultOptions): Promise<CategoryResult> {
  const c = category('special-files');
  const fx = join(o.root, 'special');
  await cp(o.fixtures, fx, { recursive: true });
  const train = join(fx, 'train');
  const names = ['zero', 'fifo', 'sock', 'folder', 'dangling', 'devnull'];
  await symlink('/dev/zero', join(train, 'zero.jpeg'));
  execFileSync('mkfifo', [join(train, 'fifo.jpeg')]);
  const server = createServer();
  await new Promise<void>((r) => server.listen(join(train, 'sock.jpeg'), r));
  await mkdir(join(train, 'folder.jpeg'));
  await symlink(join(train, 'nowhere.jpeg'), join(train, 'dangling.jpeg'));
  await symlink('/dev/null', join(train, 'devnull.jpeg'));
  const labels = join(fx, 'trainLabels.csv');
  await writeFile(labels, `${(await readFile(labels, 'utf8')).trimEnd()}\n${names.map((n, i) => `${n},${i % 5}`).join('\n')}\n`);
  try {
    const r = await cli(preprocessArgs(o, fx, join(fx, 'out'), 'raw', ['--skip-invalid']), { timeoutMs: 60_000 });
    const rejects = await readFile(join(fx, 'out', 'rejects.csv'), 'utf8').catch(() => '');
    for (const n of names) {
      judge(c, `${n}.jpeg with --skip-invalid`, { ok: r.code === 0 && new RegExp(`^${n},`, 'm').test(rejects), hang: r.timedOut, crash: crashed(r), why: `exit ${r.code}; rejects: ${rejects.slice(0, 200)}` });
    }
    const strict = await cli(preprocessArgs(o, fx, join(fx, 'strict'), 'raw'), { timeoutMs: 60_000 });
    judge(c, 'special files without --skip-invalid', { ok: [3, 4, 5].includes(strict.code ?? -1), hang: strict.timedOut, crash: crashed(strict), why: `exit ${strict.code}` });
  } finally {
    server.close();
  }
  // SIGTERM mid-run is honoured: exit 130, nothing half-written.
  // Aimed at the work phase: sent once the shard's lock exists (the handler is installed by then).
  let pid = 0;
  const term = join(fx, 'term');
  const run = cli(preprocessArgs(o, o.fixtures, term, 'raw'), { onSpawn: (p) => { pid = p; }, timeoutMs: 60_000 });
  await waitFor(lockOf(term), 10_000);
  process.kill(pid, 'SIGTERM');
  const t = await run;
  const left = await leftovers(term);
  // 130 (stopped, partial shard removed), 0 (it had just finished), or killed by SIGTERM's default
  // action before the handler existed (start-up): all honour the signal, if nothing is left half-written.
  const honoured = t.code === 130 || t.code === 0 || t.signal === 'SIGTERM';
  judge(c, 'SIGTERM during preprocess', { ok: honoured && left.length === 0, hang: t.timedOut, crash: t.signal === 'SIGTERM' ? undefined : crashed(t), why: `exit ${t.code ?? t.signal}, left ${left.join(', ')}` });
  return c;
}

async function diskFull(o: FaultOptions, refs: Map<string, { dir: string }>): Promise<CategoryResult> {
  const c = category('disk-full');
  const mnt = join(o.root, 'tmpfs');
  await mkdir(mnt, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=192k', 'tmpfs', mnt], { stdio: 'pipe' });
  } catch (err) {
    c.skipped = `cannot mount a tmpfs here (${(err as Error).message.split('\n')[0]}): needs root`;
    return c;
  }
  try {
    for (const format of o.formats) {
      const out = join(mnt, format);
      // 128² records: the fixtures need about 500 kB, the tmpfs holds 192 kB
      const r = await cli(preprocessArgs(o, o.fixtures, out, format, [], 128), { timeoutMs: 120_000 });
      const left = await leftovers(out);
      judge(c, `preprocess ${format} onto a full disk`, {
        ok: r.code === 10 && /No space left/.test(r.stderr) && r.stderr.includes(mnt) && /Free space/.test(r.stderr) && left.length === 0,
        hang: r.timedOut, crash: crashed(r), why: `exit ${r.code}: ${r.stderr.slice(-300)}; left ${left.join(', ')}`,
      });
      await rm(out, { recursive: true, force: true });
    }
    // A full feature-cache folder: training goes on without the cache, with a warning.
    // Fill it up to the last byte (the write stops at ENOSPC).
    await writeFile(join(mnt, 'filler'), Buffer.alloc(256 * 1024)).catch(() => undefined);
    const raw = refs.get('raw')?.dir ?? [...refs.values()][0]!.dir;
    const t = await cli(['train', '--source', o.formats.includes('raw') ? 'raw' : o.formats[0]!, '--data', raw, '--model', 'small-cnn', '--epochs', '1', '--batch-size', '8', '--threads', '1', '--backend', 'wasm', '--cache-dir', join(mnt, 'cache'), '--out', join(o.root, 'run-full-cache'), '--log-level', 'warn'], { timeoutMs: 180_000 });
    judge(c, 'train with a full feature-cache folder', { ok: t.code === 0 && /training without it/.test(t.stderr), hang: t.timedOut, crash: crashed(t), why: `exit ${t.code}: ${t.stderr.slice(-300)}` });
  } finally {
    execFileSync('umount', [mnt]);
  }
  return c;
}

async function concurrent(o: FaultOptions): Promise<CategoryResult> {
  const c = category('concurrent');
  const out = join(o.root, 'concurrent');
  let firstPid = 0;
  // The first writer holds its lock for 8 s in the middle of its commit, so the second surely meets it.
  const first = cli(preprocessArgs(o, o.fixtures, out, 'raw'), { onSpawn: (p) => { firstPid = p; }, env: { RETINA_FAULT_POINT: 'commit:table', RETINA_FAULT_ACTION: 'pause:8000' } });
  await waitFor(lockOf(out), 30_000);
  const second = await cli(preprocessArgs(o, o.fixtures, out, 'raw'));
  const a = await first;
  judge(c, 'two preprocess runs on one shard', {
    ok: a.code === 0 && second.code === 7 && second.stderr.includes(`pid ${firstPid} on host`) && (await verifyDataset(out)).ok,
    crash: crashed(a) ?? crashed(second), why: `first exit ${a.code}, second exit ${second.code}: ${second.stderr.slice(-200)}`,
  });
  const [i1, i2] = await Promise.all([cli(['index', out, '--log-level', 'error']), cli(['index', out, '--log-level', 'error'])]);
  judge(c, 'two index runs on one dataset', {
    ok: [i1.code, i2.code].every((x) => x === 0 || x === 7) && (await verifyDataset(out)).ok && (await leftovers(out)).length === 0,
    crash: crashed(i1) ?? crashed(i2), why: `exits ${i1.code}, ${i2.code}`,
  });
  return c;
}

async function unwritable(o: FaultOptions): Promise<CategoryResult> {
  const c = category('unwritable');
  for (const out of ['/proc/retina-fault', '/sys/retina-fault', join(o.fixtures, 'trainLabels.csv', 'sub')]) {
    const r = await cli(preprocessArgs(o, o.fixtures, out, 'raw'), { timeoutMs: 30_000 });
    judge(c, `--out ${out}`, { ok: r.code === 2 && /Cannot write the dataset folder/.test(r.stderr) && r.ms < 60_000, hang: r.timedOut, crash: crashed(r), why: `exit ${r.code} after ${r.ms} ms` });
  }
  return c;
}

/** A Markdown table of the results. */
export function summaryTable(results: readonly CategoryResult[]): string {
  const rows = results.map((r) => `| ${r.category} | ${r.skipped ? `skipped: ${r.skipped}` : `${r.tried}`} | ${r.handled} | ${r.silent} | ${r.hangs} | ${r.crashes} |`);
  return ['| category | tried | handled | silent wrong | hangs | crashes without a message |', '|---|---|---|---|---|---|', ...rows].join('\n');
}
