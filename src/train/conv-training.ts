import * as tf from '@tensorflow/tfjs';
import { patchLayerCall } from './layer-patch.js';

/** The parts of tfjs-layers' Conv2D this module needs (protected fields in its typings). */
interface ConvInternals {
  rank: number;
  strides: number[];
  padding: string;
  dataFormat: string;
  dilationRate: number[];
  bias: unknown;
  activation: { getClassName(): string } | null;
  kernel: { read(): tf.Tensor };
}

function internals(layer: tf.layers.Layer): ConvInternals | undefined {
  if (layer.getClassName() !== 'Conv2D') return undefined;
  const l = layer as unknown as Partial<ConvInternals>;
  const ok = l.rank === 2 && l.bias == null && l.dataFormat === 'channelsLast' && (l.padding === 'same' || l.padding === 'valid')
    && Array.isArray(l.strides) && l.strides.length === 2 && Array.isArray(l.dilationRate) && l.dilationRate.every((d) => d === 1)
    && (l.activation == null || l.activation.getClassName() === 'linear') && typeof l.kernel?.read === 'function';
  return ok ? (l as ConvInternals) : undefined;
}

/**
 * Makes every Conv2D layer of `model` without bias or activation (InceptionV3's and small-cnn's
 * trainable units, each followed by batch norm) run `tf.conv2d` when called with
 * `training: true`, instead of tfjs-layers' `tf.fused.conv2d`. With a linear activation and no
 * bias the fused op computes the same convolution and the same gradients (Conv2DBackpropInput and
 * Conv2DBackpropFilter either way), but it records them through a custom-gradient op that clones
 * three tensors for backward where the plain Conv2D kernel clones two: two kernels less per layer
 * and step. Inference keeps tfjs-layers' code. Returns the number of layers changed and a
 * function that restores them.
 */
export function usePlainConvTraining(model: tf.LayersModel): { layers: number; restore: () => void } {
  const restores: (() => void)[] = [];
  for (const layer of model.layers) {
    const conv = internals(layer);
    if (!conv) continue;
    const restore = patchLayerCall(layer, 'conv-training', (original) => (inputs, kwargs) => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (kwargs['training'] !== true || !x || (Array.isArray(inputs) && inputs.length !== 1) || x.rank !== 4 || x.dtype !== 'float32') {
        return original(inputs, kwargs);
      }
      const pad = conv.padding as 'same' | 'valid';
      return tf.conv2d(x as tf.Tensor4D, conv.kernel.read() as tf.Tensor4D, [conv.strides[0]!, conv.strides[1]!], pad, 'NHWC', 1);
    });
    if (restore) restores.push(restore);
  }
  return { layers: restores.length, restore: () => restores.forEach((r) => r()) };
}
