import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { generateFixtures } from '../../fixtures/generate.js';
import { indexDataset, openDataset, shardStatus } from '../../formats/dataset.js';
import type { ShardManifest } from '../../formats/types.js';
import { BIN, parseJson, runCli, tempDir } from '../helpers/cli.js';

interface Result { records: number; shards: number; skipped: boolean; shard: string }

let root: string, cleanup: () => Promise<void>;
let kaggle: string;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('retina-pp-shards-'));
  kaggle = join(root, 'kaggle');
  await generateFixtures({ out: kaggle, count: 30, seed: 21, size: { width: 320, height: 240 } });
});
afterAll(() => cleanup());

const base = ['preprocess', '--format', 'raw', '--size', '32', '--json'];
const run = (out: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) => runCli([...base, '--out', out, ...args], { cwd: kaggle, env });
/** Slower per image, so a signal lands mid-run: one thread, 128 px, Ben Graham. */
const slow = ['preprocess', '--format', 'raw', '--size', '128', '--normalize', 'ben-graham'];

/** Every record of a dataset as `id label split hex(xxh of tensor)` lines, in reading order. */
async function records(dir: string): Promise<string[]> {
  const ds = await openDataset(dir);
  const out: string[] = [];
  for (let i = 0; i < ds.count; i++) {
    const r = await ds.get(i);
    out.push(`${r.id} ${r.label} ${r.split} ${Buffer.from(r.tensor).toString('base64')}`);
  }
  await ds.close();
  return out;
}

async function shardFiles(dir: string, index = 0, count = 1): Promise<ShardManifest['files']> {
  const name = `shard-${String(index).padStart(5, '0')}-of-${String(count).padStart(5, '0')}`;
  return (JSON.parse(await readFile(join(dir, 'shards', name, 'shard.json'), 'utf8')) as ShardManifest).files;
}

