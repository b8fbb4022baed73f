/**
 * Map keys and values between bytes and JavaScript, by their BTF type.
 *
 * decodeValue / encodeValue are the library codec (what `map.get` with BTF
 * returns and `map.set` accepts):
 *  - ints: number up to 32 bits, bigint for 64 and 128 bits; `_Bool` is a boolean
 *  - char arrays (element `char` or BTF_INT_CHAR): a string, up to the first NUL
 *  - other arrays: arrays; structs and unions: objects keyed by member name,
 *    with anonymous struct/union members flattened into their parent as C does
 *  - enums: the enumerator's name, or the number when no enumerator matches
 *  - bitfields: number (bigint when wider than 32 bits), sign-extended when signed
 *  - floats: number; pointers: bigint
 * Encoding is strict: a missing or unknown field, a number out of range, a
 * wrong array length or an unknown enumerator is a BtfValueError naming the
 * path (`value.fl.a`).
 *
 * formatValue is bpftool's map-dump rendering (its btf_dumper): bitfields and
 * 128-bit ints as hex, pointers as hex, char arrays as strings only when they
 * hold a printable NUL-terminated string, datasecs as `{".bss": [{var: v}]}`.
 * formatJson prints that tree as bpftool's JSON writer does, plain (hex bare,
 * bpftool's pretty layout) or `-j` (hex quoted).
 */
import type { Btf } from './btf.js';
import { BtfError } from './error.js';
import type { BtfType, IntType, StructType } from './types.js';

export type BtfValue = number | bigint | boolean | string | Uint8Array | BtfValue[] | { [name: string]: BtfValue };

export interface CodecOptions {
  endian?: 'le' | 'be';
  /** encode: zero-fill struct members missing from the object instead of failing */
  partial?: boolean;
}

/** A value that does not fit its BTF type (encode) or bytes that do not hold one (decode). */
export class BtfValueError extends BtfError {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(-1, `${path}: ${reason}`);
  }
}

const MAX_DEPTH = 64;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/**
 * Work bound per call. Union members and zero-sized elements overlap, so a
 * hostile BTF can make a small value's tree exponentially large; each call
 * may visit at most this many type nodes.
 */
let budget = 0;
/** DataView over the buffer of the current call (set at each entry point) */
let view: DataView = new DataView(new ArrayBuffer(0));
const viewOf = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
function startBudget(size: number): void {
  budget = Math.max(1 << 20, 16 * size);
}
function spend(path: string): void {
  if (--budget < 0) throw new BtfValueError(path, 'value too complex for its size (overlapping members nested too deeply?)');
}

/** Does this int type hold text (bpftool: `char` by name, or BTF_INT_CHAR)? */
function isCharInt(t: BtfType): boolean {
  return t.kind === 'int' && t.size === 1 && (t.encoding.char || t.name === 'char');
}

/** The element type of an array, through qualifiers but not typedefs (as bpftool decides strings). */
function charElem(btf: Btf, elemId: number): boolean {
  let t = btf.typeById(elemId);
  for (let i = 0; i < MAX_DEPTH && (t.kind === 'const' || t.kind === 'volatile' || t.kind === 'restrict' || t.kind === 'type_tag'); i++)
    t = btf.typeById(t.typeId);
  return isCharInt(t);
}

// ---------- bit access ----------

function readUint(bytes: Uint8Array, off: number, size: number, le: boolean): bigint {
  let v = 0n;
  if (le) for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[off + i]!);
  else for (let i = 0; i < size; i++) v = (v << 8n) | BigInt(bytes[off + i]!);
  return v;
}

function writeUint(bytes: Uint8Array, off: number, size: number, v: bigint, le: boolean): void {
  for (let i = 0; i < size; i++) {
    const b = Number((v >> BigInt(8 * i)) & 0xffn);
    bytes[le ? off + i : off + size - 1 - i] = b;
  }
}

/**
 * Read `bits` bits starting `bitOff` bits into `bytes` (from `base`). For
 * little-endian data bit offsets count from the least significant bit of the
 * first byte; for big-endian from the most significant, as compilers lay out
 * bitfields for each byte order.
 */
