/**
 * A 5x7 bitmap font for labels burnt into raster contact sheets and previews. Drawn by hand here
 * rather than through sharp's text/SVG input: that needs fontconfig and installed fonts (absent on
 * a bare CI machine, and different from one machine to the next), and would cost one libvips
 * pipeline per label (thousands per sheet). Lower case is drawn as upper case.
 */

/** Rows top to bottom, 5 bits each (bit 4 = leftmost pixel), two hex digits a row. */
const GLYPHS: Record<string, string> = {
  '0': '0E11131519110E', '1': '040C040404040E', '2': '0E11010204081F', '3': '1F02040201110E',
  '4': '02060A121F0202', '5': '1F101E0101110E', '6': '0608101E11110E', '7': '1F010204080808',
  '8': '0E11110E11110E', '9': '0E11110F01020C',
  A: '0E1111111F1111', B: '1E11111E11111E', C: '0E11101010110E', D: '1C12111111121C',
  E: '1F10101E10101F', F: '1F10101E101010', G: '0E11101711110F', H: '1111111F111111',
  I: '0E04040404040E', J: '0702020202120C', K: '11121418141211', L: '1010101010101F',
  M: '111B1515111111', N: '11111915131111', O: '0E11111111110E', P: '1E11111E101010',
  Q: '0E11111115120D', R: '1E11111E141211', S: '0F10100E01011E', T: '1F040404040404',
  U: '1111111111110E', V: '11111111110A04', W: '1111111515150A', X: '11110A040A1111',
  Y: '1111110A040404', Z: '1F01020408101F',
  ' ': '00000000000000', _: '0000000000001F', '-': '0000001F000000', '.': '00000000000C0C',
  ',': '00000000000C04', ':': '000C0C000C0C00', '/': '00010204081000', '(': '02040808080402',
  ')': '08040202020408', '=': '00001F001F0000', '+': '0004041F040400', '#': '0A0A1F0A1F0A0A',
  '%': '18190204081303', '?': '0E110102040004', '[': '0E08080808080E', ']': '0E02020202020E',
  '|': '04040404040404', '*': '0004150E150400', "'": '04040800000000', '>': '08040201020408',
  '<': '02040810080402',
};

export const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 7;
/** Horizontal advance per character (glyph + 1 px gap). */
export const ADVANCE = 6;
/** Vertical advance per line. */
export const LINE_HEIGHT = 9;

const bits = new Map<string, Uint8Array>(Object.entries(GLYPHS).map(([c, hex]) => [c, Uint8Array.from({ length: GLYPH_HEIGHT }, (_, r) => parseInt(hex.slice(2 * r, 2 * r + 2), 16))]));

function glyph(c: string): Uint8Array {
  return bits.get(c) ?? bits.get(c.toUpperCase()) ?? bits.get('?')!;
}

/** Width in pixels of `text` drawn at `scale`. */
export function textWidth(text: string, scale = 1): number {
  return text.length === 0 ? 0 : (text.length * ADVANCE - 1) * scale;
}

/** An RGB image to draw into: `data` is width x height x 3, row-major. */
export interface RgbCanvas { data: Uint8Array; width: number; height: number }

/**
 * Draw `text` with its top-left corner at (x, y), clipped to the canvas (the pixels outside it are
 * skipped, so a label may run off a narrow tile's edge without harm).
 */
export function drawText(canvas: RgbCanvas, x: number, y: number, text: string, rgb: readonly [number, number, number], scale = 1): void {
  const { data, width, height } = canvas;
  for (let i = 0; i < text.length; i++) {
    const g = glyph(text[i]!);
    const gx = x + i * ADVANCE * scale;
    for (let r = 0; r < GLYPH_HEIGHT; r++) {
      const row = g[r]!;
      if (!row) continue;
      for (let c = 0; c < GLYPH_WIDTH; c++) {
        if (!(row & (0x10 >> c))) continue;
        for (let sy = 0; sy < scale; sy++) {
          const py = y + r * scale + sy;
          if (py < 0 || py >= height) continue;
          for (let sx = 0; sx < scale; sx++) {
            const px = gx + c * scale + sx;
            if (px < 0 || px >= width) continue;
            const o = (py * width + px) * 3;
            data[o] = rgb[0]; data[o + 1] = rgb[1]; data[o + 2] = rgb[2];
          }
        }
      }
    }
  }
}

/** Fill a rectangle (clipped). */
export function fillRect(canvas: RgbCanvas, x: number, y: number, w: number, h: number, rgb: readonly [number, number, number]): void {
  const x0 = Math.max(0, Math.floor(x)), y0 = Math.max(0, Math.floor(y));
  const x1 = Math.min(canvas.width, Math.floor(x + w)), y1 = Math.min(canvas.height, Math.floor(y + h));
  for (let py = y0; py < y1; py++) {
    for (let px = x0; px < x1; px++) {
      const o = (py * canvas.width + px) * 3;
      canvas.data[o] = rgb[0]; canvas.data[o + 1] = rgb[1]; canvas.data[o + 2] = rgb[2];
    }
  }
}
