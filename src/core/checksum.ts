import { open } from 'node:fs/promises';
import { Xxh64, xxh64 } from '@node-rs/xxhash';

/**
 * xxh64 checksums (seed 0) as used by every retina manifest: records and shard files carry the
 * digest as 16 lower-case hex digits. xxh64 runs at memory speed (~24 GB/s), so readers can afford
 * to check every record on every read.
 */

/** xxh64 of `bytes` as a bigint (the cheap form for comparisons in hot loops). */
export function xxh64Of(bytes: Uint8Array): bigint {
  return xxh64(bytes);
}

/** xxh64 of `bytes` as 16 lower-case hex digits. */
export function xxh64Hex(bytes: Uint8Array): string {
  return hexOf(xxh64(bytes));
}

/** Format a 64-bit digest as 16 lower-case hex digits. */
export function hexOf(digest: bigint): string {
  return digest.toString(16).padStart(16, '0');
}

const HEX16 = /^[0-9a-f]{16}$/;

/** True when `value` is a digest in the manifest form (16 lower-case hex digits). */
export function isXxh64Hex(value: unknown): value is string {
  return typeof value === 'string' && HEX16.test(value);
}

/** Parse 16 hex digits back into a bigint digest. */
export function parseXxh64Hex(hex: string): bigint {
  return BigInt(`0x${hex}`);
}

/** Streaming xxh64 of a whole file, read in `chunkBytes` pieces (memory stays bounded). */
export async function xxh64File(path: string, chunkBytes = 4 << 20): Promise<{ xxh64: string; bytes: number }> {
  const fh = await open(path, 'r');
  try {
    const hasher = new Xxh64();
    const buf = new Uint8Array(chunkBytes);
    let total = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, total);
      if (bytesRead === 0) break;
      hasher.update(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
      total += bytesRead;
    }
    return { xxh64: hexOf(hasher.digest()), bytes: total };
  } finally {
    await fh.close();
  }
}
