import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { AUTO_ORDER, backendNames, registerBackendProvider, selectBackend } from '../../../src/backends/backend-registry.js';
import type { BackendProvider } from '../../../src/backends/provider.js';

describe('backend selection', () => {
  it('auto picks onnxruntime (frozen forward passes; the head on tfjs wasm) when no native tfjs-node package is installed, saying why', async () => {
    const s = await selectBackend('auto');
    expect(s.name).toBe('onnxruntime');
    expect(s.auto).toBe(true);
    expect(tf.getBackend()).toBe('wasm');
    expect(s.tfjsBackend).toBe('wasm');
    expect(s.skipped[0]?.name).toBe('tensorflow');
    expect(s.skipped[0]?.reason).toMatch(/tfjs-node-gpu.*tfjs-node.*installed/);
  });

  it('names a missing native package in a clear error', async () => {
    await expect(selectBackend('tensorflow')).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/npm install|installed/) });
  });

  it('rejects unknown backends, listing the known ones', async () => {
    await expect(selectBackend('tpu')).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringContaining('wasm') });
  });

  it('takes one more provider (e.g. webgpu) and places it in the auto order', async () => {
    const tried: string[] = [];
    const fake: BackendProvider = {
      name: 'test-gpu', description: 'a provider that is never available', parallelWorkers: false,
      async activate() { tried.push('test-gpu'); throw new Error('no adapter'); },
    };
    registerBackendProvider(fake, { autoBefore: 'wasm' });
    expect(AUTO_ORDER).toEqual(['tensorflow', 'webgpu', 'onnxruntime', 'test-gpu', 'wasm', 'cpu']);
    expect(backendNames()).toContain('test-gpu');
    await selectBackend('cpu');
    AUTO_ORDER.splice(AUTO_ORDER.indexOf('onnxruntime'), 1);
    const s = await selectBackend('auto');
    AUTO_ORDER.splice(AUTO_ORDER.indexOf('test-gpu'), 0, 'onnxruntime');
    expect(s.name).toBe('wasm');
    expect(tried).toEqual(['test-gpu']);
    expect(s.skipped.map((k) => k.name)).toEqual(['tensorflow', 'webgpu', 'test-gpu']); // no GPU adapter here
    AUTO_ORDER.splice(AUTO_ORDER.indexOf('test-gpu'), 1);
  });
});
