/**
 * What a third-party format is built from: the crash-safe shard staging, the record table and the
 * reader checks every built-in format uses. A plugin's `retina:register` hook receives
 * `api()` (this module, loaded only when the format is), so a plugin depends on no file path of
 * retina's. See README, "Plugins".
 */
export { xxh64Of } from '../src/core/checksum.js';
export { RetinaError } from '../src/core/errors.js';
export { checkFileSizes, checkIndex, checkTarget, corruptRecord, openRecordTable } from './shard-files.js';
export { ShardStaging } from './shard-staging.js';
export { byteLength } from './types.js';
export type { RecordMeta, ShardManifest, ShardReader, ShardWriter, TensorFormat, WriterOptions } from './types.js';
