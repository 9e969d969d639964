import type * as tf from '@tensorflow/tfjs';

/** A tfjs-layers `Layer.call`. */
export type LayerCall = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

const PATCHED = Symbol('retina.layerPatch');

/**
 * Replaces `call` on one layer instance (not its class: config, weights and saved models stay
 * the same) with `fast`, which gets the original to fall back on. A layer is patched at most once
 * per `tag`. Returns a function that restores the layer, or undefined when it was already patched.
 */
export function patchLayerCall(layer: tf.layers.Layer, tag: string, fast: (original: LayerCall) => LayerCall): (() => void) | undefined {
  const target = layer as unknown as { call: LayerCall; [PATCHED]?: Set<string> };
  const tags = target[PATCHED] ?? new Set<string>();
  if (tags.has(tag)) return undefined;
  const own = Object.hasOwn(target, 'call');
  const original = target.call;
  // An own property on the instance shadows the class method; restoring removes it again.
  target.call = fast((inputs, kwargs) => original.call(layer, inputs, kwargs));
  tags.add(tag);
  target[PATCHED] = tags;
  return () => {
    if (own) target.call = original;
    else delete (target as { call?: LayerCall }).call;
    tags.delete(tag);
  };
}
