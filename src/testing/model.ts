/**
 * The kernel model: kernel objects laid out in a runtime's address space
 * exactly as a kernel BTF says (the running kernel's vmlinux, a BTF file, or
 * the small kernel tsbpf ships: kernel-btf.ts), so that a tracing program
 * reads them as it would read the kernel's: through bpf_probe_read_kernel,
 * BPF_CORE_READ, or direct loads from a BTF pointer.
 *
 * `model.object('task_struct', { pid: 42, comm: 'bash', real_parent: parent,
 * cred: { uid: 1000 } })` allocates one zeroed object and writes the named
 * fields: integers and enums (bitfields included), char arrays from
 * strings, arrays from JS arrays, nested structs and unions from plain
 * objects (anonymous members are reached by their fields' names), and
 * pointers from another object, an address, a string (a `char *`: a new
 * kernel string) or a plain object (a new object of the pointed-to type).
 * A member of a `kuid_t`-like wrapper (a struct of one member) may be given
 * as the bare value: `cred: { uid: 1000 }`.
 *
 * Every object is a region of kind 'kernel', not writable
 * (docs/security.md): programs reach it by the probe-read helpers in every
 * probe mode and by loads through BTF pointers the verifier has typed;
 * nothing lets them write it (the verifier refuses stores through
 * PTR_TO_BTF_ID in tracing programs, as Linux does). The test changes it
 * between events with `set`.
 *
 * Objects are cut from arenas, blocks of the space that hold kernel memory
 * only, and each arena is a range of the space's probe-mem table
 * (memory/probe-mem.ts): a load through a BTF pointer reads inside an arena and
 * reads 0 anywhere else, so the table stays a few ranges long however many
 * objects a test makes. A freed object's bytes are zeroed and its arena
 * space comes back when the model closes.
 */
import { TsbpfError } from '../errors.js';
import type { Btf } from '../object/btf/btf.js';
import type { BtfType, Member, StructType } from '../object/btf/types.js';
import type { AddressSpace, Region } from '../memory/address-space.js';
import { probeTable } from '../memory/probe-mem.js';

/** What a field may be given as. */
export type FieldValue =
  | number
  | bigint
  | boolean
  | string
  | null
  | Uint8Array
  | KernelObject
  | readonly FieldValue[]
  | { readonly [field: string]: FieldValue };

export type ObjectInit = { readonly [field: string]: FieldValue };

/** One object of the model: its address in the runtime's space and its BTF type. */
export class KernelObject {
  /** @internal */
  constructor(
    readonly model: KernelModel,
    readonly addr: number,
    readonly typeId: number,
    readonly typeName: string,
    readonly size: number,
    /** @internal */
    readonly region: Region,
  ) {}

  /** Write more fields (the rest stay as they are). */
  set(init: ObjectInit): this {
    this.model.write(this.typeId, this.addr, init, this.typeName, this.size);
    return this;
  }

  /** A field's value, following pointers along a dotted path (`'cred.uid.val'`, `'comm'`). */
  get(path: string): bigint | string {
    return this.model.read(this, path);
  }

  /** The address of a field (`'f_path.dentry'`), for pointers into the middle of an object. */
  addressOf(path: string): number {
    return this.model.locate(this, path).addr;
  }

  /** The address as a pointer argument (raw_tp/fentry argument arrays, pt_regs registers). */
  get ptr(): bigint {
    return BigInt(this.addr);
  }
}

/** A field found along a path: where it is and what it is. */
interface Place {
  addr: number;
  typeId: number;
  member?: Member;
  /** bit offset of a bitfield from `addr` */
  bitOffset: number;
}

const MAX_DEPTH = 32;
/** the first arena (about 100 task_structs of a real kernel); each new one is at least twice the last, so a model has few */
const ARENA_MIN = 1024 * 1024;

/** A block of the space holding this model's objects and nothing else. */
interface Arena {
  base: number;
  size: number;
  /** first free byte */
  next: number;
}

