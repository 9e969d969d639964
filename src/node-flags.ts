/**
 * V8 flags and allocator settings retina's CLI starts Node with: the `bin/run.js` shebang
 * (`env -S`), the Slurm scripts (`NODE_FLAGS`, exported `MALLOC_*`) and the GPU bundle's entry
 * pass them; a test keeps them in step.
 *
 * `--initial-old-space-size=64`: every image goes through a few MB of short-lived ArrayBuffers
 * (the file, sharp's decoded copy, the tensor). Until V8 collects the small JS objects holding
 * them they count towards its global heap limit, which follows the JS heap, and retina's JS heap
 * is small (~10 MB): V8 then runs a full mark-compact every 10-15 images, 24-38 of them per 400
 * 1024 px images, about a fifth of the CPU. A 64 MB initial old space lifts that limit above the
 * buffers' churn: no mark-compact at all over 2,000 images, same peak RSS (bench/preprocess.ts,
 * BENCHMARKS.md). The flag cannot be set from inside the process or through NODE_OPTIONS.
 */
export const NODE_FLAGS: readonly string[] = ['--initial-old-space-size=64'];

/**
 * glibc malloc settings (mallopt(3)'s environment variables). By default glibc serves an
 * allocation over 128 KiB with a fresh mmap and gives memory above 128 KiB at the heap's top
 * back to the kernel, so each image's 2 MB decoded copy and file buffer came as new pages, every
 * page faulted in and zeroed: ~250 minor page faults per 1024 px image, about a sixth of its CPU.
 * Serving up to 8 MiB from the heap and keeping up to 32 MiB of free memory there reuses the same
 * pages: 1,000 images pinned to one CPU, 328k → 32k faults, 178.8-185.6 → 204.6-214.6 images/s,
 * peak RSS 160 → 182-184 MiB (bench/preprocess.ts, BENCHMARKS.md). sharp's documentation
 * recommends jemalloc for the same reason; with it (LD_PRELOAD) these are ignored.
 */
export const MALLOC_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: String(8 * 2 ** 20),
  MALLOC_TRIM_THRESHOLD_: String(32 * 2 ** 20),
};

/** `MALLOC_ENV` as `NAME=value` words, for a shebang or a shell line. */
export const MALLOC_ASSIGNMENTS: readonly string[] = Object.entries(MALLOC_ENV).map(([k, v]) => `${k}=${v}`);
