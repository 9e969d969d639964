/**
 * The `webgpu` backend provider for `--backend` (see src/backends/backend-registry.ts): tfjs on a GPU through
 * WebGPU (Dawn over Vulkan). Everything heavy loads only when it is activated.
 */
import type { BackendProvider } from '../provider.js';
import { vulkanLoader } from './vulkan-diagnosis.js';

export const webgpuProvider: BackendProvider = {
  name: 'webgpu',
  description: 'a GPU through WebGPU (Dawn over Vulkan; optional packages webgpu + @tensorflow/tfjs-backend-webgpu)',
  // One device: worker threads would only queue on it.
  parallelWorkers: false,
  // Small forward batches leave most of a GPU idle.
  featureBatchSize: 64,
  async activate() {
    const { initWebGpu } = await import('./webgpu.js');
    await initWebGpu();
  },
  // On Linux Dawn reaches a GPU only through Vulkan: without the loader, loading Dawn (21 MB) can
  // only fail, after printing its own warning to stderr.
  autoSkipReason() {
    if (process.platform !== 'linux' || vulkanLoader() !== undefined) return undefined;
    return 'no GPU adapter: no Vulkan loader (libvulkan.so.1) on this machine, so Dawn was not loaded';
  },
};
