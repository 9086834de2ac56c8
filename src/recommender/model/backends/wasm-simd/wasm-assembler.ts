/**
 * A minimal WebAssembly binary writer: just what the SIMD kernels in this folder use (i32/f32
 * scalars, v128 f32x4 arithmetic, loads/stores, structured loops). Kernels are assembled at load
 * time from TypeScript, so the project needs no compiler toolchain and ships no opaque binary;
 * the instruction names follow the WebAssembly text format so the code reads like WAT.
 *
 * Encodings: WebAssembly core spec §5 (binary format) and the SIMD proposal's BinarySIMD.md
 * (prefix 0xFD, then the SIMD opcode as unsigned LEB128).
 */

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
export type ValueType = typeof I32 | typeof F32 | typeof V128;

export interface FunctionDefinition {
  name: string;
  params: ValueType[];
  results: ValueType[];
  /** Extra locals, numbered after the params. */
  locals: ValueType[];
  body: Code;
}

function unsignedLeb(value: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return bytes;
}

function signedLeb(value: number): number[] {
  const bytes: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}

function name(text: string): number[] {
  const bytes = [...Buffer.from(text, 'utf8')];
  return [...unsignedLeb(bytes.length), ...bytes];
}

function vector(items: number[][]): number[] {
  return [...unsignedLeb(items.length), ...items.flat()];
}

function section(id: number, content: number[]): number[] {
  return [id, ...unsignedLeb(content.length), ...content];
}

/** Memory access alignment hints (log2 bytes): rows are only 4-byte aligned. */
const ALIGN_4 = 2;

/** Instruction stream of one function body. Each method appends one instruction. */
export class Code {
  readonly bytes: number[] = [];

  private op(...bytes: number[]): this {
    this.bytes.push(...bytes);
    return this;
  }

  private simd(opcode: number, ...immediates: number[]): this {
    return this.op(0xfd, ...unsignedLeb(opcode), ...immediates);
  }

  // Control
  block(): this {
    return this.op(0x02, 0x40);
  }
  loop(): this {
    return this.op(0x03, 0x40);
  }
  if(): this {
    return this.op(0x04, 0x40);
  }
  end(): this {
    return this.op(0x0b);
  }
  brIf(depth: number): this {
    return this.op(0x0d, ...unsignedLeb(depth));
  }

  // Locals
  get(index: number): this {
    return this.op(0x20, ...unsignedLeb(index));
  }
  set(index: number): this {
    return this.op(0x21, ...unsignedLeb(index));
  }
  tee(index: number): this {
    return this.op(0x22, ...unsignedLeb(index));
  }

  // i32
  i32(value: number): this {
    return this.op(0x41, ...signedLeb(value | 0));
  }
  i32Load(offset = 0): this {
    return this.op(0x28, ALIGN_4, ...unsignedLeb(offset));
  }
  i32Add(): this {
    return this.op(0x6a);
  }
  i32Shl(): this {
    return this.op(0x74);
  }
  i32LtS(): this {
    return this.op(0x48);
  }
  i32Eqz(): this {
    return this.op(0x45);
  }
  i32Or(): this {
    return this.op(0x72);
  }

  // f32
  f32(value: number): this {
    const bytes = Buffer.alloc(4);
    bytes.writeFloatLE(value);
    return this.op(0x43, ...bytes);
  }
  f32Load(offset = 0): this {
    return this.op(0x2a, ALIGN_4, ...unsignedLeb(offset));
  }
  f32Store(offset = 0): this {
    return this.op(0x38, ALIGN_4, ...unsignedLeb(offset));
  }
  f32Ne(): this {
    return this.op(0x5c);
  }
  f32Sqrt(): this {
    return this.op(0x91);
  }
  f32Add(): this {
    return this.op(0x92);
  }
  f32Sub(): this {
    return this.op(0x93);
  }
  f32Mul(): this {
    return this.op(0x94);
  }
  f32Div(): this {
    return this.op(0x95);
  }
  f32Min(): this {
    return this.op(0x96);
  }
  f32Max(): this {
    return this.op(0x97);
  }

