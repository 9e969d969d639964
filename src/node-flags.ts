/**
 * V8 flags retina's CLI starts Node with: the `bin/run.js` shebang (`env -S`) and the Slurm
 * scripts' `NODE_FLAGS` pass them; a test keeps the three in step.
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
