/**
 * Diabetic-retinopathy grading metrics over integer grades 0..classes-1.
 */

/** confusion[actual][predicted] = count. */
export function confusionMatrix(actual: ArrayLike<number>, predicted: ArrayLike<number>, classes = 5): number[][] {
  if (actual.length !== predicted.length) throw new Error(`confusionMatrix: ${actual.length} actual vs ${predicted.length} predicted grades`);
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!, p = predicted[i]!;
    if (!(a >= 0 && a < classes && p >= 0 && p < classes)) throw new Error(`confusionMatrix: grade out of range at ${i} (actual ${a}, predicted ${p})`);
    m[a]![p]! += 1;
  }
  return m;
}

/** Share of exact matches; 0 for no samples. */
export function accuracy(actual: ArrayLike<number>, predicted: ArrayLike<number>): number {
  let hit = 0;
  for (let i = 0; i < actual.length; i++) if (actual[i] === predicted[i]) hit++;
  return actual.length === 0 ? 0 : hit / actual.length;
}

/**
 * Quadratic weighted kappa (the Kaggle DR metric): 1 − Σ w·O / Σ w·E with w_ij = (i−j)²/(k−1)²,
 * O the confusion matrix and E the outer product of the two grade histograms over N. 1 is perfect
 * agreement, 0 is chance level (any constant predictor scores exactly 0), negative is worse than
 * chance. When E has no weight off the diagonal (both sides use a single grade) the agreement beyond
 * chance cannot be measured and 0 is returned.
 */
export function quadraticWeightedKappa(actual: ArrayLike<number>, predicted: ArrayLike<number>, classes = 5): number {
  const o = confusionMatrix(actual, predicted, classes);
  const n = actual.length;
  if (n === 0) return 0;
  const rowSums = o.map((r) => r.reduce((a, b) => a + b, 0));
  const colSums = o[0]!.map((_, j) => o.reduce((a, r) => a + r[j]!, 0));
  let num = 0, den = 0;
  for (let i = 0; i < classes; i++) {
    for (let j = 0; j < classes; j++) {
      const w = ((i - j) * (i - j)) / ((classes - 1) * (classes - 1));
      num += w * o[i]![j]!;
      den += (w * rowSums[i]! * colSums[j]!) / n;
    }
  }
  return den === 0 ? 0 : 1 - num / den;
}

/** Row-wise argmax of an [n, classes] probability matrix stored flat. */
export function argmaxRows(probs: Float32Array, classes: number): Int32Array {
  const n = probs.length / classes;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < classes; j++) if (probs[i * classes + j]! > probs[i * classes + best]!) best = j;
    out[i] = best;
  }
  return out;
}

/** Mean categorical cross-entropy of probabilities against integer labels (probabilities clipped at 1e-7). */
export function crossEntropy(probs: Float32Array, labels: ArrayLike<number>, classes: number): number {
  let sum = 0;
  for (let i = 0; i < labels.length; i++) sum -= Math.log(Math.max(1e-7, probs[i * classes + labels[i]!]!));
  return labels.length === 0 ? 0 : sum / labels.length;
}
