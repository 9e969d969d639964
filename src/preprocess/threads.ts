import sharp from 'sharp';

/** How a task's CPUs are shared between libvips (decode, resize) and piscina (JS finishing). */
export interface ThreadPlan {
  cpus: number;
  /** Images decoded at once: each libvips pipeline runs on one libuv threadpool thread. */
  decodeSlots: number;
  /** libvips worker threads per pipeline (`sharp.concurrency`). */
  vipsThreads: number;
  /** piscina threads for everything after decoding (detection, resampling, Ben Graham, dtype); 0: inline. */
  jsThreads: number;
  /** libuv threadpool size this process started with. */
  uvPool: number;
  /** Why the plan is less than ideal, for the log. */
  note: string | undefined;
}

/**
 * Plan threads for `cpus` CPUs. Decoding a JPEG is sequential in libjpeg, so throughput comes from
 * decoding `cpus` images at once with one libvips thread each, not one image with many threads.
 * Those pipelines run on libuv's threadpool, whose size is fixed when the process starts
 * (UV_THREADPOOL_SIZE, default 4): when it is smaller than `cpus`, fewer images run at once and
 * each gets more libvips threads instead, so the CPUs are still used. Everything after decoding
 * (retina detection, resampling, Ben Graham, dtype) is JS/WebAssembly, 5-20 % of an image's work:
 * inline on the main thread for a core or two, but from 4 CPUs on the main thread would become
 * the bottleneck (it also dispatches decodes and writes records), so a quarter of the CPUs run it
 * on piscina workers; Ben Graham and float output always get at least one.
 */
export function planThreads(cpus: number, jsWork: boolean, env: NodeJS.ProcessEnv = process.env): ThreadPlan {
  const uvPool = /^\d+$/.test(env.UV_THREADPOOL_SIZE ?? '') ? Math.max(1, Number(env.UV_THREADPOOL_SIZE)) : 4;
  const decodeSlots = Math.max(1, Math.min(cpus, uvPool));
  const vipsThreads = Math.max(1, Math.round(cpus / decodeSlots));
  const jsThreads = jsWork || cpus >= 4 ? Math.max(1, Math.ceil(cpus / 4)) : 0;
  const note = cpus > uvPool
    ? `only ${uvPool} libuv threads for ${cpus} CPUs: start retina with UV_THREADPOOL_SIZE=${cpus} (the Slurm scripts do) to decode ${cpus} images at once`
    : undefined;
  return { cpus, decodeSlots, vipsThreads, jsThreads, uvPool, note };
}

/**
 * Apply a plan to sharp for the duration of a run; returns a function restoring the previous
 * settings. The libvips operation cache is turned off: every image is new, so it would only
 * hold memory.
 */
export function applySharpPlan(plan: ThreadPlan): () => void {
  const previousConcurrency = sharp.concurrency();
  sharp.concurrency(plan.vipsThreads);
  sharp.cache(false);
  return () => {
    sharp.concurrency(previousConcurrency);
  };
}

/** A counting semaphore: at most `n` holders at once, served in request order. */
export class Semaphore {
  #free: number;
  readonly #waiting: Array<() => void> = [];
  constructor(n: number) { this.#free = n; }
  async acquire(): Promise<void> {
    if (this.#free > 0) { this.#free--; return; }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }
  release(): void {
    const next = this.#waiting.shift();
    if (next) next(); else this.#free++;
  }
}
