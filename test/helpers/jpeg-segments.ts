/**
 * Rearranging a JPEG's header segments, for tests of files real cameras and tools write.
 */

interface Segment { marker: number; bytes: Uint8Array }

/** The marker segments of `jpeg` before its scan, and where the scan starts. */
function headerSegments(jpeg: Uint8Array): { segments: Segment[]; scanAt: number } {
  const segments: Segment[] = [];
  let p = 2;
  for (;;) {
    if (jpeg[p] !== 0xff) throw new Error(`not a marker at ${p}`);
    const marker = jpeg[p + 1]!;
    if (marker === 0xda) return { segments, scanAt: p };
    const length = (jpeg[p + 2]! << 8) | jpeg[p + 3]!;
    segments.push({ marker, bytes: jpeg.subarray(p, p + 2 + length) });
    p += 2 + length;
  }
}

/**
 * The same JPEG with its APP1 (EXIF) segment moved after the start-of-frame header: still valid
 * (JFIF does not fix the order; libjpeg keeps every marker before the scan).
 */
export function appAfterFrame(jpeg: Uint8Array): Uint8Array {
  const { segments, scanAt } = headerSegments(jpeg);
  const app1 = segments.filter((s) => s.marker === 0xe1);
  if (!app1.length) throw new Error('no APP1 segment to move');
  const rest = segments.filter((s) => s.marker !== 0xe1);
  const sof = rest.findIndex((s) => s.marker >= 0xc0 && s.marker <= 0xcf && s.marker !== 0xc4 && s.marker !== 0xc8 && s.marker !== 0xcc);
  if (sof < 0) throw new Error('no frame header');
  const order = [...rest.slice(0, sof + 1), ...app1, ...rest.slice(sof + 1)];
  return Buffer.concat([jpeg.subarray(0, 2), ...order.map((s) => s.bytes), jpeg.subarray(scanAt)]);
}
