/**
 * A minimal uncompressed RGB TIFF writer for tests: 16-bit signed and 32-bit float samples, which
 * sharp cannot write. Little-endian, one strip, chunky samples.
 */
export function rgbTiff(width: number, height: number, samples: Int16Array | Float32Array | Uint16Array): Buffer {
  const bits = samples instanceof Float32Array ? 32 : 16;
  const format = samples instanceof Float32Array ? 3 : samples instanceof Int16Array ? 2 : 1; // SampleFormat: 1 uint, 2 int, 3 float
  if (samples.length !== width * height * 3) throw new Error('expected width x height x 3 samples');
  const entries: Array<[tag: number, type: number, count: number, value: number | number[]]> = [];
  const dataBytes = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  // Layout: header (8) | bits-per-sample values (6) | sample-format values (6) | IFD | pixel data.
  const bpsAt = 8, sfAt = 14, ifdAt = 20;
  entries.push([256, 4, 1, width], [257, 4, 1, height], [258, 3, 3, bpsAt], [259, 3, 1, 1], [262, 3, 1, 2]);
  const nEntries = 10;
  const dataAt = ifdAt + 2 + nEntries * 12 + 4;
  entries.push([273, 4, 1, dataAt], [277, 3, 1, 3], [278, 4, 1, height], [279, 4, 1, dataBytes.length], [339, 3, 3, sfAt]);
  const head = Buffer.alloc(dataAt);
  head.write('II', 0, 'latin1');
  head.writeUInt16LE(42, 2);
  head.writeUInt32LE(ifdAt, 4);
  for (let i = 0; i < 3; i++) { head.writeUInt16LE(bits, bpsAt + 2 * i); head.writeUInt16LE(format, sfAt + 2 * i); }
  head.writeUInt16LE(nEntries, ifdAt);
  entries.forEach(([tag, type, count, value], i) => {
    const e = ifdAt + 2 + 12 * i;
    head.writeUInt16LE(tag, e);
    head.writeUInt16LE(type, e + 2);
    head.writeUInt32LE(count, e + 4);
    if (type === 3 && count === 1) head.writeUInt16LE(value as number, e + 8);
    else head.writeUInt32LE(value as number, e + 8);
  });
  head.writeUInt32LE(0, ifdAt + 2 + nEntries * 12);
  return Buffer.concat([head, dataBytes]);
}
