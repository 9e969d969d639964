/**
 * Lazy WebGPU backend for tfjs in Node: Dawn (the optional `webgpu` package) over Vulkan, so tfjs
 * runs on any Vulkan-capable GPU with no CUDA version lock-in. Nothing here loads until
 * `initWebGpu()` is called; without the packages or without an adapter it throws a RetinaError
 * (UNSUPPORTED) naming what is missing and how to fall back.
 */
import * as tf from '@tensorflow/tfjs';
import { RetinaError, messageOf } from '../../core/errors.js';
import { registerFastConvGradients, type FastConvOptions } from './fast-conv-kernels.js';
import { registerFastReductions } from './fast-reductions.js';
import { diagnoseVulkan } from './vulkan-diagnosis.js';

/** What `initWebGpu` found. */
export interface WebGpuInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** The convolution-gradient kernels in use. */
  kernels: Required<Pick<FastConvOptions, 'filter'>> & { input: InputGradChoice; fastReductions: boolean };
}

/** `stock`: tfjs-webgpu's default (naive) shader; `mm`: its tiled matmul shader; `conv`: ours. */
export type InputGradChoice = 'stock' | 'mm' | 'conv';

export interface WebGpuOptions {
  /** Filter-gradient kernel (default `auto`; env RETINA_WEBGPU_FILTER_GRAD). */
  filterGrad?: NonNullable<FastConvOptions['filter']>;
  /** Input-gradient kernel (default `mm`; env RETINA_WEBGPU_INPUT_GRAD). */
  inputGrad?: InputGradChoice;
  /**
   * Sum/Mean over leading axes (batch-norm statistics) as batched matMuls. Off by default (env
   * RETINA_WEBGPU_FAST_REDUCE=1): on an H100 it did not shorten a training step, and on the device
   * one BN offset gradient differed from the stock kernels' by 3.5% relative L2 (a sum that nearly
   * cancels, so both orders are inexact; see BENCHMARKS.md, "GPU").
   */
  fastReductions?: boolean;
  powerPreference?: 'high-performance' | 'low-power';
}

const FALLBACK_HINT = 'Use --backend wasm (or --backend auto, which falls back to wasm by itself).';
const INSTALL_HINT = 'npm install webgpu@0.6.2 @tensorflow/tfjs-backend-webgpu@4.22.0 (optional dependencies of retina), or ' + FALLBACK_HINT;

interface DawnModule {
  create: (flags: string[]) => unknown;
  globals: Record<string, unknown>;
}

function isDawnModule(m: unknown): m is DawnModule {
  const r = m as Partial<DawnModule> | null;
  return typeof r?.create === 'function' && typeof r.globals === 'object' && r.globals !== null;
}

interface AdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string };
}

interface GpuLike {
  requestAdapter(opts?: { powerPreference?: string }): Promise<AdapterLike | null>;
}

function isMissingModule(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/** Import an optional package by a computed name, so TypeScript and bundlers do not require it. */
async function optionalImport(specifier: string): Promise<unknown> {
  try {
    return await import(specifier);
  } catch (err) {
    if (isMissingModule(err)) {
      throw new RetinaError('UNSUPPORTED', `The webgpu backend needs the optional package ${specifier}, which is not installed`, { hint: INSTALL_HINT, cause: err });
    }
    throw new RetinaError('EXTERNAL', `${specifier} failed to load: ${messageOf(err)}`, { hint: `Dawn ships prebuilt for linux-x64/arm64, macOS and Windows only. ${FALLBACK_HINT}`, cause: err });
  }
}

/** Makes `navigator.gpu` (Dawn's GPU object) and the WebGPU classes global, as tfjs-webgpu expects. */
function installNavigatorGpu(dawn: DawnModule): GpuLike {
  const g = globalThis as Record<string, unknown>;
  for (const [k, v] of Object.entries(dawn.globals)) if (!(k in g)) g[k] = v;
  const nav = g['navigator'] as { gpu?: unknown } | undefined;
  if (nav?.gpu !== undefined) return nav.gpu as GpuLike;
  const gpu = dawn.create([]) as GpuLike;
  if (nav === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  } else {
    Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, writable: true });
  }
  return gpu;
}

