/**
 * retina's one JPEG/EXIF header reader: the stored pixel size and the EXIF orientation of a JPEG,
 * read in JS from the marker segments before the scan. Every path that decodes images
 * (`retina preprocess`, `train --source images`, `predict`) goes through `decodeWorking`, which
 * asks this reader, so they cannot disagree about a file.
 *
 * Why not libvips' `metadata()`: it costs a second header parse (~0.2 ms per image, ~1 % of
 * decoding a Kaggle original). Why every segment up to the scan: an APP1 (EXIF) segment may come
 * after the frame header; stopping at the frame header would miss the orientation (a real
 * camera-export case that once stretched retinas into ovals).
 */

/** What the header says: the stored (not oriented) size and the EXIF orientation, 1-8. */
export interface JpegHeader {
  width: number;
  height: number;
  /** EXIF orientation tag (1 when absent or invalid). */
  orientation: number;
}

/** Start-of-frame markers (baseline, extended, progressive, lossless; Huffman or arithmetic). */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/**
 * The header of `bytes` when it is a JPEG whose segments up to the scan are well formed;
 * `undefined` otherwise (not a JPEG, truncated before the scan, no frame header, zero size): the
 * caller then lets libvips read it, and libvips reports what is wrong.
 */
export function readJpegHeader(bytes: Uint8Array): JpegHeader | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8 || bytes[2] !== 0xff) return undefined;
  let size: { width: number; height: number } | undefined;
  let orientation = 1;
  let p = 2;
  while (p + 4 <= bytes.length) {
    if (bytes[p] !== 0xff) return undefined;
    const marker = bytes[p + 1]!;
    // Fill bytes (0xff padding) before a marker.
    if (marker === 0xff) { p++; continue; }
    // Markers without a length: none expected before the scan, so give up.
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) return undefined;
    const length = (bytes[p + 2]! << 8) | bytes[p + 3]!;
    if (length < 2 || p + 2 + length > bytes.length) return undefined;
    // Start of scan: every header segment has been seen.
    if (marker === 0xda) return size && size.width > 0 && size.height > 0 ? { ...size, orientation } : undefined;
    if (isStartOfFrame(marker)) {
      if (length < 7) return undefined;
      size = { height: (bytes[p + 5]! << 8) | bytes[p + 6]!, width: (bytes[p + 7]! << 8) | bytes[p + 8]! };
    } else if (marker === 0xe1) {
      const o = exifOrientation(bytes.subarray(p + 4, p + 2 + length));
      if (o !== undefined) orientation = o;
    }
    p += 2 + length;
  }
  return undefined;
}

/** The orientation tag (0x0112) of IFD0 in an APP1 payload starting "Exif\0\0"; undefined when absent or invalid. */
export function exifOrientation(app1: Uint8Array): number | undefined {
  if (app1.length < 14 || app1[0] !== 0x45 || app1[1] !== 0x78 || app1[2] !== 0x69 || app1[3] !== 0x66 || app1[4] !== 0 || app1[5] !== 0) return undefined;
  const tiff = app1.subarray(6);
  const little = tiff[0] === 0x49 && tiff[1] === 0x49;
  if (!little && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return undefined;
  const u16 = (o: number) => (little ? tiff[o]! | (tiff[o + 1]! << 8) : (tiff[o]! << 8) | tiff[o + 1]!);
  const u32 = (o: number) => (little ? u16(o) + u16(o + 2) * 65536 : u16(o) * 65536 + u16(o + 2));
  if (u16(2) !== 42) return undefined;
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return undefined;
  const n = u16(ifd);
  for (let i = 0; i < n; i++) {
    const e = ifd + 2 + 12 * i;
    if (e + 12 > tiff.length) return undefined;
    // Tag 0x0112, type SHORT (3), count 1: the value sits in the entry's first two value bytes.
    if (u16(e) === 0x0112) {
      const v = u16(e + 8);
      return u16(e + 2) === 3 && v >= 1 && v <= 8 ? v : undefined;
    }
  }
  return undefined;
}
