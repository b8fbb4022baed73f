/**
 * A small WebAssembly binary encoder: exactly what the JIT needs and no more.
 *
 * Modules are written straight into bytes (WebAssembly Core Specification,
 * chapter 5 "Binary Format"): a growable byte buffer with LEB128, the type,
 * import, function, global, export and code sections, and a function-body
 * writer with one method per instruction family. Writing bytes directly keeps
 * compilation to a single pass over the eBPF program with no intermediate
 * tree of WebAssembly nodes, which is what makes compile time a few hundred
 * nanoseconds per instruction.
 */

export const I32 = 0x7f;
export const I64 = 0x7e;
export type ValType = typeof I32 | typeof I64;

/** Opcodes (Core Spec 5.4); the 0xFE-prefixed atomics are in {@link Atomic}. */
export const Op = {
  unreachable: 0x00,
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  br_if: 0x0d,
  br_table: 0x0e,
  return: 0x0f,
  call: 0x10,
  drop: 0x1a,
  select: 0x1b,
  local_get: 0x20,
  local_set: 0x21,
  local_tee: 0x22,
  global_get: 0x23,
  global_set: 0x24,
  i32_load: 0x28,
  i64_load: 0x29,
  i32_load8_u: 0x2d,
  i32_store: 0x36,
  i32_store8: 0x3a,
  i64_load8_s: 0x30,
  i64_load8_u: 0x31,
  i64_load16_s: 0x32,
  i64_load16_u: 0x33,
  i64_load32_s: 0x34,
  i64_load32_u: 0x35,
  i64_store: 0x37,
  i64_store8: 0x3c,
  i64_store16: 0x3d,
  i64_store32: 0x3e,
  memory_size: 0x3f,
  i32_const: 0x41,
  i64_const: 0x42,
  i32_eqz: 0x45,
  i32_eq: 0x46,
  i32_ne: 0x47,
  i32_lt_s: 0x48,
  i32_lt_u: 0x49,
  i32_gt_s: 0x4a,
  i32_gt_u: 0x4b,
  i32_le_s: 0x4c,
  i32_le_u: 0x4d,
  i32_ge_s: 0x4e,
  i32_ge_u: 0x4f,
  i64_eqz: 0x50,
  i64_eq: 0x51,
  i64_ne: 0x52,
  i64_lt_s: 0x53,
  i64_lt_u: 0x54,
  i64_gt_s: 0x55,
  i64_gt_u: 0x56,
  i64_le_s: 0x57,
  i64_le_u: 0x58,
  i64_ge_s: 0x59,
  i64_ge_u: 0x5a,
  i32_clz: 0x67,
  i32_ctz: 0x68,
  i32_add: 0x6a,
  i32_sub: 0x6b,
  i32_mul: 0x6c,
  i32_div_s: 0x6d,
  i32_div_u: 0x6e,
  i32_rem_s: 0x6f,
  i32_rem_u: 0x70,
  i32_and: 0x71,
  i32_or: 0x72,
  i32_xor: 0x73,
  i32_shl: 0x74,
  i32_shr_s: 0x75,
  i32_shr_u: 0x76,
  i32_rotl: 0x77,
  i32_rotr: 0x78,
  i64_add: 0x7c,
  i64_sub: 0x7d,
  i64_mul: 0x7e,
  i64_div_s: 0x7f,
  i64_div_u: 0x80,
  i64_rem_s: 0x81,
  i64_rem_u: 0x82,
  i64_and: 0x83,
  i64_or: 0x84,
  i64_xor: 0x85,
  i64_shl: 0x86,
  i64_shr_s: 0x87,
  i64_shr_u: 0x88,
  i64_rotl: 0x89,
  i64_rotr: 0x8a,
  i32_wrap_i64: 0xa7,
  i64_extend_i32_s: 0xac,
  i64_extend_i32_u: 0xad,
  i32_extend8_s: 0xc0,
  i32_extend16_s: 0xc1,
  i64_extend8_s: 0xc2,
  i64_extend16_s: 0xc3,
  i64_extend32_s: 0xc4,
  atomic_prefix: 0xfe,
} as const;