function readBits(bytes: Uint8Array, base: number, bitOff: number, bits: number, le: boolean): bigint {
  const first = base + Math.floor(bitOff / 8);
  const inner = bitOff % 8;
  const n = Math.ceil((inner + bits) / 8);
  const v = readUint(bytes, first, n, le);
  const shift = le ? inner : n * 8 - inner - bits;
  return (v >> BigInt(shift)) & ((1n << BigInt(bits)) - 1n);
}

function writeBits(bytes: Uint8Array, base: number, bitOff: number, bits: number, value: bigint, le: boolean): void {
  const first = base + Math.floor(bitOff / 8);
  const inner = bitOff % 8;
  const n = Math.ceil((inner + bits) / 8);
  const shift = BigInt(le ? inner : n * 8 - inner - bits);
  const mask = ((1n << BigInt(bits)) - 1n) << shift;
  const old = readUint(bytes, first, n, le);
  writeUint(bytes, first, n, (old & ~mask) | ((value << shift) & mask), le);
}

function check(bytes: Uint8Array, off: number, size: number, path: string): void {
  if (off + size > bytes.length) throw new BtfValueError(path, `needs ${size} bytes at offset ${off}, have ${bytes.length}`);
}

// ---------- decode ----------

function num(v: bigint, wide: boolean): number | bigint {
  return wide ? v : Number(v);
}

function decodeInt(t: IntType, raw: bigint): number | bigint | boolean {
  if (t.encoding.bool) return raw !== 0n;
  const v = t.encoding.signed ? BigInt.asIntN(t.bits, raw) : raw;
  return num(v, t.bits > 32);
}

export function decodeValue(btf: Btf, typeId: number, bytes: Uint8Array, options: CodecOptions = {}): BtfValue {
  const le = (options.endian ?? btf.endian) === 'le';
  const size = btf.sizeof(typeId);
  check(bytes, 0, size, 'value');
  startBudget(size);
  view = viewOf(bytes);
  return decodeAt(btf, typeId, bytes, 0, le, 'value', 0);
}

function decodeAt(btf: Btf, typeId: number, bytes: Uint8Array, off: number, le: boolean, path: string, depth: number): BtfValue {
  if (depth > MAX_DEPTH) throw new BtfValueError(path, `type nesting deeper than ${MAX_DEPTH}`);
  spend(path);
  const id = btf.resolve(typeId);
  const t = btf.typeById(id);
  switch (t.kind) {
    case 'int': {
      check(bytes, off, t.size, path);
      // whole, byte-aligned ints (nearly all of them) go through DataView
      if (t.offset === 0 && t.bits === t.size * 8 && !t.encoding.bool) {
        const sg = t.encoding.signed;
        switch (t.size) {
          case 1:
            return sg ? view.getInt8(off) : bytes[off]!;
          case 2:
            return sg ? view.getInt16(off, le) : view.getUint16(off, le);
          case 4:
            return sg ? view.getInt32(off, le) : view.getUint32(off, le);
          case 8:
            return sg ? view.getBigInt64(off, le) : view.getBigUint64(off, le);
        }
      }
      return decodeInt(t, readBits(bytes, off, t.offset, t.bits, le));
    }
    case 'enum':
    case 'enum64': {
      check(bytes, off, t.size, path);
      const raw = readUint(bytes, off, t.size, le);
      const v = t.signed ? BigInt.asIntN(t.size * 8, raw) : raw;
      for (const e of t.values) if (BigInt(e.value) === v || BigInt.asUintN(t.size * 8, BigInt(e.value)) === raw) return e.name;
      return Number.isSafeInteger(Number(v)) ? Number(v) : v;
    }
    case 'ptr':
      check(bytes, off, btf.pointerSize, path);
      return readUint(bytes, off, btf.pointerSize, le);
    case 'float': {
      check(bytes, off, t.size, path);
      const dv = new DataView(bytes.buffer, bytes.byteOffset + off, t.size);
      if (t.size === 4) return dv.getFloat32(0, le);
      if (t.size === 8) return dv.getFloat64(0, le);
      return bytes.slice(off, off + t.size);
    }
    case 'array': {
      const esz = btf.sizeof(t.elemTypeId);
      check(bytes, off, esz * t.nelems, path);
      if (charElem(btf, t.elemTypeId)) {
        const s = bytes.subarray(off, off + t.nelems);
        const nul = s.indexOf(0);
        return textDecoder.decode(nul < 0 ? s : s.subarray(0, nul));
      }
      const out: BtfValue[] = new Array(t.nelems);
      for (let i = 0; i < t.nelems; i++) out[i] = decodeAt(btf, t.elemTypeId, bytes, off + i * esz, le, `${path}[${i}]`, depth + 1);
      return out;
    }
    case 'struct':
    case 'union': {
      check(bytes, off, t.size, path);
      const obj: { [k: string]: BtfValue } = {};
      decodeMembers(btf, t, bytes, off, le, path, depth, obj);
      return obj;
    }
    case 'datasec': {
      const obj: { [k: string]: BtfValue } = {};
      for (const v of t.vars) {
        const vt = btf.typeById(v.typeId);
        obj[vt.name] = decodeAt(btf, v.typeId, bytes, off + v.offset, le, `${path}.${vt.name}`, depth + 1);
      }
      return obj;
    }
    case 'var':
    case 'decl_tag':
      return decodeAt(btf, t.typeId, bytes, off, le, path, depth + 1);
    default:
      throw new BtfValueError(path, `type [${id}] ${t.kind} has no value representation`);
  }
}

