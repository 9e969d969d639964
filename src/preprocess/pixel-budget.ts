/**
 * Decode memory bounded by pixels in flight. Counting images bounds nothing when one image can be
 * 16000x16000 (861 MB to decode, progressive) and such files multiply with decode slots; a budget
 * of pixels does: decodes start while the pixels of those running fit the budget, and an image
 * larger than the whole budget runs alone. Peak decode memory is then about
 * max(budget, largest image) x bytes per pixel, whatever the slot count.
 */
import { readJpegHeader } from '../jpeg-header.js';

/** Pixels of an image from its header (JPEG frame header, PNG IHDR); undefined when unknown. */
export function imagePixels(bytes: Uint8Array): number | undefined {
  if (bytes.length >= 24 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return v.getUint32(16) * v.getUint32(20);
  }
  // JPEG: retina's one JPEG/EXIF header reader (orientation may swap the sides, not the count).
  const jpeg = readJpegHeader(bytes);
  return jpeg ? jpeg.width * jpeg.height : undefined;
}

/** A weighted semaphore over pixels, served in request order. */
export class PixelBudget {
  #used = 0;
  #running = 0;
  readonly #waiting: Array<{ n: number; go: () => void }> = [];
  constructor(readonly total: number) {}

  /** Pixels being decoded now (for tests and logs). */
  get used(): number { return this.#used; }

  async acquire(n: number): Promise<void> {
    if (this.#waiting.length === 0 && this.#fits(n)) { this.#take(n); return; }
    await new Promise<void>((go) => this.#waiting.push({ n, go }));
  }

  release(n: number): void {
    this.#used -= n;
    this.#running--;
    while (this.#waiting.length > 0 && this.#fits(this.#waiting[0]!.n)) {
      const next = this.#waiting.shift()!;
      this.#take(next.n);
      next.go();
    }
  }

  #fits(n: number): boolean {
    return this.#running === 0 || this.#used + n <= this.total;
  }

  #take(n: number): void {
    this.#used += n;
    this.#running++;
  }
}