/** Sub-opcodes after the 0xFE prefix (threads proposal, "Atomic Memory Accesses"). */
export const Atomic = {
  /** atomic.fence (followed by a 0x00 byte) */
  fence: 0x03,
  i32_load: 0x10,
  i64_load: 0x11,
  i64_load8_u: 0x14,
  i64_load16_u: 0x15,
  i64_load32_u: 0x16,
  i64_store: 0x18,
  i64_store8: 0x1b,
  i64_store16: 0x1c,
  i64_store32: 0x1d,
  /** i32.atomic.rmw.add; +1 is i64.atomic.rmw.add, +6 is i64.atomic.rmw32.add_u */
  rmw_add: 0x1e,
  rmw_and: 0x2c,
  rmw_or: 0x33,
  rmw_xor: 0x3a,
  rmw_xchg: 0x41,
  rmw_cmpxchg: 0x48,
} as const;

const UTF8 = new TextEncoder();
const PAD5 = new Uint8Array(5);

/** A growable byte buffer with the LEB128 encodings of Core Spec 5.2.2. */
class ByteWriter {
  buf: Uint8Array;
  len = 0;
  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
  }
  private grow(extra: number): void {
    let cap = this.buf.length * 2;
    while (cap < this.len + extra) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }
  u8(b: number): void {
    if (this.len >= this.buf.length) this.grow(1);
    this.buf[this.len++] = b;
  }
  bytes(src: Uint8Array): void {
    if (this.len + src.length > this.buf.length) this.grow(src.length);
    this.buf.set(src, this.len);
    this.len += src.length;
  }
  /** Unsigned LEB128 of a value in [0, 2^32). */
  uleb(v: number): void {
    v >>>= 0;
    if (this.len + 5 > this.buf.length) this.grow(5);
    const b = this.buf;
    do {
      let byte = v & 0x7f;
      v >>>= 7;
      if (v !== 0) byte |= 0x80;
      b[this.len++] = byte;
    } while (v !== 0);
  }
  /** Signed LEB128 of a 32-bit signed value (also valid as an i64.const immediate). */
  sleb(v: number): void {
    v |= 0;
    if (this.len + 5 > this.buf.length) this.grow(5);
    const b = this.buf;
    for (;;) {
      const byte = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
        b[this.len++] = byte;
        return;
      }
      b[this.len++] = byte | 0x80;
    }
  }
  /** Signed LEB128 of a safe integer (|v| < 2^53). */
  slebNum(v: number): void {
    if (v >= -0x80000000 && v <= 0x7fffffff) return this.sleb(v);
    for (;;) {
      const byte = ((v % 128) + 128) % 128;
      v = Math.floor(v / 128);
      if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
        this.u8(byte);
        return;
      }
      this.u8(byte | 0x80);
    }
  }
  /** Signed LEB128 of a 64-bit value. */
  sleb64(v: bigint): void {
    v = BigInt.asIntN(64, v);
    if (v >= -0x80000000n && v <= 0x7fffffffn) return this.sleb(Number(v));
    for (;;) {
      const byte = Number(v & 0x7fn);
      v >>= 7n;
      if ((v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0)) {
        this.u8(byte);
        return;
      }
      this.u8(byte | 0x80);
    }
  }
  name(s: string): void {
    // Import and export names are short ASCII; TextEncoder is a slow native call.
    if (/^[\x00-\x7f]*$/.test(s)) {
      this.uleb(s.length);
      if (this.len + s.length > this.buf.length) this.grow(s.length);
      for (let i = 0; i < s.length; i++) this.buf[this.len++] = s.charCodeAt(i);
      return;
    }
    const enc = UTF8.encode(s);
    this.uleb(enc.length);
    this.bytes(enc);
  }
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/**
 * The body of one function: locals and instructions. Methods append the
 * instruction's bytes; the JIT composes them into eBPF semantics.
 */
