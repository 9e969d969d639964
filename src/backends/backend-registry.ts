import * as tf from '@tensorflow/tfjs';
import { RetinaError, messageOf } from '../core/errors.js';
import type { BackendProvider } from './provider.js';
import { webgpuProvider } from './webgpu/webgpu-provider.js';
import { onnxruntimeProvider } from './onnxruntime/onnxruntime-provider.js';

/** Import a package that may not be installed, without making it a dependency. */
async function optionalImport(specifier: string): Promise<unknown> {
  return import(specifier);
}

function isMissingModule(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

async function setBackendOrThrow(name: string, hint: string): Promise<void> {
  let ok = false;
  try {
    ok = await tf.setBackend(name);
    await tf.ready();
  } catch (err) {
    throw new RetinaError('EXTERNAL', `The tfjs "${name}" backend failed to start: ${messageOf(err)}`, { hint, cause: err });
  }
  if (!ok || tf.getBackend() !== name) throw new RetinaError('EXTERNAL', `The tfjs "${name}" backend failed to start`, { hint });
}

const tensorflowProvider: BackendProvider = {
  name: 'tensorflow',
  description: 'native TensorFlow through @tensorflow/tfjs-node-gpu (CUDA) or @tensorflow/tfjs-node (CPU), if installed',
  parallelWorkers: false,
  async activate() {
    let loaded: string | undefined;
    for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      try {
        await optionalImport(pkg);
        loaded = pkg;
        break;
      } catch (err) {
        if (!isMissingModule(err)) {
          throw new RetinaError('EXTERNAL', `${pkg} is installed but failed to load: ${messageOf(err)}`, {
            hint: 'Check its native library (libtensorflow, CUDA/cuDNN versions), or use --backend wasm.',
            cause: err,
          });
        }
      }
    }
    if (loaded === undefined) {
      throw new RetinaError('UNSUPPORTED', 'The tensorflow backend needs @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node, and neither is installed', {
        hint: 'npm install @tensorflow/tfjs-node-gpu (CUDA) or @tensorflow/tfjs-node (CPU), or use --backend wasm.',
      });
    }
    if (tf.findBackendFactory('tensorflow') === null) {
      throw new RetinaError('EXTERNAL', `${loaded} loaded but registered no "tensorflow" backend with retina's copy of @tensorflow/tfjs`, {
        hint: `Install the ${loaded} version matching @tensorflow/tfjs ${tf.version_core} so npm shares one tfjs-core.`,
      });
    }
    await setBackendOrThrow('tensorflow', 'Use --backend wasm.');
  },
};

const wasmProvider: BackendProvider = {
  name: 'wasm',
  description: 'WebAssembly with SIMD (@tensorflow/tfjs-backend-wasm), one thread per tfjs instance',
  parallelWorkers: true,
  async activate() {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
    } catch (err) {
      throw new RetinaError('EXTERNAL', `@tensorflow/tfjs-backend-wasm failed to load: ${messageOf(err)}`, {
        hint: 'Reinstall dependencies (npm ci), or use --backend cpu.',
        cause: err,
      });
    }
    const { registerWasmTrainingKernels } = await import('./wasm/wasm-kernels.js');
    registerWasmTrainingKernels();
    await setBackendOrThrow('wasm', 'Use --backend cpu (about 30x slower).');
  },
};

const cpuProvider: BackendProvider = {
  name: 'cpu',
  description: 'pure JavaScript (always available, about 30x slower than wasm)',
  parallelWorkers: true,
  async activate() {
    await setBackendOrThrow('cpu', 'This backend ships with @tensorflow/tfjs; reinstall dependencies.');
  },
};

/**
 * Start the first of the tfjs backends `names` that starts, for a provider (`forWhom`) that runs
 * only part of the work itself; throws with every reason when none does.
 */
export async function activateTfjsFor(forWhom: string, names: string[]): Promise<void> {
  const reasons: string[] = [];
  for (const name of names) {
    try {
      await backendProvider(name).activate();
      return;
    } catch (err) {
      reasons.push(`${name}: ${messageOf(err)}`);
    }
  }
  throw new RetinaError('EXTERNAL', `${forWhom} needs a tfjs backend for the rest of the work and none started (${reasons.join('; ')})`);
}