function isAnonComposite(btf: Btf, typeId: number): boolean {
  const k = btf.typeById(btf.resolve(typeId)).kind;
  return k === 'struct' || k === 'union';
}

function decodeMembers(btf: Btf, t: StructType, bytes: Uint8Array, off: number, le: boolean, path: string, depth: number, obj: { [k: string]: BtfValue }): void {
  if (depth > MAX_DEPTH) throw new BtfValueError(path, `type nesting deeper than ${MAX_DEPTH}`);
  for (const m of t.members) {
    spend(path);
    if (m.name === '') {
      // anonymous struct/union: its members belong to the parent, as in C; unnamed padding bitfields carry nothing
      if (m.bitfieldSize === 0 && m.bitOffset % 8 === 0 && isAnonComposite(btf, m.typeId)) {
        const inner = btf.typeById(btf.resolve(m.typeId)) as StructType;
        decodeMembers(btf, inner, bytes, off + m.bitOffset / 8, le, path, depth + 1, obj);
      }
      continue;
    }
    const mpath = `${path}.${m.name}`;
    if (m.bitfieldSize) {
      const raw = readBits(bytes, off, m.bitOffset, m.bitfieldSize, le);
      const mt = btf.typeById(btf.resolve(m.typeId));
      const signed = (mt.kind === 'int' && mt.encoding.signed) || ((mt.kind === 'enum' || mt.kind === 'enum64') && mt.signed);
      if (mt.kind === 'int' && mt.encoding.bool) obj[m.name] = raw !== 0n;
      else if (mt.kind === 'enum' || mt.kind === 'enum64') {
        const v = signed ? BigInt.asIntN(m.bitfieldSize, raw) : raw;
        const e = (mt.values as Array<{ name: string; value: number | bigint }>).find((x) => BigInt(x.value) === v);
        obj[m.name] = e ? e.name : Number(v);
      } else obj[m.name] = num(signed ? BigInt.asIntN(m.bitfieldSize, raw) : raw, m.bitfieldSize > 32);
    } else {
      if (m.bitOffset % 8 !== 0) throw new BtfValueError(mpath, `member at bit ${m.bitOffset} is not byte aligned`);
      obj[m.name] = decodeAt(btf, m.typeId, bytes, off + m.bitOffset / 8, le, mpath, depth + 1);
    }
  }
}

// ---------- encode ----------

