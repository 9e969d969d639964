/**
 * Just enough of the WebAssembly binary format to build small SIMD kernels in code: retina's
 * kernels are a few hundred bytes each, so they are assembled here at load time rather than
 * shipped as opaque .wasm files or built by another toolchain.
 */

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** Signed LEB128 of a 32-bit integer (for `i32.const`). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** A SIMD instruction: the 0xfd prefix and its opcode as LEB128. */
export const simd = (op: number): number[] => [0xfd, ...uleb(op)];

/** A length-prefixed name. */
export const name = (s: string): number[] => [s.length, ...Buffer.from(s, 'latin1')];

const section = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes];

/** One function of a module: its signature (all i32/f32 parameters, no results), locals and body. */
export interface WasmFunction {
  name: string;
  /** Parameter value types: 0x7f i32, 0x7d f32. */
  params: number[];
  /** Local declarations as [count, type] (type 0x7f i32, 0x7b v128). */
  locals: Array<[number, number]>;
  /** Instructions, without the final `end`. */
  body: number[];
}

/** A module importing its memory as `env.mem` and exporting `functions` by name. */
export function assembleModule(functions: WasmFunction[]): Uint8Array {
  const types = functions.flatMap((f) => [0x60, f.params.length, ...f.params, 0]);
  const bodies = functions.map((f) => {
    const code = [...uleb(f.locals.length), ...f.locals.flatMap(([n, t]) => [...uleb(n), t]), ...f.body, 0x0b];
    return [...uleb(code.length), ...code];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [functions.length, ...types]),
    ...section(2, [1, ...name('env'), ...name('mem'), 0x02, 0x00, 1]), // memory env.mem, min 1 page, no maximum
    ...section(3, [functions.length, ...functions.map((_, i) => i)]),
    ...section(7, [functions.length, ...functions.flatMap((f, i) => [...name(f.name), 0x00, i])]),
    ...section(10, [functions.length, ...bodies.flat()]),
  ]);
}

/**
 * The few WebAssembly APIs used here. tsconfig's lib (ES2023, no DOM) does not declare the
 * WebAssembly namespace, though Node provides it; declare just what is called.
 */
export interface WasmModule { readonly __wasmModule?: never }
export interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Memory: new (d: { initial: number; maximum?: number }) => WasmMemory;
  Instance: new (m: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
}
export const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Compile `bytes`, or null where the engine refuses them (no SIMD): callers fall back to JS. */
export function compileOrNull(bytes: Uint8Array): WasmModule | null {
  try {
    return new Wasm.Module(bytes);
  } catch {
    return null;
  }
}
