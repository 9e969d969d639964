import type { FileHandle } from 'node:fs/promises';
import type { ShardStaging } from './shard-staging.js';
import type { RecordMeta, ShardManifest, ShardWriter } from './types.js';

/**
 * A writer whose shard data is one file in the staging folder (raw, msgpack). Calls run one at a
 * time in call order (`staging.serial`), so records land in append order even when a caller does
 * not await each append; close fsyncs the file before the staging commit renames the shard into
 * place, and abort leaves nothing behind.
 */
export abstract class SingleFileWriter implements ShardWriter {
  constructor(protected readonly staging: ShardStaging, protected readonly fh: FileHandle) {}

  append(meta: RecordMeta, tensor: Uint8Array): Promise<void> {
    return this.staging.serial(async () => {
      this.staging.admit(meta, tensor);
      await this.write(meta, tensor);
    });
  }

  close(): Promise<ShardManifest> {
    return this.staging.serial(async () => {
      this.staging.assertOpen();
      await this.finish();
      await this.fh.sync();
      await this.fh.close();
      return this.staging.commit();
    });
  }

  abort(): Promise<void> {
    return this.staging.serial(async () => {
      await this.fh.close().catch(() => undefined);
      await this.staging.abort();
    });
  }

  /** Write one admitted record and add it to the staging record table. */
  protected abstract write(meta: RecordMeta, tensor: Uint8Array): Promise<void>;

  /** Last bytes before the file is synced (e.g. a header that needs the record count). */
  protected async finish(): Promise<void> {}
}
