import { Flags } from '@oclif/core';

/** A decimal flag (oclif has integers only), checked to be a finite number. */
export const decimal = Flags.custom<number>({
  parse: async (input) => {
    const v = Number(input);
    if (input.trim() === '' || !Number.isFinite(v)) throw new Error(`Expected a number but received ${JSON.stringify(input)}`);
    return v;
  },
});

/** Flags shared by train and evaluate: which tfjs backend runs the network. */
export const backendFlag = Flags.string({
  default: 'auto',
  summary: 'Backend: auto, tensorflow (tfjs-node[-gpu] if installed), webgpu (a GPU via Vulkan), onnxruntime (frozen forward passes in ONNX Runtime), wasm or cpu.',
  description: 'auto picks tensorflow when @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node is installed, else webgpu when a GPU adapter is found, else onnxruntime when onnxruntime-node loads (frozen forward passes in ONNX Runtime, the head on wasm), else wasm (SIMD), else cpu. --log-level debug says why each one was skipped.',
});
