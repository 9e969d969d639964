/**
 * One way of running tfjs. Providers are tried lazily: nothing heavy (native addons, wasm
 * binaries, GPU adapters) loads until a provider is actually asked for. A new backend (e.g.
 * `webgpu`) is one more `registerBackendProvider()` call in `backend-registry.ts`, plus a place in
 * `AUTO_ORDER`. This file imports nothing, so a provider and the registry do not import each other.
 */
export interface BackendProvider {
  /** The name users pass to `--backend`. */
  readonly name: string;
  /** One line for `--help` and errors. */
  readonly description: string;
  /**
   * Whether several tfjs instances in worker threads multiply throughput. True for single-threaded
   * backends (wasm in Node, cpu); false for backends that already use every core or one device.
   */
  readonly parallelWorkers: boolean;
  /** Forward batch for in-process feature extraction (default 8; a GPU wants more). */
  readonly featureBatchSize?: number;
  /**
   * Load the backend's packages and make it tfjs' active backend. Throw a RetinaError saying what
   * is missing when it is not available (a package not installed, no device).
   */
  activate(): Promise<void>;
  /**
   * For `--backend auto` only: a cheap check run before `activate`; a string is the reason to skip
   * this provider without loading it (e.g. no GPU driver stack, so no native library is loaded and
   * nothing it prints reaches the user). An explicit `--backend` always activates, to report fully.
   */
  autoSkipReason?(): string | undefined;
  /**
   * Set when frozen forward passes run outside tfjs (`onnxruntime`: an ONNX graph built from the
   * tfjs model); tfjs then only trains the head, on the backend `activate` started.
   */
  readonly frozenForward?: 'onnxruntime';
}