export class KernelModel {
  private readonly owned: Region[] = [];
  /** the objects of struct/union types, by their region, in the order they were made (objects(): what iterators walk) */
  private readonly made = new Map<Region, KernelObject>();
  private readonly arenas: Arena[] = [];
  private count = 0;
  private closed = false;

  constructor(
    readonly space: AddressSpace,
    readonly btf: Btf,
  ) {}

  /** Allocate one zeroed object of the named struct/union/typedef and write `init` into it. */
  object(typeName: string, init: ObjectInit = {}): KernelObject {
    return this.allocate(this.typeId(typeName), init, 0);
  }

  /** A NUL-terminated kernel string (what a `char *` field or argument points at). */
  string(s: string | Uint8Array): number {
    const bytes = typeof s === 'string' ? new TextEncoder().encode(s) : s;
    const addr = this.region(bytes.length + 1, 1, 'string').base;
    this.space.u8.set(bytes, addr);
    return addr;
  }

  /** Kernel memory holding `data` (a buffer argument). */
  bytes(data: Uint8Array, name = 'bytes'): number {
    const addr = this.region(Math.max(1, data.length), 8, name).base;
    this.space.u8.set(data, addr);
    return addr;
  }

  /**
   * Every live object of type `typeName` (those made by object() and those a
   * pointer field's plain init made), in the order they were made: the
   * kernel objects an iterator walks (kit.iterate: task_struct).
   */
  objects(typeName: string): KernelObject[] {
    const id = this.btf.resolve(this.typeId(typeName));
    return [...this.made.values()].filter((o) => o.typeId === id);
  }

  /** Whether [addr, addr+len) lies inside one object of this model. */
  holds(addr: number, len = 1): boolean {
    return this.owned.some((r) => addr >= r.base && addr + len <= r.base + r.size);
  }

  /**
   * The object of type `typeName` at `addr`, as a kernel function that is
   * handed a pointer sees it (a helper's `struct sock *` argument, which may
   * point into the middle of a larger object: a tcp_sock's sock); undefined
   * when no object of the model holds all of its bytes.
   */
  at(addr: number, typeName: string): KernelObject | undefined {
    const id = this.btf.resolve(this.typeId(typeName));
    const size = this.btf.sizeof(id);
    const r = this.owned.find((o) => addr >= o.base && addr + size <= o.base + o.size);
    return r ? new KernelObject(this, addr, id, this.btf.typeById(id).name || typeName, size, r) : undefined;
  }

  /** The BTF type id of a name: `task_struct`, `struct task_struct`, `union ...`, or a typedef. */
  typeId(typeName: string): number {
    const m = /^(struct|union|enum|typedef)\s+(.+)$/.exec(typeName.trim());
    const kinds = m ? [m[1] as 'struct' | 'union' | 'enum' | 'typedef'] : (['struct', 'union', 'typedef'] as const);
    const name = m ? m[2]! : typeName.trim();
    for (const k of kinds) {
      const t = this.btf.typeByName(name, k);
      if (t) return t.id;
    }
    throw new TsbpfError('ENOENT', `the kernel BTF has no type ${typeName}`);
  }

  /**
   * Free one object: it stops being a region, and its bytes read as zeros
   * once the runs that may still point at it have ended (the space's grace
   * period); what it points at stays.
   */
  free(obj: KernelObject): void {
    const i = this.owned.indexOf(obj.region);
    if (i < 0) return;
    this.owned.splice(i, 1);
    this.made.delete(obj.region);
    this.space.removeRegion(obj.region);
    const { base, size } = obj.region;
    this.space.afterGracePeriod(() => {
      if (!this.closed) this.space.u8.fill(0, base, base + size);
    });
  }