describe('retina preprocess sharding, determinism and crash safety', () => {
  let single: string[];
  beforeAll(async () => {
    const r = await run(join(root, 'single'));
    expect(r.code, r.stderr).toBe(0);
    single = await records(join(root, 'single'));
  });

  it('two --shard i/2 runs plus index equal a single run record for record', async () => {
    const out = join(root, 'two');
    const a = await run(out, ['--shard', '1/2']);
    expect(parseJson<Result>(a)).toMatchObject({ shard: '1/2', shards: 2 });
    const b = await run(out, ['--shard', '0/2']);
    expect(parseJson<Result>(a).records + parseJson<Result>(b).records).toBe(30);
    const idx = await runCli(['index', out, '--json']);
    expect(parseJson<{ complete: boolean; records: number }>(idx)).toMatchObject({ complete: true, records: 30 });
    expect(await records(out)).toEqual(single);
  });

  it('takes its shard from a Slurm array that starts at 1 (--array=1-3)', async () => {
    const out = join(root, 'slurm');
    for (const id of [3, 1, 2]) {
      const r = await run(out, [], { SLURM_ARRAY_TASK_ID: String(id), SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '3', SLURM_ARRAY_TASK_COUNT: '3' });
      expect(parseJson<Result>(r)).toMatchObject({ shard: `${id - 1}/3`, shards: 3 });
    }
    expect((await indexDataset(out)).complete).toBe(true);
    expect(await records(out)).toEqual(single);
    // Resubmitting task 2 alone (--array=2) looks like a one-task array: refused, not shard 0/1.
    const again = await run(out, [], { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_MIN: '2', SLURM_ARRAY_TASK_MAX: '2', SLURM_ARRAY_TASK_COUNT: '1' });
    expect(again.code).toBe(2);
    expect(again.stdout).toContain('--shard $SLURM_ARRAY_TASK_ID/3');
    expect(parseJson<Result>(await run(out, ['--shard', '1/3'], { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_MIN: '2', SLURM_ARRAY_TASK_MAX: '2', SLURM_ARRAY_TASK_COUNT: '1' }))).toMatchObject({ shard: '1/3', skipped: true });
  });

  it('gives byte-identical shards whatever --threads (uint8 inline and on workers from 4, Ben Graham float16 on workers)', async () => {
    for (const extra of [[], ['--normalize', 'ben-graham', '--dtype', 'float16']]) {
      const tag = extra.length ? 'bg' : 'u8';
      const threads = extra.length ? ['1', '2'] : ['1', '2', '4'];
      for (const t of threads) expect((await run(join(root, `${tag}-t${t}`), ['--threads', t, ...extra])).code).toBe(0);
      const one = await shardFiles(join(root, `${tag}-t1`));
      expect(one.length).toBeGreaterThan(0);
      for (const t of threads.slice(1)) expect(await shardFiles(join(root, `${tag}-t${t}`))).toEqual(one);
    }
    expect(await shardFiles(join(root, 'u8-t1'))).toEqual(await shardFiles(join(root, 'single')));
  });

  it('a rerun keeps a complete shard, redoes one whose checksum fails, and --force redoes it anyway', async () => {
    const out = join(root, 'single');
    expect(parseJson<Result>(await run(out))).toMatchObject({ skipped: true, records: 30 });
    const files = await shardFiles(out);
    const data = join(out, 'shards', 'shard-00000-of-00001', files.find((f) => f.bytes > 1000)!.name);
    const fh = await open(data, 'r+');
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, 5000);
    b[0] = b[0]! ^ 0xff;
    await fh.write(b, 0, 1, 5000);
    await fh.close();
    expect((await shardStatus(out, 0, 1, { verify: true })).state).toBe('invalid');
    expect(parseJson<Result>(await run(out))).toMatchObject({ skipped: false, records: 30 });
    expect(await records(out)).toEqual(single);
    expect(parseJson<Result>(await run(out, ['--force']))).toMatchObject({ skipped: false });
    // Other settings never silently replace a complete shard.
    for (const other of [['--seed', '5'], ['--dtype', 'float16'], ['--crop', 'none']]) {
      const r = await run(out, other);
      expect(r.code, other.join(' ')).toBe(7);
      expect(r.stdout).toContain('--force');
    }
  });

  /** Start a run, wait until its temporary shard folder exists, send `signal`; resolves with the exit code. */
  async function interrupt(out: string, signal: NodeJS.Signals): Promise<{ code: number | null; sig: NodeJS.Signals | null; stderr: string }> {
    const child = spawn(process.execPath, [BIN, ...slow, '--threads', '1', '--out', out], { cwd: kaggle });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let running = true;
    const exited = new Promise<{ code: number | null; sig: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, sig) => { running = false; resolve({ code, sig }); }));
    const shards = join(out, 'shards');
    for (let i = 0; i < 3000 && running; i++) {
      const names = existsSync(shards) ? await readdir(shards) : [];
      if (names.some((n) => n.includes('.tmp-'))) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill(signal);
    return { ...(await exited), stderr };
  }

  it('SIGTERM stops cleanly: non-zero exit, no shard that looks complete, no temporary folder left', async () => {
    const out = join(root, 'term');
    const r = await interrupt(out, 'SIGTERM');
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain('SIGTERM');
    expect((await shardStatus(out, 0, 1)).state).toBe('missing');
    expect((await readdir(join(out, 'shards'))).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('a SIGKILLed run leaves no complete-looking shard, and a rerun completes it', async () => {
    const out = join(root, 'killed');
    const r = await interrupt(out, 'SIGKILL');
    expect(r.sig).toBe('SIGKILL');
    // Killed mid-write: its temporary folder is still there, and readers ignore it.
    expect((await readdir(join(out, 'shards'))).some((n) => n.includes('.tmp-'))).toBe(true);
    expect((await shardStatus(out, 0, 1)).state).toBe('missing');
    const again = await runCli([...slow, '--threads', '1', '--json', '--out', out], { cwd: kaggle });
    expect(parseJson<Result>(again)).toMatchObject({ records: 30, skipped: false });
    expect((await readdir(join(out, 'shards'))).filter((n) => n.includes('.tmp-'))).toEqual([]);
    const reference = join(root, 'killed-ref');
    await runCli([...slow, '--out', reference, '--threads', '2'], { cwd: kaggle });
    expect(await shardFiles(out)).toEqual(await shardFiles(reference));
  });
});