export class FuncBody extends ByteWriter {
  /**
   * pairs (byte offset within the code, eBPF slot), flattened, for the text
   * printer; empty unless asked for (a push per instruction is a tenth of a
   * large program's compile time, and only `prog dump jited` reads them)
   */
  readonly marks: number[] = [];
  private readonly marking: boolean;
  constructor(
    readonly locals: ReadonlyArray<[number, ValType]>,
    capacity = 1024,
    marks = false,
  ) {
    super(capacity);
    this.marking = marks;
  }
  op(o: number): void {
    this.u8(o);
  }
  localGet(i: number): void {
    this.u8(Op.local_get);
    this.uleb(i);
  }
  localSet(i: number): void {
    this.u8(Op.local_set);
    this.uleb(i);
  }
  localTee(i: number): void {
    this.u8(Op.local_tee);
    this.uleb(i);
  }
  globalGet(i: number): void {
    this.u8(Op.global_get);
    this.uleb(i);
  }
  globalSet(i: number): void {
    this.u8(Op.global_set);
    this.uleb(i);
  }
  i32Const(v: number): void {
    this.u8(Op.i32_const);
    this.sleb(v);
  }
  /**
   * i32.const with its immediate always 5 bytes (a padded signed LEB128, valid per Core Spec
   * 5.2.2): for values that differ between runs, such as a hash map's random seed, so the
   * module's size and layout do not.
   */
  i32ConstWide(v: number): void {
    this.u8(Op.i32_const);
    v |= 0;
    for (let k = 0; k < 4; k++) this.u8(((v >> (7 * k)) & 0x7f) | 0x80);
    this.u8((v >> 28) & 0x7f);
  }
  /** i64.const of a value given as a signed 32-bit number (sign-extended to 64). */
  i64Const32(v: number): void {
    this.u8(Op.i64_const);
    this.sleb(v);
  }
  /** i64.const of a safe integer. */
  i64ConstNum(v: number): void {
    this.u8(Op.i64_const);
    this.slebNum(v);
  }
  i64Const(v: bigint): void {
    this.u8(Op.i64_const);
    this.sleb64(v);
  }
  /** load/store with a memarg: alignment exponent and unsigned offset */
  mem(o: number, alignLog2: number, offset: number): void {
    this.u8(o);
    this.uleb(alignLog2);
    this.uleb(offset);
  }
  atomic(sub: number, alignLog2: number, offset: number): void {
    this.u8(Op.atomic_prefix);
    this.uleb(sub);
    this.uleb(alignLog2);
    this.uleb(offset);
  }
  /** block/loop/if with the empty block type */
  blockStart(o: typeof Op.block | typeof Op.loop | typeof Op.if): void {
    this.u8(o);
    this.u8(0x40);
  }
  end(): void {
    this.u8(Op.end);
  }
  br(depth: number): void {
    this.u8(Op.br);
    this.uleb(depth);
  }
  brIf(depth: number): void {
    this.u8(Op.br_if);
    this.uleb(depth);
  }
  brTable(depths: readonly number[], dflt: number): void {
    this.u8(Op.br_table);
    this.uleb(depths.length);
    for (const d of depths) this.uleb(d);
    this.uleb(dflt);
  }
  call(f: number): void {
    this.u8(Op.call);
    this.uleb(f);
  }
  mark(slot: number): void {
    if (this.marking) this.marks.push(this.len, slot);
  }
}

export interface FuncType {
  params: readonly ValType[];
  results: readonly ValType[];
}

interface ImportFunc {
  module: string;
  name: string;
  type: number;
}

interface GlobalDef {
  type: ValType;
  mutable: boolean;
  init: number;
}

/**
 * A module under construction. Imported functions take the first function
 * indices (Core Spec 2.5.1), so all imports must be added before any
 * function is defined.
 */
export class ModuleBuilder {
  private readonly types: FuncType[] = [];
  private readonly typeKeys = new Map<string, number>();
  private readonly funcImports: ImportFunc[] = [];
  private memImport: { module: string; name: string; min: number; max?: number; shared: boolean } | undefined;
  private readonly globals: GlobalDef[] = [];
  private readonly funcTypes: number[] = [];
  private readonly bodies: FuncBody[] = [];
  private readonly exports: Array<{ name: string; kind: 0 | 3; index: number }> = [];

  type(params: readonly ValType[], results: readonly ValType[]): number {
    let key = '';
    for (const p of params) key += p === I32 ? 'i' : 'l';
    key += ':';
    for (const r of results) key += r === I32 ? 'i' : 'l';
    let i = this.typeKeys.get(key);
    if (i === undefined) {
      i = this.types.length;
      this.types.push({ params, results });
      this.typeKeys.set(key, i);
    }
    return i;
  }