  /**
   * Free every object. Loads through pointers into the model read 0 from
   * now on; its memory is reused after the runs that may still point at it.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const r of this.owned) this.space.removeRegion(r);
    this.owned.length = 0;
    this.made.clear();
    const table = probeTable(this.space);
    for (const a of this.arenas) {
      table.remove(a.base);
      this.space.retire(a.base);
    }
    this.arenas.length = 0;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  private region(size: number, align: number, name: string): Region {
    if (this.closed) throw new TsbpfError('EBADF', 'the kernel model is closed');
    const base = this.carve(Math.max(1, size), Math.max(8, align));
    const r = this.space.addRegion({ base, size: Math.max(1, size), kind: 'kernel', name: `${name}#${++this.count}`, writable: false });
    this.owned.push(r);
    return r;
  }

  /** `size` zeroed bytes aligned to `align` from an arena, opening a new arena when none has room. */
  private carve(size: number, align: number): number {
    for (const a of this.arenas) {
      const at = Math.ceil(a.next / align) * align;
      if (at + size <= a.base + a.size) {
        a.next = at + size;
        return at;
      }
    }
    const last = this.arenas[this.arenas.length - 1];
    const want = Math.max(ARENA_MIN, (last?.size ?? 0) * 2, size + align);
    const base = this.space.alloc(want, 8);
    const arenaSize = this.space.sizeOf(base) ?? want;
    probeTable(this.space).add(base, arenaSize);
    this.arenas.push({ base, size: arenaSize, next: base });
    return this.carve(size, align);
  }

  private allocate(typeId: number, init: ObjectInit, depth: number): KernelObject {
    const id = this.btf.resolve(typeId);
    const t = this.btf.typeById(id);
    const name = t.name || this.btf.typeById(typeId).name || `[${id}]`;
    if (t.kind === 'fwd') throw new TsbpfError('EINVAL', `${name} is only declared in the kernel BTF (no layout)`);
    const size = this.btf.sizeof(id) + this.flexibleBytes(id, init);
    const r = this.region(size, this.btf.alignof(id), name);
    const obj = new KernelObject(this, r.base, id, name, size, r);
    this.made.set(r, obj);
    this.within(r.base + size, () => this.writeValue(id, r.base, 0, undefined, init, name, depth));
    return obj;
  }

  /** @internal write `init` into the object of type `typeId` at `addr`, `size` bytes long (its flexible array included) */
  write(typeId: number, addr: number, init: ObjectInit, path: string, size = this.btf.sizeof(typeId)): void {
    this.within(addr + size, () => this.writeValue(typeId, addr, 0, undefined, init, path, 0));
  }

  /**
   * The bytes a struct's flexible array member (its last, declared `[]` or
   * `[0]`: `struct cgroup *ancestors[]`) needs for the elements `init` gives
   * it; the object is allocated that much longer, as the kernel's are.
   */
  private flexibleBytes(id: number, init: FieldValue): number {
    const t = this.btf.typeById(id);
    if (t.kind !== 'struct' || !isPlainObject(init)) return 0;
    const last = t.members[t.members.length - 1];
    const v = last?.name ? (init as ObjectInit)[last.name] : undefined;
    if (!last || !Array.isArray(v)) return 0;
    const at = this.btf.typeById(this.btf.resolve(last.typeId));
    if (at.kind !== 'array' || at.nelems !== 0) return 0;
    const end = last.bitOffset / 8 + v.length * this.btf.sizeof(this.btf.resolve(at.elemTypeId));
    return Math.max(0, Math.ceil(end) - this.btf.sizeof(id));
  }

  /** The end of the object being written (its flexible array reaches there); 0 outside a write. */
  private end = 0;
  private within(end: number, write: () => void): void {
    const saved = this.end;
    this.end = end;
    try {
      write();
    } finally {
      this.end = saved;
    }
  }

