import { expect } from 'vitest';
import { openDataset } from '../../../formats/dataset.js';

/**
 * Assert that two datasets hold the same records in the same global order: id, label, split and
 * every tensor byte. Shard boundaries may differ (4 array tasks against one process).
 */
export async function expectSameRecords(a: string, b: string): Promise<number> {
  const ra = await openDataset(a), rb = await openDataset(b);
  try {
    expect(ra.count).toBe(rb.count);
    expect(ra.manifest.spec).toEqual(rb.manifest.spec);
    for (let i = 0; i < ra.count; i++) {
      const x = await ra.get(i);
      const metaA = { id: x.id, label: x.label, split: x.split };
      const bytesA = Buffer.from(x.tensor); // borrowed until the next get: copy
      const y = await rb.get(i);
      expect({ id: y.id, label: y.label, split: y.split }, `record ${i}`).toEqual(metaA);
      expect(Buffer.compare(bytesA, Buffer.from(y.tensor)), `tensor of record ${i} (${x.id})`).toBe(0);
    }
    return ra.count;
  } finally {
    await ra.close();
    await rb.close();
  }
}
