/**
 * Split-K planning for the thin matrix products of convolution gradients.
 *
 * A filter gradient is a product [M x N] · [N x Co] whose inner size N (batch x output pixels,
 * up to 700k) dwarfs its output (M x Co, often 64 x 64). tfjs-webgpu tiles the output in 32x32
 * workgroups, so such a product would run on a handful of workgroups, each looping over all of N.
 * Reshaping N into S slices and running a batched product ([S, N/S, M]ᵀ · [S, N/S, Co], then a sum
 * over S) gives S times the workgroups with no change to the arithmetic.
 */

/** Bounds for {@link chooseSplits}; the defaults suit a datacenter GPU with ~130 SMs. */
export interface SplitLimits {
  /** Workgroups (32x32 output tiles x slices) worth aiming for. */
  targetWorkgroups: number;
  /** Shortest inner length per slice: shorter slices waste the tile loads. */
  minInner: number;
  /** Largest partial-sum tensor [S, M, Co] in bytes. */
  maxPartialBytes: number;
}

export const DEFAULT_SPLIT_LIMITS: SplitLimits = {
  targetWorkgroups: 1024,
  minInner: 256,
  maxPartialBytes: 64 * 1024 * 1024,
};

/** Largest divisor of `n` that is at most `bound` (at least 1). */
export function largestDivisorAtMost(n: number, bound: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
  const cap = Math.max(1, Math.min(n, Math.floor(bound)));
  let best = 1;
  for (let i = 1; i * i <= n; i++) {
    if (n % i !== 0) continue;
    const j = n / i;
    if (i <= cap && i > best) best = i;
    if (j <= cap && j > best) best = j;
  }
  return best;
}

/**
 * Number of slices S (a divisor of `inner`) for a product with output `rows x cols` and inner size
 * `inner`: enough slices to fill the GPU, none shorter than `minInner`, partial sums bounded.
 */
export function chooseSplits(rows: number, cols: number, inner: number, limits: SplitLimits = DEFAULT_SPLIT_LIMITS): number {
  const tiles = Math.ceil(rows / 32) * Math.ceil(cols / 32);
  const wanted = Math.ceil(limits.targetWorkgroups / tiles);
  const byInner = Math.floor(inner / limits.minInner);
  const byMemory = Math.floor(limits.maxPartialBytes / (rows * cols * 4));
  const bound = Math.min(wanted, byInner, byMemory);
  return bound <= 1 ? 1 : largestDivisorAtMost(inner, bound);
}