  private writeValue(typeId: number, addr: number, bitOff: number, member: Member | undefined, v: FieldValue, path: string, depth: number): void {
    if (depth > MAX_DEPTH) throw new TsbpfError('ELOOP', `${path}: objects nested deeper than ${MAX_DEPTH}`);
    const id = this.btf.resolve(typeId);
    const t = this.btf.typeById(id);
    const bad = (what: string): TsbpfError => new TsbpfError('EINVAL', `${path}: ${what}`);
    switch (t.kind) {
      case 'int':
      case 'enum':
      case 'enum64': {
        const n = this.scalar(t, v, path);
        const bits = member?.bitfieldSize || (t.kind === 'int' ? t.bits : t.size * 8);
        const signed = t.kind === 'int' ? t.encoding.signed : t.signed;
        const lo = signed ? -(1n << BigInt(bits - 1)) : 0n;
        const hi = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
        if (n < lo || n > hi) throw bad(`${n} does not fit in ${bits} ${signed ? 'signed' : 'unsigned'} bits`);
        const intOff = t.kind === 'int' ? t.offset : 0;
        if (member?.bitfieldSize || bits !== t.size * 8 || intOff) this.writeBits(addr, bitOff + intOff, bits, BigInt.asUintN(bits, n));
        else this.writeInt(addr, t.size, BigInt.asUintN(t.size * 8, n));
        return;
      }
      case 'float': {
        if (typeof v !== 'number') throw bad(`a ${t.size * 8}-bit float takes a number`);
        if (t.size === 4) this.space.view.setFloat32(addr, v, true);
        else if (t.size === 8) this.space.view.setFloat64(addr, v, true);
        else throw bad(`floats of ${t.size} bytes are not supported`);
        return;
      }
      case 'ptr': {
        this.writeInt(addr, 8, this.pointer(t.typeId, v, path, depth));
        return;
      }
      case 'array': {
        const elemId = this.btf.resolve(t.elemTypeId);
        const elem = this.btf.typeById(elemId);
        const esize = this.btf.sizeof(elemId);
        if (typeof v === 'string' || v instanceof Uint8Array) {
          if (esize !== 1) throw bad(`a string or bytes fill only arrays of bytes, not of ${elem.kind} ${elem.name}`);
          const bytes = typeof v === 'string' ? new TextEncoder().encode(v) : v;
          if (bytes.length > t.nelems) throw bad(`${bytes.length} bytes do not fit in ${t.nelems}`);
          this.space.u8.fill(0, addr, addr + t.nelems);
          this.space.u8.set(bytes, addr);
          return;
        }
        if (!Array.isArray(v)) throw bad(`an array takes a JS array${esize === 1 ? ', a string or bytes' : ''}`);
        // a flexible array (nelems 0) holds what its object was allocated with room for
        const fits = t.nelems === 0 ? Math.max(0, Math.floor((this.end - addr) / Math.max(1, esize))) : t.nelems;
        if (v.length > fits) throw bad(`${v.length} elements do not fit in ${fits}${t.nelems === 0 ? ' (a flexible array: give its elements when the object is made)' : ''}`);
        (v as FieldValue[]).forEach((e, i) => this.writeValue(elemId, addr + i * esize, 0, undefined, e, `${path}[${i}]`, depth + 1));
        return;
      }
      case 'struct':
      case 'union': {
        if (!isPlainObject(v)) {
          // A one-member wrapper (kuid_t, atomic_t, ...) takes its member's value.
          const only = t.members.length === 1 ? t.members[0]! : undefined;
          if (only && only.name) return this.writeValue(only.typeId, addr + Math.floor(only.bitOffset / 8), only.bitOffset % 8, only, v, `${path}.${only.name}`, depth + 1);
          throw bad(`${t.kind} ${t.name || '(anonymous)'} takes an object of its fields`);
        }
        for (const [k, fv] of Object.entries(v)) {
          const found = this.member(t, k);
          if (!found) throw bad(`${t.kind} ${t.name || '(anonymous)'} has no field ${k}`);
          this.writeValue(found.member.typeId, addr + Math.floor(found.bitOffset / 8), found.bitOffset % 8, found.member, fv, `${path}.${k}`, depth + 1);
        }
        return;
      }
      default:
        throw bad(`a ${t.kind} cannot be written`);
    }
  }