export function encodeValue(btf: Btf, typeId: number, value: BtfValue, options: CodecOptions = {}): Uint8Array {
  const le = (options.endian ?? btf.endian) === 'le';
  const size = btf.sizeof(typeId);
  if (size > 1 << 30) throw new BtfValueError('value', `a ${size}-byte value is too large to encode`);
  const out = new Uint8Array(size);
  startBudget(size);
  view = viewOf(out);
  encodeAt(btf, typeId, value, out, 0, le, 'value', 0, options.partial === true);
  return out;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return 'a Uint8Array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

/** A JS integer (number or bigint) as bigint, range-checked for `bits` bits. */
function toInteger(v: BtfValue, bits: number, signed: boolean, path: string): bigint {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isInteger(v)) b = BigInt(v);
  else if (typeof v === 'boolean') b = v ? 1n : 0n;
  else throw new BtfValueError(path, `expected an integer, got ${describe(v)}`);
  const bb = BigInt(bits);
  // strict: the range of the C type, no silent wrap-around
  const min = signed ? -(1n << (bb - 1n)) : 0n;
  const max = signed ? (1n << (bb - 1n)) - 1n : (1n << bb) - 1n;
  if (b < min || b > max) throw new BtfValueError(path, `${b} does not fit in ${bits} ${signed ? 'signed' : 'unsigned'} bits`);
  return BigInt.asUintN(bits, b);
}

function encodeAt(btf: Btf, typeId: number, v: BtfValue, out: Uint8Array, off: number, le: boolean, path: string, depth: number, partial: boolean): void {
  if (depth > MAX_DEPTH) throw new BtfValueError(path, `type nesting deeper than ${MAX_DEPTH}`);
  spend(path);
  const id = btf.resolve(typeId);
  const t = btf.typeById(id);
  switch (t.kind) {
    case 'int': {
      if (t.encoding.bool && typeof v !== 'boolean' && v !== 0 && v !== 1)
        throw new BtfValueError(path, `expected a boolean, got ${describe(v)}`);
      // fast path: a JS number into a whole int of up to 32 bits
      if (typeof v === 'number' && t.offset === 0 && t.bits === t.size * 8 && t.size <= 4 && Number.isInteger(v)) {
        const bits = t.size * 8;
        const min = t.encoding.signed ? -(2 ** (bits - 1)) : 0;
        const max = t.encoding.signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
        if (v < min || v > max) throw new BtfValueError(path, `${v} does not fit in ${bits} ${t.encoding.signed ? 'signed' : 'unsigned'} bits`);
        if (t.size === 1) out[off] = v & 0xff;
        else if (t.size === 2) view.setUint16(off, v & 0xffff, le);
        else view.setUint32(off, v >>> 0, le);
        return;
      }
      if (typeof v === 'bigint' && t.offset === 0 && t.bits === 64 && t.size === 8) {
        const ok = t.encoding.signed ? v >= -(1n << 63n) && v < 1n << 63n : v >= 0n && v < 1n << 64n;
        if (!ok) throw new BtfValueError(path, `${v} does not fit in 64 ${t.encoding.signed ? 'signed' : 'unsigned'} bits`);
        view.setBigUint64(off, BigInt.asUintN(64, v), le);
        return;
      }
      writeBits(out, off, t.offset, t.bits, toInteger(v, t.bits, t.encoding.signed, path), le);
      return;
    }
    case 'enum':
    case 'enum64': {
      if (t.kind === 'enum' && t.size === 4) {
        // fast path for the common 32-bit enum
        let n: number;
        if (typeof v === 'string') {
          const e = t.values.find((x) => x.name === v);
          if (!e) throw new BtfValueError(path, `'${v}' is not an enumerator of enum ${t.name || '(anon)'}`);
          n = e.value;
        } else n = Number(toInteger(v, 32, t.signed, path));
        view.setUint32(off, n >>> 0, le);
        return;
      }
      let raw: bigint;
      if (typeof v === 'string') {
        const e = (t.values as Array<{ name: string; value: number | bigint }>).find((x) => x.name === v);
        if (!e) throw new BtfValueError(path, `'${v}' is not an enumerator of enum ${t.name || '(anon)'}`);
        raw = BigInt.asUintN(t.size * 8, BigInt(e.value));
      } else raw = toInteger(v, t.size * 8, t.signed, path);
      writeUint(out, off, t.size, raw, le);
      return;
    }
    case 'ptr':
      writeUint(out, off, btf.pointerSize, toInteger(v, btf.pointerSize * 8, false, path), le);
      return;
    case 'float': {
      if (v instanceof Uint8Array) {
        if (v.length !== t.size) throw new BtfValueError(path, `expected ${t.size} bytes, got ${v.length}`);
        out.set(v, off);
        return;
      }
      if (typeof v !== 'number') throw new BtfValueError(path, `expected a number, got ${describe(v)}`);
      const dv = new DataView(out.buffer, out.byteOffset + off, t.size);
      if (t.size === 4) dv.setFloat32(0, v, le);
      else if (t.size === 8) dv.setFloat64(0, v, le);
      else throw new BtfValueError(path, `a ${t.size}-byte float needs its raw bytes as a Uint8Array`);
      return;
    }
    case 'array': {
      const esz = btf.sizeof(t.elemTypeId);
      if (typeof v === 'string') {
        if (!charElem(btf, t.elemTypeId)) throw new BtfValueError(path, 'a string is only accepted for a char array');
        const b = textEncoder.encode(v);
        if (b.length > t.nelems) throw new BtfValueError(path, `string of ${b.length} bytes does not fit char[${t.nelems}]`);
        out.set(b, off);
        return;
      }
      if (!Array.isArray(v)) throw new BtfValueError(path, `expected an array of ${t.nelems}, got ${describe(v)}`);
      if (v.length !== t.nelems) throw new BtfValueError(path, `expected ${t.nelems} elements, got ${v.length}`);
      for (let i = 0; i < t.nelems; i++) encodeAt(btf, t.elemTypeId, v[i]!, out, off + i * esz, le, `${path}[${i}]`, depth + 1, partial);
      return;
    }
    case 'struct':
    case 'union': {
      if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array)
        throw new BtfValueError(path, `expected an object for ${t.kind} ${t.name || '(anon)'}, got ${describe(v)}`);
      const used = new Set<string>();
      encodeMembers(btf, t, v, out, off, le, path, depth, partial, used, t.kind === 'union');
      for (const k of Object.keys(v)) if (!used.has(k)) throw new BtfValueError(`${path}.${k}`, `no such member in ${t.kind} ${t.name || '(anon)'}`);
      return;
    }
    case 'datasec': {
      if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array)
        throw new BtfValueError(path, `expected an object for section ${t.name}, got ${describe(v)}`);
      const names = new Set<string>();
      for (const sv of t.vars) {
        const name = btf.typeById(sv.typeId).name;
        names.add(name);
        if (!(name in v)) {
          if (partial) continue;
          throw new BtfValueError(`${path}.${name}`, 'missing');
        }
        encodeAt(btf, sv.typeId, v[name]!, out, off + sv.offset, le, `${path}.${name}`, depth + 1, partial);
      }
      for (const k of Object.keys(v)) if (!names.has(k)) throw new BtfValueError(`${path}.${k}`, `no such variable in ${t.name}`);
      return;
    }
    case 'var':
    case 'decl_tag':
      encodeAt(btf, t.typeId, v, out, off, le, path, depth + 1, partial);
      return;
    default:
      throw new BtfValueError(path, `type [${id}] ${t.kind} has no value representation`);
  }
}