function filterChoice(v: string | undefined): NonNullable<FastConvOptions['filter']> | undefined {
  if (v === undefined || v === '') return undefined;
  if (v === 'stock' || v === 'auto' || v === 'im2col' || v === 'taps') return v;
  throw new RetinaError('BAD_ARGUMENT', `Expected stock, auto, im2col or taps for RETINA_WEBGPU_FILTER_GRAD but received ${JSON.stringify(v)}`);
}

function inputChoice(v: string | undefined): InputGradChoice | undefined {
  if (v === undefined || v === '') return undefined;
  if (v === 'stock' || v === 'mm' || v === 'conv') return v;
  throw new RetinaError('BAD_ARGUMENT', `Expected stock, mm or conv for RETINA_WEBGPU_INPUT_GRAD but received ${JSON.stringify(v)}`);
}

let initialised: WebGpuInfo | undefined;
let restoreKernels: (() => void) | undefined;

/**
 * Load Dawn and tfjs-webgpu, find a GPU adapter, make `webgpu` tfjs' active backend and register
 * the fast convolution-gradient kernels. Idempotent; a second call re-applies kernel choices.
 *
 * @throws RetinaError UNSUPPORTED when the packages are missing or no adapter is found (the
 *   message lists what is missing: Vulkan loader, the NVIDIA driver's ICD, libglvnd).
 */
export async function initWebGpu(options: WebGpuOptions = {}): Promise<WebGpuInfo> {
  const filter = options.filterGrad ?? filterChoice(process.env['RETINA_WEBGPU_FILTER_GRAD']) ?? 'auto';
  const input = options.inputGrad ?? inputChoice(process.env['RETINA_WEBGPU_INPUT_GRAD']) ?? 'mm';
  const fastReductions = options.fastReductions ?? process.env['RETINA_WEBGPU_FAST_REDUCE'] === '1';

  if (initialised === undefined) {
    const dawn = await optionalImport('webgpu');
    if (!isDawnModule(dawn)) throw new RetinaError('EXTERNAL', 'The webgpu package does not export create() and globals', { hint: INSTALL_HINT });
    const gpu = installNavigatorGpu(dawn);
    const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
    if (adapter === null) {
      const { findings, suggestedDriverFiles } = diagnoseVulkan();
      throw new RetinaError('UNSUPPORTED', `WebGPU found no GPU adapter: ${findings.join('; ')}`, {
        hint: (suggestedDriverFiles ? `export VK_DRIVER_FILES=${suggestedDriverFiles} and retry, or ` : '') + FALLBACK_HINT,
      });
    }
    await optionalImport('@tensorflow/tfjs-backend-webgpu');
    let ok = false;
    try {
      ok = await tf.setBackend('webgpu');
      await tf.ready();
    } catch (err) {
      throw new RetinaError('EXTERNAL', `The tfjs webgpu backend failed to start: ${messageOf(err)}`, { hint: FALLBACK_HINT, cause: err });
    }
    if (!ok || tf.getBackend() !== 'webgpu') throw new RetinaError('EXTERNAL', 'The tfjs webgpu backend failed to start', { hint: FALLBACK_HINT });
    const info = adapter.info ?? {};
    initialised = {
      vendor: info.vendor ?? '', architecture: info.architecture ?? '', device: info.device ?? '', description: info.description ?? '',
      kernels: { filter, input, fastReductions },
    };
  } else if (tf.getBackend() !== 'webgpu') {
    await tf.setBackend('webgpu');
  }
  restoreKernels?.();
  // tfjs-webgpu ships a tiled-matmul input-gradient shader but defaults to a naive one.
  tf.env().set('WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE', input === 'stock');
  const restoreConv = registerFastConvGradients('webgpu', { filter, input: input === 'conv' ? 'conv' : 'stock' });
  const restoreReduce = fastReductions ? registerFastReductions('webgpu') : () => {};
  restoreKernels = () => {
    restoreReduce();
    restoreConv();
  };
  initialised = { ...initialised, kernels: { filter, input, fastReductions } };
  return initialised;
}