  importFunc(module: string, name: string, type: number): number {
    if (this.funcTypes.length) throw new Error('imports must precede function definitions');
    this.funcImports.push({ module, name, type });
    return this.funcImports.length - 1;
  }

  importMemory(module: string, name: string, min: number, max: number | undefined, shared: boolean): void {
    this.memImport = { module, name, min, max, shared };
  }

  global(type: ValType, mutable: boolean, init = 0): number {
    this.globals.push({ type, mutable, init });
    return this.globals.length - 1;
  }

  /** Declare a function; returns its index in the function index space. */
  declareFunc(type: number): number {
    this.funcTypes.push(type);
    return this.funcImports.length + this.funcTypes.length - 1;
  }

  /** Give the n-th declared function (in declaration order) its body. */
  setBody(n: number, body: FuncBody): void {
    this.bodies[n] = body;
  }

  exportFunc(name: string, index: number): void {
    this.exports.push({ name, kind: 0, index });
  }

  exportGlobal(name: string, index: number): void {
    this.exports.push({ name, kind: 3, index });
  }

  get importedFuncCount(): number {
    return this.funcImports.length;
  }

  toBytes(): Uint8Array {
    let estimate = 256;
    for (const b of this.bodies) estimate += b.len + 16;
    const out = new ByteWriter(estimate);
    out.bytes(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
    // Each section's size is written as a 5-byte padded LEB128 (valid per
    // Core Spec 5.2.2) and patched afterwards, so sections need no buffers of their own.
    const section = (id: number, fill: (w: ByteWriter) => void): void => {
      out.u8(id);
      const at = out.len;
      out.bytes(PAD5);
      fill(out);
      let size = out.len - at - 5;
      for (let k = 0; k < 5; k++) {
        out.buf[at + k] = (size & 0x7f) | (k < 4 ? 0x80 : 0);
        size >>>= 7;
      }
    };
    section(1, (w) => {
      w.uleb(this.types.length);
      for (const t of this.types) {
        w.u8(0x60);
        w.uleb(t.params.length);
        for (const p of t.params) w.u8(p);
        w.uleb(t.results.length);
        for (const r of t.results) w.u8(r);
      }
    });
    section(2, (w) => {
      w.uleb(this.funcImports.length + (this.memImport ? 1 : 0));
      for (const f of this.funcImports) {
        w.name(f.module);
        w.name(f.name);
        w.u8(0x00);
        w.uleb(f.type);
      }
      const m = this.memImport;
      if (m) {
        w.name(m.module);
        w.name(m.name);
        w.u8(0x02);
        // limits flags: bit 0 = has maximum, bit 1 = shared (threads proposal)
        w.u8((m.max !== undefined ? 1 : 0) | (m.shared ? 2 : 0));
        w.uleb(m.min);
        if (m.max !== undefined) w.uleb(m.max);
      }
    });
    section(3, (w) => {
      w.uleb(this.funcTypes.length);
      for (const t of this.funcTypes) w.uleb(t);
    });
    if (this.globals.length) {
      section(6, (w) => {
        w.uleb(this.globals.length);
        for (const g of this.globals) {
          w.u8(g.type);
          w.u8(g.mutable ? 1 : 0);
          w.u8(g.type === I32 ? Op.i32_const : Op.i64_const);
          w.sleb(g.init);
          w.u8(Op.end);
        }
      });
    }
    section(7, (w) => {
      w.uleb(this.exports.length);
      for (const e of this.exports) {
        w.name(e.name);
        w.u8(e.kind);
        w.uleb(e.index);
      }
    });
    section(10, (w) => {
      w.uleb(this.bodies.length);
      for (const b of this.bodies) {
        let head = lebSize(b.locals.length);
        for (const [n] of b.locals) head += lebSize(n) + 1;
        w.uleb(head + b.len);
        w.uleb(b.locals.length);
        for (const [n, t] of b.locals) {
          w.uleb(n);
          w.u8(t);
        }
        w.bytes(b.buf.subarray(0, b.len));
      }
    });
    return out.toBytes();
  }
}

function lebSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v >>>= 7;
    n++;
  }
  return n;
}