function encodeMembers(
  btf: Btf,
  t: StructType,
  v: { [k: string]: BtfValue },
  out: Uint8Array,
  off: number,
  le: boolean,
  path: string,
  depth: number,
  partial: boolean,
  used: Set<string>,
  inUnion: boolean,
): void {
  if (depth > MAX_DEPTH) throw new BtfValueError(path, `type nesting deeper than ${MAX_DEPTH}`);
  for (const m of t.members) {
    spend(path);
    if (m.name === '') {
      if (m.bitfieldSize === 0 && m.bitOffset % 8 === 0 && isAnonComposite(btf, m.typeId)) {
        const inner = btf.typeById(btf.resolve(m.typeId)) as StructType;
        // members of an anonymous struct inside a union are optional as a group
        encodeMembers(btf, inner, v, out, off + m.bitOffset / 8, le, path, depth + 1, partial || inUnion || inner.kind === 'union', used, inner.kind === 'union');
      }
      continue;
    }
    const mpath = `${path}.${m.name}`;
    if (!Object.prototype.hasOwnProperty.call(v, m.name)) {
      // a union is written through whichever members are given; a struct needs all of them
      if (partial || inUnion) continue;
      throw new BtfValueError(mpath, `missing member of ${t.kind} ${t.name || '(anon)'}`);
    }
    used.add(m.name);
    const mv = v[m.name]!;
    if (m.bitfieldSize) {
      const mt = btf.typeById(btf.resolve(m.typeId));
      let raw: bigint;
      if ((mt.kind === 'enum' || mt.kind === 'enum64') && typeof mv === 'string') {
        const e = (mt.values as Array<{ name: string; value: number | bigint }>).find((x) => x.name === mv);
        if (!e) throw new BtfValueError(mpath, `'${mv}' is not an enumerator of enum ${mt.name || '(anon)'}`);
        raw = BigInt.asUintN(m.bitfieldSize, BigInt(e.value));
      } else {
        const signed = (mt.kind === 'int' && mt.encoding.signed) || ((mt.kind === 'enum' || mt.kind === 'enum64') && mt.signed);
        raw = toInteger(mv, m.bitfieldSize, signed, mpath);
      }
      writeBits(out, off, m.bitOffset, m.bitfieldSize, raw, le);
    } else {
      encodeAt(btf, m.typeId, mv, out, off + m.bitOffset / 8, le, mpath, depth + 1, partial);
    }
  }
}