  private scalar(t: BtfType, v: FieldValue, path: string): bigint {
    if (typeof v === 'bigint') return v;
    if (typeof v === 'boolean') return v ? 1n : 0n;
    if (typeof v === 'number') {
      if (!Number.isInteger(v)) throw new TsbpfError('EINVAL', `${path}: ${v} is not an integer`);
      return BigInt(v);
    }
    if (typeof v === 'string' && (t.kind === 'enum' || t.kind === 'enum64')) {
      const e = (t.values as Array<{ name: string; value: number | bigint }>).find((x) => x.name === v);
      if (!e) throw new TsbpfError('EINVAL', `${path}: enum ${t.name} has no value ${v}`);
      return BigInt(e.value);
    }
    throw new TsbpfError('EINVAL', `${path}: an integer field takes a number or bigint${t.kind === 'int' ? '' : ' or an enumerator name'}`);
  }

  /** The address a pointer field holds for `v`, allocating what it points at when `v` describes it. */
  private pointer(targetId: number, v: FieldValue, path: string, depth: number): bigint {
    if (v === null) return 0n;
    if (v instanceof KernelObject) {
      if (v.model !== this) throw new TsbpfError('EINVAL', `${path}: the object belongs to another kernel model`);
      return BigInt(v.addr);
    }
    if (typeof v === 'bigint') return BigInt.asUintN(64, v);
    if (typeof v === 'number') {
      if (!Number.isInteger(v) || v < 0) throw new TsbpfError('EINVAL', `${path}: ${v} is not an address`);
      return BigInt(v);
    }
    const pointee = this.btf.typeById(this.btf.resolve(targetId));
    if (typeof v === 'string' || v instanceof Uint8Array) {
      if (pointee.kind !== 'int' || pointee.size !== 1) throw new TsbpfError('EINVAL', `${path}: a string points only from a char pointer`);
      return BigInt(typeof v === 'string' ? this.string(v) : this.bytes(v, 'bytes'));
    }
    if (isPlainObject(v) || Array.isArray(v)) {
      if (pointee.kind === 'void' || pointee.kind === 'fwd' || pointee.kind === 'func_proto')
        throw new TsbpfError('EINVAL', `${path}: cannot allocate what a pointer to ${pointee.kind} ${pointee.name} points at: pass an object or an address`);
      const id = this.btf.resolve(targetId);
      const size = this.btf.sizeof(id) + this.flexibleBytes(id, v);
      const r = this.region(size, this.btf.alignof(id), pointee.name || 'object');
      if (pointee.kind === 'struct' || pointee.kind === 'union') this.made.set(r, new KernelObject(this, r.base, id, pointee.name || `[${id}]`, size, r));
      this.within(r.base + size, () => this.writeValue(id, r.base, 0, undefined, v, path, depth + 1));
      return BigInt(r.base);
    }
    throw new TsbpfError('EINVAL', `${path}: a pointer takes an object, an address, null${pointee.kind === 'int' ? ', a string' : ''} or the pointed-to fields`);
  }

  /** A member by name, looking into anonymous struct/union members (C's rules for them). */
  private member(t: StructType, name: string, depth = 0): { member: Member; bitOffset: number } | undefined {
    for (const m of t.members) if (m.name === name) return { member: m, bitOffset: m.bitOffset };
    if (depth > MAX_DEPTH) return undefined;
    for (const m of t.members) {
      if (m.name) continue;
      const inner = this.btf.typeById(this.btf.resolve(m.typeId));
      if (inner.kind !== 'struct' && inner.kind !== 'union') continue;
      const f = this.member(inner, name, depth + 1);
      if (f) return { member: f.member, bitOffset: m.bitOffset + f.bitOffset };
    }
    return undefined;
  }

