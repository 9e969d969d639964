/**
 * ONNX Runtime (the optional `onnxruntime-node` package), loaded on first use only: `--help`, the
 * quick start and every tfjs path never load its 45 MB native library. The module to load is
 * `onnxruntime-node`, or `$RETINA_ONNXRUNTIME_MODULE` (a package name or a path): a site build of
 * ONNX Runtime, or, in tests, a path that does not exist, which is how a load failure is simulated
 * through the real code path.
 */
import { RetinaError, messageOf } from '../../core/errors.js';

/**
 * The part of onnxruntime-node's API retina uses, declared here so that retina type-checks and
 * builds where the optional package is not installed.
 */
export interface OrtTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
  dispose?(): void;
}
export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
export interface OrtSessionOptions {
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  executionProviders?: readonly string[];
  extra?: Record<string, unknown>;
}
export interface OrtModule {
  InferenceSession: { create(model: string | Uint8Array, options?: OrtSessionOptions): Promise<OrtSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
  env: { versions: Record<string, string | undefined> };
}

export const ORT_MODULE_ENV = 'RETINA_ONNXRUNTIME_MODULE';
/**
 * Execution providers for retina's sessions, in order of preference (comma-separated, e.g.
 * `cuda,cpu` on a node where onnxruntime-node's install script fetched the CUDA EP, or `webgpu,cpu`
 * where Vulkan reaches a GPU); default `cpu`.
 */
export const ORT_PROVIDERS_ENV = 'RETINA_ORT_EXECUTION_PROVIDERS';

/** The execution providers `createSession` asks for, from `$RETINA_ORT_EXECUTION_PROVIDERS`. */
export function ortProviders(env: NodeJS.ProcessEnv = process.env): string[] {
  const list = (env[ORT_PROVIDERS_ENV] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return list.length > 0 ? list : ['cpu'];
}

let loaded: Promise<OrtModule> | undefined;

/** The module specifier the loader imports. */
export function ortModuleName(env: NodeJS.ProcessEnv = process.env): string {
  return env[ORT_MODULE_ENV] || 'onnxruntime-node';
}

/** Import a module that may be missing, without making it a static dependency. */
async function optionalImport(specifier: string): Promise<unknown> {
  return import(specifier);
}

/**
 * Load ONNX Runtime once per thread. Rejects with a RetinaError (EXTERNAL, or UNSUPPORTED when the
 * package is not installed) whose message is the reason: what `--backend auto` logs when it skips
 * the provider, and what an explicit `--backend onnxruntime` fails with.
 */
export function loadOrt(): Promise<OrtModule> {
  loaded ??= (async () => {
    const name = ortModuleName();
    let mod: unknown;
    try {
      mod = await optionalImport(name);
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
      throw new RetinaError(missing ? 'UNSUPPORTED' : 'EXTERNAL', `ONNX Runtime (${name}) ${missing ? 'is not installed' : 'failed to load'}: ${messageOf(err)}`, {
        hint: missing
          ? 'npm install onnxruntime-node (optional dependency; no binary for this platform?), or use --backend wasm.'
          : 'Its native library may not fit this platform (glibc, CPU); use --backend wasm.',
        cause: err,
      });
    }
    const m = ((mod as { default?: unknown }).default ?? mod) as Partial<OrtModule>;
    if (typeof m.InferenceSession?.create !== 'function' || typeof m.Tensor !== 'function') {
      throw new RetinaError('EXTERNAL', `${name} loaded but is not ONNX Runtime's Node API (no InferenceSession.create)`, {
        hint: `Unset ${ORT_MODULE_ENV}, or point it at onnxruntime-node.`,
      });
    }
    return m as OrtModule;
  })();
  // A failed load is retried on the next call (e.g. after the user fixed the environment).
  loaded.catch(() => { loaded = undefined; });
  return loaded;
}

/** Session options retina uses: one execution provider, `threads` intra-op threads, full graph optimisation. */
export interface SessionOptions {
  threads: number;
  /** Execution providers in order of preference (default: `$RETINA_ORT_EXECUTION_PROVIDERS`, else cpu). */
  providers?: string[];
}

/** An inference session over an .onnx file or bytes. */
export async function createSession(model: string | Uint8Array, o: SessionOptions): Promise<OrtSession> {
  const ort = await loadOrt();
  const options: OrtSessionOptions = {
    intraOpNumThreads: o.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionProviders: o.providers ?? ortProviders(),
    // Without spinning, idle intra-op threads do not burn the CPU the decoders and the head need.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
  try {
    return await ort.InferenceSession.create(model, options);
  } catch (err) {
    throw new RetinaError('EXTERNAL', `ONNX Runtime could not open the model${typeof model === 'string' ? ` ${model}` : ''}: ${messageOf(err)}`, {
      ...(typeof model === 'string' ? { location: { file: model } } : {}),
      hint: `Execution providers asked for: ${(o.providers ?? ortProviders()).join(', ')} (${ORT_PROVIDERS_ENV}); unset it for the CPU, delete a damaged cached graph to rebuild it, or use --backend wasm.`,
      cause: err,
    });
  }
}

/** Run `session` on [n,h,w,c] float32 images; returns its single output's data. */
export async function runSession(session: OrtSession, x: Float32Array, shape: readonly number[]): Promise<Float32Array> {
  const ort = await loadOrt();
  const input = new ort.Tensor('float32', x, shape);
  const out = await session.run({ [session.inputNames[0]!]: input });
  const y = out[session.outputNames[0]!]!;
  const data = y.data as Float32Array;
  y.dispose?.();
  return data;
}