// ---------- bpftool's formatted view ----------

/** A number bpftool prints as bare hex in plain output and as a quoted string with -j. */
export class Hex {
  constructor(readonly text: string) {}
}
/** A value bpftool prints as a bare token in plain mode and as a number with -j (pointers). */
export class Plain {
  constructor(
    readonly text: string,
    readonly json: number | bigint,
  ) {}
}

export type Formatted = number | bigint | boolean | string | Hex | Plain | Formatted[] | { [k: string]: Formatted };

function hex(v: bigint): Hex {
  return new Hex('0x' + v.toString(16));
}

function isStrArray(bytes: Uint8Array, off: number, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const c = bytes[off + i]!;
    if (c === 0) return true;
    if (c <= 0x1f || c >= 0x7f) return false;
  }
  return false;
}

/** Render the value of type `typeId` held in `bytes` as bpftool's map dump shows it. */
export function formatValue(btf: Btf, typeId: number, bytes: Uint8Array, endian: 'le' | 'be' = btf.endian): Formatted {
  startBudget(bytes.length);
  return fmtAt(btf, typeId, bytes, 0, endian === 'le', 0);
}

function fmtAt(btf: Btf, typeId: number, bytes: Uint8Array, off: number, le: boolean, depth: number): Formatted {
  if (depth > MAX_DEPTH) throw new BtfValueError('value', `type nesting deeper than ${MAX_DEPTH}`);
  spend('value');
  const id = btf.resolve(typeId);
  const t = btf.typeById(id);
  switch (t.kind) {
    case 'int': {
      check(bytes, off, t.size, 'value');
      if (t.offset !== 0 || t.bits !== t.size * 8) return hex(readBits(bytes, off, t.offset, t.bits, le));
      const raw = readUint(bytes, off, t.size, le);
      if (t.bits === 128) {
        // bpftool prints the high half, then the low half zero-padded, dropping a zero high half
        const hi = raw >> 64n;
        const lo = raw & 0xffffffffffffffffn;
        return new Hex(hi ? `0x${hi.toString(16)}${lo.toString(16).padStart(16, '0')}` : `0x${lo.toString(16)}`);
      }
      if (t.encoding.bool) return raw !== 0n;
      const v = t.encoding.signed ? BigInt.asIntN(t.bits, raw) : raw;
      return t.bits > 32 ? v : Number(v);
    }
    case 'enum':
    case 'enum64': {
      check(bytes, off, t.size, 'value');
      const raw = readUint(bytes, off, t.size, le);
      for (const e of t.values) if (BigInt.asUintN(t.size * 8, BigInt(e.value)) === raw) return e.name;
      const v = t.signed ? BigInt.asIntN(t.size * 8, raw) : raw;
      return t.size > 4 ? v : Number(v);
    }
    case 'ptr': {
      check(bytes, off, btf.pointerSize, 'value');
      const v = readUint(bytes, off, btf.pointerSize, le);
      // plain text uses printf's %p: (nil) for NULL
      return new Plain(v === 0n ? '(nil)' : '0x' + v.toString(16), v);
    }
    case 'float': {
      check(bytes, off, t.size, 'value');
      const dv = new DataView(bytes.buffer, bytes.byteOffset + off, t.size);
      if (t.size === 4) return dv.getFloat32(0, le);
      if (t.size === 8) return dv.getFloat64(0, le);
      return hex(readUint(bytes, off, t.size, le));
    }
    case 'array': {
      const esz = btf.sizeof(t.elemTypeId);
      check(bytes, off, esz * t.nelems, 'value');
      if (t.nelems && charElem(btf, t.elemTypeId) && isStrArray(bytes, off, t.nelems)) {
        const s = bytes.subarray(off, off + t.nelems);
        return String.fromCharCode(...s.subarray(0, s.indexOf(0)));
      }
      const out: Formatted[] = [];
      for (let i = 0; i < t.nelems; i++) out.push(fmtAt(btf, t.elemTypeId, bytes, off + i * esz, le, depth + 1));
      return out;
    }
    case 'struct':
    case 'union': {
      check(bytes, off, t.size, 'value');
      const obj: { [k: string]: Formatted } = {};
      for (const m of t.members) {
        if (m.bitfieldSize) obj[m.name] = hex(readBits(bytes, off, m.bitOffset, m.bitfieldSize, le));
        else obj[m.name] = fmtAt(btf, m.typeId, bytes, off + Math.floor(m.bitOffset / 8), le, depth + 1);
      }
      return obj;
    }
    case 'var': {
      return { [t.name]: fmtAt(btf, t.typeId, bytes, off, le, depth + 1) };
    }
    case 'datasec': {
      return { [t.name]: t.vars.map((v) => fmtAt(btf, v.typeId, bytes, off + v.offset, le, depth + 1)) };
    }
    case 'decl_tag':
      return fmtAt(btf, t.typeId, bytes, off, le, depth + 1);
    default:
      throw new BtfValueError('value', `type [${id}] ${t.kind} has no value representation`);
  }
}

