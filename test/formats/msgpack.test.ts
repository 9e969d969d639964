import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { unpack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardPath } from '../../formats/dataset.js';
import type { TensorSpec } from '../../formats/types.js';
import { tempDir } from '../helpers/cli.js';
import { recordMeta, tensorBytes, writeShard } from '../helpers/tensors.js';

describe('msgpack format', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir('retina-msgpack-')));
  afterAll(() => cleanup());

  it('is a stream of length-prefixed MessagePack records with typed arrays (float) or bin (uint8), at unaligned offsets', async () => {
    const spec: TensorSpec = { dtype: 'float32', shape: [3, 3, 3] };
    await writeShard(dir, 'msgpack', spec, 0, 1, 6);
    const bytes = await readFile(join(shardPath(dir, 0, 1), 'records.msgpack'));
    const table = JSON.parse(await readFile(join(shardPath(dir, 0, 1), 'records.json'), 'utf8')) as { offsets: number[] };
    expect(table.offsets.some((o) => o % 4 !== 0)).toBe(true); // the conformance suite's unaligned case is real here
    let at = 0;
    for (let i = 0; i < 6; i++) {
      const len = bytes.readUInt32LE(at);
      expect(table.offsets[i]).toBe(at + 4);
      const rec = unpack(bytes.subarray(at + 4, at + 4 + len)) as Record<string, unknown>;
      expect({ id: rec.id, label: rec.label, split: rec.split, dtype: rec.dtype, shape: rec.shape }).toEqual({ ...recordMeta(i), dtype: 'float32', shape: [3, 3, 3] });
      expect(rec.tensor).toBeInstanceOf(Float32Array);
      expect(Array.from(rec.tensor as Float32Array)).toEqual(Array.from(new Float32Array(tensorBytes(spec, i).buffer)));
      at += 4 + len;
    }
    expect(at).toBe(bytes.length);
  });

  it('stores uint8 tensors as standard MessagePack bin', async () => {
    const spec: TensorSpec = { dtype: 'uint8', shape: [4, 4, 3] };
    const ds = join(dir, 'u8');
    await writeShard(ds, 'msgpack', spec, 0, 1, 2);
    const bytes = await readFile(join(shardPath(ds, 0, 1), 'records.msgpack'));
    const rec = unpack(bytes.subarray(4, 4 + bytes.readUInt32LE(0))) as { tensor: Uint8Array };
    expect(rec.tensor).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(rec.tensor).equals(Buffer.from(tensorBytes(spec, 0)))).toBe(true);
    // bin 8 marker (0xc4) and the length 48, right before the tensor bytes
    const at = bytes.indexOf(Buffer.from(tensorBytes(spec, 0)));
    expect([bytes[at - 2], bytes[at - 1]]).toEqual([0xc4, 48]);
  });
});
