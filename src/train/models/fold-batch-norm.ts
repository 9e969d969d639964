import * as tf from '@tensorflow/tfjs';
import { BN_EPSILON } from './inception-v3.js';

function weightsByRole(layer: tf.layers.Layer): Map<string, tf.Tensor> {
  const values = layer.getWeights();
  const roles = new Map<string, tf.Tensor>();
  layer.weights.forEach((w, i) => {
    const role = w.originalName.split('/').pop() ?? w.originalName;
    roles.set(role, values[i]!);
  });
  return roles;
}

/**
 * Copy `source` (units of Conv2D + BatchNormalization, see `UnitMode`) into `folded` (the same
 * topology built in `folded` mode), folding each BN into its convolution for inference:
 * W' = W · γ/√(var+ε) per output channel, b = β − mean · γ/√(var+ε) (γ = 1 when BN has no scale).
 * Layers without a BN partner are copied by name as they are.
 */
export function foldBatchNorm(source: tf.LayersModel, folded: tf.LayersModel): void {
  const byName = new Map(source.layers.map((l) => [l.name, l] as const));
  tf.tidy(() => {
    for (const target of folded.layers) {
      if (target.weights.length === 0) continue;
      const from = byName.get(target.name);
      if (!from) throw new Error(`foldBatchNorm: no layer "${target.name}" in the source model`);
      const bn = target.name.endsWith('_conv') ? byName.get(target.name.replace(/_conv$/, '_bn')) : undefined;
      if (!bn) {
        target.setWeights(from.getWeights());
        continue;
      }
      const [kernel] = from.getWeights();
      const roles = weightsByRole(bn);
      const mean = roles.get('moving_mean'), variance = roles.get('moving_variance');
      if (!kernel || !mean || !variance) throw new Error(`foldBatchNorm: unit "${target.name}" lacks kernel or moving statistics`);
      const epsilon = (bn.getConfig().epsilon as number | undefined) ?? BN_EPSILON;
      const gamma = roles.get('gamma') ?? tf.onesLike(mean);
      const beta = roles.get('beta') ?? tf.zerosLike(mean);
      const factor = gamma.mul(tf.rsqrt(variance.add(epsilon)));
      target.setWeights([kernel.mul(factor), beta.sub(mean.mul(factor))]);
    }
  });
}