/**
 * Print a formatted tree as bpftool's json_writer does: `pretty` (bpftool's
 * plain map dump) puts object members on their own lines indented by four
 * spaces per level and keeps array elements on one line; `json` quotes hex.
 * `depth` is the writer's nesting level where the value starts.
 */
export function formatJson(v: Formatted, options: { json: boolean; pretty: boolean; depth?: number }): string {
  const { json, pretty } = options;
  const ind = (d: number): string => (pretty ? '\n' + '    '.repeat(d) : '');
  const rec = (x: Formatted, d: number): string => {
    if (x instanceof Hex) return json ? `"${x.text}"` : x.text;
    if (x instanceof Plain) return json ? x.json.toString() : x.text;
    if (typeof x === 'bigint') return x.toString();
    if (typeof x === 'number') return Number.isFinite(x) ? String(x) : JSON.stringify(String(x));
    if (typeof x === 'boolean') return x ? 'true' : 'false';
    if (typeof x === 'string') return JSON.stringify(x);
    if (Array.isArray(x)) {
      if (x.length === 0) return '[]';
      return '[' + x.map((e) => rec(e, d + 1)).join(',') + ind(d) + ']';
    }
    const keys = Object.keys(x);
    if (keys.length === 0) return '{}';
    return '{' + keys.map((k) => ind(d + 1) + JSON.stringify(k) + (pretty ? ': ' : ':') + rec(x[k]!, d + 1)).join(',') + ind(d) + '}';
  };
  return rec(v, options.depth ?? 0);
}

/**
 * bpftool's plain `map dump` of a map with BTF: a pretty JSON-writer array
 * of `{"key": ..., "value": ...}` objects (entries without a key, as for
 * global-data maps, print only the value).
 */
export function formatMapDump(entries: ReadonlyArray<{ key?: Formatted; value: Formatted }>): string {
  if (entries.length === 0) return '[]\n';
  const body = entries.map((e) => {
    const parts: string[] = [];
    if (e.key !== undefined) parts.push('\n        "key": ' + formatJson(e.key, { json: false, pretty: true, depth: 2 }));
    parts.push('\n        "value": ' + formatJson(e.value, { json: false, pretty: true, depth: 2 }));
    return '{' + parts.join(',') + '\n    }';
  });
  return '[' + body.join(',') + '\n]\n';
}
