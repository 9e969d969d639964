import sharp from 'sharp';

/**
 * Fraction of retina pixels that stand out from their neighbourhood, measured on the decoded JPEG
 * (not on generator internals): a pixel counts when some channel differs from a blurred copy by
 * more than 30 % of the local brightness. Only the inner field of view is scored (blurred red
 * above 60 % of its 95th percentile), which leaves out the black surround, the rim and the optic
 * disc's glare; relative contrast keeps dark and bright exposures comparable.
 */
export async function lesionFraction(file: string, width = 600): Promise<number> {
  const base = sharp(file).resize({ width });
  const { data, info } = await base.clone().raw().toBuffer({ resolveWithObject: true });
  const { data: blur } = await base.clone().blur(width / 50).raw().toBuffer({ resolveWithObject: true });
  const n = info.width * info.height;
  const reds = new Uint8Array(n);
  for (let p = 0; p < n; p++) reds[p] = blur[p * info.channels]!;
  const p95 = [...reds].sort((a, b) => a - b)[Math.floor(n * 0.95)]!;
  let inside = 0, outlier = 0;
  for (let p = 0; p < n; p++) {
    const o = p * info.channels;
    if (blur[o]! < 0.6 * p95 || blur[o + 1]! > 0.8 * blur[o]!) continue;
    inside++;
    let d = 0;
    for (let c = 0; c < 2; c++) d = Math.max(d, Math.abs(data[o + c]! - blur[o + c]!) / Math.max(16, blur[o + c]!));
    if (d > 0.3) outlier++;
  }
  return outlier / Math.max(1, inside);
}