const providers = new Map<string, BackendProvider>([
  [tensorflowProvider.name, tensorflowProvider],
  [webgpuProvider.name, webgpuProvider],
  [onnxruntimeProvider.name, onnxruntimeProvider],
  [wasmProvider.name, wasmProvider],
  [cpuProvider.name, cpuProvider],
]);

/** The order `--backend auto` tries providers in; the first one that activates wins. */
export const AUTO_ORDER: string[] = ['tensorflow', 'webgpu', 'onnxruntime', 'wasm', 'cpu'];

/**
 * Register (or replace) a backend provider. `autoBefore` puts it into `AUTO_ORDER` before that
 * provider (e.g. `registerBackendProvider(webgpu, { autoBefore: 'wasm' })`); omitted, `auto`
 * never picks it.
 */
export function registerBackendProvider(provider: BackendProvider, opts: { autoBefore?: string } = {}): void {
  providers.set(provider.name, provider);
  const at = AUTO_ORDER.indexOf(provider.name);
  if (at >= 0) AUTO_ORDER.splice(at, 1);
  if (opts.autoBefore !== undefined) {
    const before = AUTO_ORDER.indexOf(opts.autoBefore);
    AUTO_ORDER.splice(before < 0 ? AUTO_ORDER.length : before, 0, provider.name);
  }
}

/** Names accepted by `--backend`: `auto` and every registered provider. */
export function backendNames(): string[] {
  return ['auto', ...providers.keys()];
}

export function backendProvider(name: string): BackendProvider {
  const p = providers.get(name);
  if (!p) throw new RetinaError('BAD_ARGUMENT', `Unknown backend "${name}"; known backends: ${backendNames().join(', ')}`);
  return p;
}

/** What `selectBackend` settled on. */
export interface SelectedBackend {
  name: string;
  provider: BackendProvider;
  /** Why `auto` skipped the providers before this one. */
  skipped: { name: string; reason: string }[];
  /** Chosen by `auto` (so a model ONNX Runtime cannot run falls back to tfjs instead of failing). */
  auto: boolean;
  /** The tfjs backend left active (differs from `name` for onnxruntime, which trains the head on wasm). */
  tfjsBackend: string;
}

/** Selections made so far, by request, so that repeated calls (one per command) are cheap. */
const selected = new Map<string, SelectedBackend>();

/**
 * Make `requested` (or, for `auto`, the first provider in AUTO_ORDER that starts) tfjs' active
 * backend. Anything tfjs prints while loading (its "looks like you are running TensorFlow.js in
 * Node.js" banner) is sent to stderr, so that `--json` output on stdout stays parseable.
 * Idempotent for the same request.
 */
export async function selectBackend(requested = 'auto'): Promise<SelectedBackend> {
  const before = selected.get(requested);
  if (before && tf.getBackend() === before.tfjsBackend) return before;
  const restore = console.log;
  console.log = (...args: unknown[]) => console.error(...args);
  try {
    if (requested !== 'auto') {
      const provider = backendProvider(requested);
      await provider.activate();
      const s: SelectedBackend = { name: provider.name, provider, skipped: [], auto: false, tfjsBackend: tf.getBackend() };
      selected.set(requested, s);
      return s;
    }
    const skipped: { name: string; reason: string }[] = [];
    for (const name of AUTO_ORDER) {
      const provider = providers.get(name);
      if (!provider) continue;
      const skip = provider.autoSkipReason?.();
      if (skip !== undefined) {
        skipped.push({ name, reason: skip });
        continue;
      }
      try {
        await provider.activate();
        const s: SelectedBackend = { name, provider, skipped, auto: true, tfjsBackend: tf.getBackend() };
        selected.set(requested, s);
        return s;
      } catch (err) {
        skipped.push({ name, reason: messageOf(err) });
      }
    }
    throw new RetinaError('EXTERNAL', `No tfjs backend could start: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
  } finally {
    console.log = restore;
  }
}