  // v128 / f32x4
  v128Load(offset = 0): this {
    return this.simd(0x00, ALIGN_4, ...unsignedLeb(offset));
  }
  v128Store(offset = 0): this {
    return this.simd(0x0b, ALIGN_4, ...unsignedLeb(offset));
  }
  v128Zero(): this {
    return this.simd(0x0c, ...new Array<number>(16).fill(0));
  }
  f32x4Splat(): this {
    return this.simd(0x13);
  }
  f32x4ExtractLane(lane: number): this {
    return this.simd(0x1f, lane);
  }
  f32x4Sqrt(): this {
    return this.simd(0xe3);
  }
  f32x4Add(): this {
    return this.simd(0xe4);
  }
  f32x4Sub(): this {
    return this.simd(0xe5);
  }
  f32x4Mul(): this {
    return this.simd(0xe6);
  }
  f32x4Div(): this {
    return this.simd(0xe7);
  }
  f32x4Min(): this {
    return this.simd(0xe8);
  }
  f32x4Max(): this {
    return this.simd(0xe9);
  }
  /** Lane-wise a ≠ b as an all-ones / all-zeros mask (true for NaN lanes). */
  f32x4Ne(): this {
    return this.simd(0x42);
  }
  v128Or(): this {
    return this.simd(0x50);
  }
  /** 1 when any bit of the v128 is set. */
  v128AnyTrue(): this {
    return this.simd(0x53);
  }

  /**
   * ORs "the f32x4 in local `value` has a NaN or infinite lane" into the v128 mask in local `mask`
   * (x − x is 0 for finite x and NaN otherwise; NaN ≠ NaN). `scratch` is a v128 local.
   */
  flagNonFinite(value: number, mask: number, scratch: number): this {
    return this.get(value).get(value).f32x4Sub().tee(scratch).get(scratch).f32x4Ne().get(mask).v128Or().set(mask);
  }

  /** Sum of the four f32 lanes of the v128 in local `index`. */
  horizontalSum(index: number): this {
    this.get(index).f32x4ExtractLane(0).get(index).f32x4ExtractLane(1).f32Add();
    return this.get(index).f32x4ExtractLane(2).get(index).f32x4ExtractLane(3).f32Add().f32Add();
  }

  /** Byte address of element `index` (local) of the 4-byte array at `base` (local). */
  elementAddress(base: number, index: number): this {
    return this.get(base).get(index).i32(2).i32Shl().i32Add();
  }

  /** Closes a do-while loop: counter += step, repeat while counter < limit (all locals but step). */
  repeatWhileBelow(counter: number, step: number, limit: number): this {
    return this.get(counter).i32(step).i32Add().tee(counter).get(limit).i32LtS().brIf(0).end();
  }
}

/** A module with one exported memory (`memory`, `pages` × 64 KiB) and the given functions. */
export function assembleModule(functions: FunctionDefinition[], pages: number): Uint8Array {
  const types = functions.map((f) => [0x60, ...vector(f.params.map((t) => [t])), ...vector(f.results.map((t) => [t]))]);
  const bodies = functions.map((f) => {
    const locals = vector(f.locals.map((t) => [1, t]));
    const body = [...locals, ...f.body.bytes, 0x0b];
    return [...unsignedLeb(body.length), ...body];
  });
  const exports = [[...name('memory'), 0x02, 0], ...functions.map((f, i) => [...name(f.name), 0x00, ...unsignedLeb(i)])];
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vector(types)),
    ...section(3, vector(functions.map((_, i) => unsignedLeb(i)))),
    ...section(5, vector([[0x00, ...unsignedLeb(pages)]])),
    ...section(7, vector(exports)),
    ...section(10, vector(bodies)),
  ]);
}

/** The slice of the WebAssembly JS API the kernels use (the project compiles without DOM types). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => unknown;
  Instance: new (module: unknown) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  /** Adds `pages` × 64 KiB; `buffer` is then a new ArrayBuffer (views of the old one are detached). */
  grow(pages: number): number;
}

const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

/** Compiles and instantiates `bytes` synchronously (kernel modules are a few KiB). */
export function instantiate(bytes: Uint8Array): Record<string, unknown> {
  return new webAssembly.Instance(new webAssembly.Module(bytes)).exports;
}

export function validates(bytes: Uint8Array): boolean {
  return webAssembly.validate(bytes);
}
