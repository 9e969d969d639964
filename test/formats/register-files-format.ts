/**
 * Preloaded with `NODE_OPTIONS="--import tsx --import <this file>"` by the CLI test: registers the
 * example third-party format in the registry instance the compiled CLI uses (dist/).
 */
// @ts-expect-error: dist/ is compiled JavaScript without declarations
import { registerFormat } from '../../dist/formats/format-registry.js';

(registerFormat as (name: string, load: () => Promise<unknown>) => void)('files', async () => (await import('./files-format.js')).filesFormat);