  /** @internal a field of `obj` along a dotted path, following pointers (NULL: ENOENT) */
  locate(obj: KernelObject, path: string): Place {
    let place: Place = { addr: obj.addr, typeId: obj.typeId, bitOffset: 0 };
    const parts = path.split('.');
    parts.forEach((name, i) => {
      let t = this.btf.typeById(this.btf.resolve(place.typeId));
      if (t.kind === 'ptr') {
        const to = this.readInt(place.addr, 8);
        if (to === 0n) throw new TsbpfError('ENOENT', `${obj.typeName}.${parts.slice(0, i).join('.')} is NULL`);
        place = { addr: Number(to), typeId: t.typeId, bitOffset: 0 };
        t = this.btf.typeById(this.btf.resolve(place.typeId));
      }
      const f = t.kind === 'struct' || t.kind === 'union' ? this.member(t, name) : undefined;
      if (!f) throw new TsbpfError('EINVAL', `${obj.typeName}: no field ${parts.slice(0, i + 1).join('.')}`);
      const bit = place.bitOffset + f.bitOffset;
      place = { addr: place.addr + Math.floor(bit / 8), typeId: f.member.typeId, member: f.member, bitOffset: bit % 8 };
    });
    return place;
  }

  /** @internal a field's value: integers as bigint (sign-extended), char arrays and char pointers as strings */
  read(obj: KernelObject, path: string): bigint | string {
    const p = this.locate(obj, path);
    let t = this.btf.typeById(this.btf.resolve(p.typeId));
    // A one-member wrapper reads as its member (kuid_t as the uid).
    while ((t.kind === 'struct' || t.kind === 'union') && t.members.length === 1) t = this.btf.typeById(this.btf.resolve(t.members[0]!.typeId));
    if (t.kind === 'array') {
      const et = this.btf.typeById(this.btf.resolve(t.elemTypeId));
      if (et.kind === 'int' && et.size === 1) return this.cString(p.addr, t.nelems);
    }
    if (t.kind === 'ptr') {
      const to = this.readInt(p.addr, 8);
      const pt = this.btf.typeById(this.btf.resolve(t.typeId));
      if (pt.kind === 'int' && pt.size === 1 && to !== 0n && this.holds(Number(to))) return this.cString(Number(to), this.space.size - Number(to));
      return to;
    }
    if (t.kind === 'int' || t.kind === 'enum' || t.kind === 'enum64') {
      const signed = t.kind === 'int' ? t.encoding.signed : t.signed;
      const bits = p.member?.bitfieldSize || (t.kind === 'int' ? t.bits : t.size * 8);
      const off = p.bitOffset + (t.kind === 'int' ? t.offset : 0);
      const raw = p.member?.bitfieldSize || off || bits !== t.size * 8 ? this.readBits(p.addr, off, bits) : this.readInt(p.addr, t.size);
      return signed ? BigInt.asIntN(bits, raw) : raw;
    }
    throw new TsbpfError('EINVAL', `${obj.typeName}.${path}: a ${t.kind} has no single value (read its fields)`);
  }

  private cString(addr: number, max: number): string {
    const u8 = this.space.u8;
    let end = addr;
    while (end < addr + max && u8[end] !== 0) end++;
    return new TextDecoder().decode(u8.subarray(addr, end));
  }

  private writeInt(addr: number, size: number, v: bigint): void {
    const u8 = this.space.u8;
    for (let i = 0; i < size; i++) u8[addr + i] = Number((v >> BigInt(8 * i)) & 0xffn);
  }

  private readInt(addr: number, size: number): bigint {
    const u8 = this.space.u8;
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(u8[addr + i]!);
    return v;
  }

  /** Little-endian bit numbering, as BTF's bit offsets count on the BPF target (and x86/arm64). */
  private writeBits(addr: number, bitOff: number, bits: number, v: bigint): void {
    const u8 = this.space.u8;
    for (let i = 0; i < bits; i++) {
      const b = bitOff + i;
      const byte = addr + (b >> 3);
      const mask = 1 << (b & 7);
      if ((v >> BigInt(i)) & 1n) u8[byte]! |= mask;
      else u8[byte]! &= ~mask;
    }
  }

  private readBits(addr: number, bitOff: number, bits: number): bigint {
    const u8 = this.space.u8;
    let v = 0n;
    for (let i = bits - 1; i >= 0; i--) {
      const b = bitOff + i;
      v = (v << 1n) | BigInt((u8[addr + (b >> 3)]! >> (b & 7)) & 1);
    }
    return v;
  }
}

function isPlainObject(v: unknown): v is ObjectInit {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof KernelObject);
}
