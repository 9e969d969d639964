import type { Hook } from '@oclif/core';
import type { BackendProvider } from '../../src/backends/provider.js';
import type { TensorFormat } from '../../formats/types.js';

/**
 * What retina hands a plugin's `retina:register` hook (declare it in the plugin's package.json:
 * `"oclif": {"hooks": {"retina:register": "./hook.js"}}`). Registration is lazy: a format is a
 * loader run on first use, and `api()` loads retina's format building blocks only then, so
 * `--help` stays light whatever plugins are installed.
 */
export interface RetinaRegisterOptions {
  registerFormat(name: string, load: () => Promise<TensorFormat>): void;
  registerBackend(provider: BackendProvider, opts?: { autoBefore?: string }): Promise<void>;
  api(): Promise<typeof import('../../formats/plugin-api.js')>;
}

/**
 * oclif `init` hook: before any command (and before `--help`), every installed or linked plugin
 * that declares `retina:register` contributes its formats and backends to the registries this
 * process uses.
 */
const hook: Hook<'init'> = async function () {
  const { registerFormat } = await import('../../formats/format-registry.js');
  const options: RetinaRegisterOptions = {
    registerFormat,
    registerBackend: async (provider, opts) => (await import('../../src/backends/backend-registry.js')).registerBackendProvider(provider, opts),
    api: () => import('../../formats/plugin-api.js'),
  };
  const result = await this.config.runHook('retina:register' as never, options as never);
  for (const failure of result.failures) {
    process.stderr.write(`warn: plugin ${failure.plugin.name} failed to register: ${failure.error.message}\n`);
  }
};

export default hook;
