/**
 * `bpftool btf dump file X format c`: the BTF as a compilable C header
 * (vmlinux.h). The output follows libbpf's btf_dump algorithm so that it
 * matches bpftool line for line:
 *
 * 1. Ordering: for each type id in turn, a depth-first walk finds the named
 *    definitions it needs *by value* (struct members, typedef targets, array
 *    elements) and queues them after their dependencies. A named struct or
 *    typedef reached only through a pointer is a "weak" edge that a forward
 *    declaration satisfies, which is how pointer cycles are broken.
 * 2. Emission: each queued definition is printed; while printing a struct,
 *    types it refers to through pointers get a forward declaration
 *    (`struct X;`) if their definition has not been printed yet.
 * 3. Names: struct/union/enum/fwd names live in one namespace and
 *    typedefs/enumerators in another; the n-th distinct type that claims a
 *    name gets `name___n`, counted in the order names are first printed.
 *
 * Declarators are printed from a stack of the type chain (pointers,
 * qualifiers, arrays, function prototypes) so that `int (*fn)(int, char *)`
 * and `char *names[4]` come out as C spells them. Padding between members is
 * made explicit with anonymous bitfields (`long: 64;`) where the compiler
 * would not insert it by itself, and structs whose layout is not natural get
 * `__attribute__((packed))`.
 */
import type { Btf } from './btf.js';
import { BtfError } from './error.js';
import type { BtfType, StructType, EnumType, Enum64Type, RefType } from './types.js';

const NOT = 0;
const DOING = 1;
const DONE = 2;
/** bound on recursion through type references: corrupted BTF may have cycles */
const MAX_DEPTH = 512;
/** bound on output pieces: anonymous types are printed inline at every use, which a hostile BTF can nest exponentially */
const MAX_PIECES = 1 << 23;
/** 1 MiB of padding between two members */
const MAX_PAD_BITS = 1 << 23;

const HEADER = `#ifndef __VMLINUX_H__
#define __VMLINUX_H__

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
#endif

`;
/**
 * With kfunc prototypes: the attributes the `extern` declarations use, for
 * programs that include vmlinux.h before <bpf/bpf_helpers.h> (which defines
 * the same two macros, hence the guards).
 */
const KSYM_MACROS = `#ifndef __ksym
#define __ksym __attribute__((section(".ksyms")))
#endif

#ifndef __weak
#define __weak __attribute__((weak))
#endif

`;
/** The BTF decl tag the kernel's __bpf_kfunc puts on every kfunc (include/linux/btf.h). */
const KFUNC_DECL_TAG = 'bpf_kfunc';
const FOOTER = `#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute pop
#endif

#endif /* __VMLINUX_H__ */
`;

const tabs = (n: number): string => '\t'.repeat(n);

class CDumper {
  private readonly n: number;
  private readonly orderState: Uint8Array;
  private readonly emitState: Uint8Array;
  private readonly fwdEmitted: Uint8Array;
  private readonly referenced: Uint8Array;
  private readonly cachedNames: (string | undefined)[];
  private readonly typeNames = new Map<string, number>();
  private readonly identNames = new Map<string, number>();
  private queue: number[] = [];
  private out: string[] = [];
  private depth = 0;

  constructor(
    private readonly btf: Btf,
    private readonly enumModes = false,
  ) {
    this.n = btf.types.length;
    this.orderState = new Uint8Array(this.n);
    this.emitState = new Uint8Array(this.n);
    this.fwdEmitted = new Uint8Array(this.n);
    this.referenced = new Uint8Array(this.n);
    this.cachedNames = new Array(this.n);
    this.markReferenced();
  }

  private t(id: number): BtfType {
    return this.btf.types[id]!;
  }

  private enter(id: number): void {
    if (++this.depth > MAX_DEPTH) throw new BtfError(this.btf.offsetOf(id), `type [${id}]: type references nest deeper than ${MAX_DEPTH} (a loop?)`, 'ELOOP');
  }

  /**
   * A type referenced from another type is printed where it is used (an
   * anonymous enum inside a struct); an unreferenced anonymous enum is a
   * top-level declaration of its constants.
   */
  private markReferenced(): void {
    const r = this.referenced;
    for (const t of this.btf.types) {
      switch (t.kind) {
        case 'ptr':
        case 'typedef':
        case 'volatile':
        case 'const':
        case 'restrict':
        case 'type_tag':
        case 'func':
        case 'var':
        case 'decl_tag':
          r[t.typeId] = 1;
          break;
        case 'array':
          r[t.elemTypeId] = 1;
          r[t.indexTypeId] = 1;
          break;
        case 'struct':
        case 'union':
          for (const m of t.members) r[m.typeId] = 1;
          break;
        case 'func_proto':
          r[t.returnTypeId] = 1;
          for (const p of t.params) r[p.typeId] = 1;
          break;
        case 'datasec':
          for (const v of t.vars) r[v.typeId] = 1;
          break;
        default:
          break;
      }
    }
  }

  private resolveName(id: number, map: Map<string, number>): string {
    const t = this.t(id);
    if (t.name === '') return '';
    const hit = this.cachedNames[id];
    if (hit !== undefined) return hit;
    const dup = this.nameDups(map, t.name);
    const name = dup > 1 ? `${t.name}___${dup}` : t.name;
    this.cachedNames[id] = name;
    return name;
  }

  private nameDups(map: Map<string, number>, name: string): number {
    const c = (map.get(name) ?? 0) + 1;
    map.set(name, c);
    return c;
  }

  private typeName(id: number): string {
    return this.resolveName(id, this.typeNames);
  }
  private identName(id: number): string {
    return this.resolveName(id, this.identNames);
  }

  private p(s: string): void {
    if (this.out.push(s) > MAX_PIECES) throw new BtfError(-1, 'C dump too large (nested anonymous types?)', 'E2BIG');
  }

  dumpType(id: number): void {
    this.queue = [];
    this.order(id, false);
    for (const q of this.queue) this.emit(q, 0);
  }

  result(): string {
    return this.out.join('');
  }

  /**
   * `extern RET name(ARGS) __weak __ksym;` for each function the kernel
   * tagged as a kfunc, so that programs can call them (and test them with
   * bpf_ksym_exists()) without declaring them by hand. Weak, because a
   * kernel without one must still load the program: libbpf resolves a
   * missing weak ksym to 0.
   */
  dumpKfuncs(): void {
    this.p('\n/* BPF kfuncs */\n#ifndef BPF_NO_KFUNC_PROTOTYPES\n');
    for (const tag of this.btf.types) {
      if (tag.kind !== 'decl_tag' || tag.componentIdx !== -1 || tag.name !== KFUNC_DECL_TAG) continue;
      const fn = this.btf.types[tag.typeId];
      if (fn?.kind !== 'func') continue;
      this.p('extern ');
      this.emitTypeDecl(fn.typeId, fn.name, 0);
      this.p(' __weak __ksym;\n');
    }
    this.p('#endif\n\n');
  }

  /**
   * Returns 1 when `id` is a "strong" definition (reached by value and now
   * queued/ordered), 0 when a forward declaration suffices.
   */
  private order(id: number, throughPtr: boolean): number {
    if (this.orderState[id] === DONE) return 1;
    const t = this.t(id);
    if (this.orderState[id] === DOING) {
      // a loop is fine if it goes through a pointer to a named struct
      if ((t.kind === 'struct' || t.kind === 'union') && throughPtr && t.name !== '') return 0;
      throw new BtfError(this.btf.offsetOf(id), `type [${id}]: unsatisfiable type cycle`, 'ELOOP');
    }
    this.enter(id);
    try {
      switch (t.kind) {
        case 'void':
          return 0;
        case 'int':
        case 'float':
          this.orderState[id] = DONE;
          return 0;
        case 'ptr': {
          const r = this.order(t.typeId, true);
          this.orderState[id] = DONE;
          return r;
        }
        case 'array':
          return this.order(t.elemTypeId, false);
        case 'struct':
        case 'union': {
          if (throughPtr && t.name !== '') return 0;
          this.orderState[id] = DOING;
          for (const m of t.members) this.order(m.typeId, false);
          if (t.name !== '') this.queue.push(id);
          this.orderState[id] = DONE;
          return 1;
        }
        case 'enum':
        case 'enum64':
        case 'fwd':
          if (t.name !== '' || !this.referenced[id]) this.queue.push(id);
          this.orderState[id] = DONE;
          return 1;
        case 'typedef': {
          const strong = this.order(t.typeId, throughPtr);
          if (throughPtr && !strong) return 0;
          this.queue.push(id);
          this.orderState[id] = DONE;
          return 1;
        }
        case 'volatile':
        case 'const':
        case 'restrict':
        case 'type_tag':
          return this.order(t.typeId, throughPtr);
        case 'func_proto': {
          let strong = this.order(t.returnTypeId, throughPtr) > 0;
          for (const prm of t.params) if (this.order(prm.typeId, throughPtr) > 0) strong = true;
          return strong ? 1 : 0;
        }
        case 'func':
        case 'var':
        case 'datasec':
        case 'decl_tag':
          this.orderState[id] = DONE;
          return 0;
      }
    } finally {
      this.depth--;
    }
  }

  private isBlacklisted(id: number): boolean {
    // __builtin_va_list is the compiler's own; redefining it breaks the build.
    return this.t(id).name === '__builtin_va_list';
  }

  private emit(id: number, contId: number): void {
    if (this.emitState[id] === DONE) return;
    const t = this.t(id);
    const topLevel = contId === 0;
    if (this.emitState[id] === DOING) {
      if (this.fwdEmitted[id]) return;
      if (t.kind === 'struct' || t.kind === 'union') {
        // a struct referring to itself needs no forward declaration
        if (id === contId) return;
        if (t.name === '') return;
        this.p(`${t.kind} ${this.typeName(id)};\n\n`);
        this.fwdEmitted[id] = 1;
      } else if (t.kind === 'typedef') {
        if (!this.isBlacklisted(id)) {
          this.emitTypedefDef(id, t, 0);
          this.p(';\n\n');
        }
        this.fwdEmitted[id] = 1;
      }
      return;
    }
    this.enter(id);
    try {
      switch (t.kind) {
        case 'int':
          this.emitState[id] = DONE;
          break;
        case 'enum':
        case 'enum64':
          if (topLevel) {
            this.emitEnumDef(id, t, 0);
            this.p(';\n\n');
          }
          this.emitState[id] = DONE;
          break;
        case 'ptr':
        case 'volatile':
        case 'const':
        case 'restrict':
        case 'type_tag':
          this.emit(t.typeId, contId);
          break;
        case 'array':
          this.emit(t.elemTypeId, contId);
          break;
        case 'fwd':
          this.p(`${t.union ? 'union' : 'struct'} ${this.typeName(id)};\n\n`);
          this.emitState[id] = DONE;
          break;
        case 'typedef':
          this.emitState[id] = DOING;
          this.emit(t.typeId, id);
          if (!this.fwdEmitted[id] && !this.isBlacklisted(id)) {
            this.emitTypedefDef(id, t, 0);
            this.p(';\n\n');
          }
          this.emitState[id] = DONE;
          break;
        case 'struct':
        case 'union':
          this.emitState[id] = DOING;
          if (topLevel || t.name === '') {
            const cont = t.name === '' ? contId : id;
            for (const m of t.members) this.emit(m.typeId, cont);
          } else if (!this.fwdEmitted[id] && id !== contId) {
            this.p(`${t.kind} ${this.typeName(id)};\n\n`);
            this.fwdEmitted[id] = 1;
          }
          if (topLevel) {
            this.emitStructDef(id, t, 0);
            this.p(';\n\n');
            this.emitState[id] = DONE;
          } else {
            this.emitState[id] = NOT;
          }
          break;
        case 'func_proto':
          this.emit(t.returnTypeId, contId);
          for (const prm of t.params) this.emit(prm.typeId, contId);
          break;
        default:
          break;
      }
    } finally {
      this.depth--;
    }
  }

  private emitTypedefDef(id: number, t: RefType, lvl: number): void {
    const name = this.identName(id);
    // Old GCCs typedef __gnuc_va_list to void; make it the builtin so the header compiles.
    if (t.typeId === 0 && name === '__gnuc_va_list') {
      this.p('typedef __builtin_va_list __gnuc_va_list');
      return;
    }
    this.p('typedef ');
    this.emitTypeDecl(t.typeId, name, lvl);
  }

  private emitEnumDef(id: number, t: EnumType | Enum64Type, lvl: number): void {
    this.p(`enum${t.name !== '' ? ' ' : ''}${this.typeName(id)}`);
    if (t.values.length === 0) return;
    this.p(' {');
    for (const v of t.values) {
      const dup = this.nameDups(this.identNames, v.name);
      const name = dup > 1 ? `${v.name}___${dup}` : v.name;
      let val: string;
      if (t.kind === 'enum') val = t.signed ? String((v.value as number) | 0) : String((v.value as number) >>> 0);
      else val = `${v.value}${t.signed ? 'LL' : 'ULL'}`;
      this.p(`\n${tabs(lvl + 1)}${name} = ${val},`);
    }
    this.p(`\n${tabs(lvl)}}`);
    // Enums of unusual size need a mode attribute for the compiler to reproduce
    // them. libbpf added these after 1.1; bpftool 7.1 (Debian's) omits them.
    if (!this.enumModes) return;
    if (t.size === 1) this.p(' __attribute__((mode(byte)))');
    else if (t.size === 8) {
      let needsWord = true;
      if (t.kind === 'enum64') needsWord = !t.values.some((v) => BigInt.asUintN(64, v.value) >> 32n !== 0n);
      if (needsWord) this.p(' __attribute__((mode(word)))');
    }
  }

  private isPacked(t: StructType): boolean {
    let maxAlign = 1;
    for (const m of t.members) {
      const a = this.btf.alignof(m.typeId);
      if (a && m.bitfieldSize === 0 && m.bitOffset % (8 * a) !== 0) return true;
      if (a > maxAlign) maxAlign = a;
    }
    return t.size % maxAlign !== 0;
  }

  private emitStructDef(id: number, t: StructType, lvl: number): void {
    const isStruct = t.kind === 'struct';
    const align = this.btf.alignof(id);
    const packed = isStruct ? this.isPacked(t) : false;
    this.p(`${t.kind}${t.name !== '' ? ' ' : ''}${this.typeName(id)} {`);
    let off = 0;
    let prevBitfield = false;
    for (const m of t.members) {
      let msz = m.bitfieldSize;
      const moff = m.bitOffset;
      const malign = packed ? 1 : this.btf.alignof(m.typeId);
      const inBitfield = prevBitfield && msz !== 0;
      this.emitBitPadding(off, moff, malign, inBitfield, lvl + 1);
      this.p(`\n${tabs(lvl + 1)}`);
      this.emitTypeDecl(m.typeId, m.name, lvl + 1);
      if (msz) {
        this.p(`: ${msz}`);
        off = moff + msz;
        prevBitfield = true;
      } else {
        msz = Math.max(0, this.sizeOrZero(m.typeId));
        off = moff + msz * 8;
        prevBitfield = false;
      }
      this.p(';');
    }
    if (isStruct) this.emitBitPadding(off, t.size * 8, align, false, lvl + 1);
    // `struct empty {}` stays on one line
    if (t.members.length || t.size) this.p(`\n${tabs(lvl)}}`);
    else this.p('}');
    if (packed) this.p(' __attribute__((packed))');
  }

  private sizeOrZero(id: number): number {
    try {
      return this.btf.sizeof(id);
    } catch (e) {
      if (e instanceof BtfError) return 0;
      throw e;
    }
  }

  /**
   * Fill the gap between `cur` and `next` (bits) with anonymous bitfields.
   * First align to the largest of long/int/short/char that does not
   * overshoot (marking it with `<type>: 0;` when the compiler would not align
   * by itself), then fill with whole `<type>: <bits>;` and a smaller tail.
   */
  private emitBitPadding(cur: number, next: number, nextAlign: number, inBitfield: boolean, lvl: number): void {
    const pads: Array<[string, number]> = [
      ['long', this.btf.pointerSize * 8],
      ['int', 32],
      ['short', 16],
      ['char', 8],
    ];
    if (cur >= next) return;
    // a gap this big is corruption, not layout; printing it would be millions of lines
    if (next - cur > MAX_PAD_BITS) throw new BtfError(-1, `struct padding of ${next - cur} bits is too large to print`, 'E2BIG');
    let padType = '';
    let padBits = 0;
    let newOff = 0;
    for (const [name, bits] of pads) {
      padType = name;
      padBits = bits;
      newOff = Math.ceil(cur / bits) * bits;
      if (newOff <= next) break;
    }
    if (newOff > cur && newOff <= next) {
      if (
        inBitfield ||
        (newOff === next && Math.ceil(cur / (nextAlign * 8)) * nextAlign * 8 !== newOff) ||
        (newOff !== next && next - newOff <= newOff - cur)
      )
        this.p(`\n${tabs(lvl)}${padType}: ${inBitfield ? newOff - cur : 0};`);
      cur = newOff;
    }
    while (cur !== next) {
      const bits = Math.min(next - cur, padBits);
      if (bits === padBits) {
        this.p(`\n${tabs(lvl)}${padType}: ${padBits};`);
        cur += bits;
        continue;
      }
      for (let i = pads.length - 1; i >= 0; i--) {
        const [name, pb] = pads[i]!;
        if (pb < bits) continue;
        padType = name;
        padBits = pb;
        this.p(`\n${tabs(lvl)}${name}: ${bits};`);
        cur += bits;
        break;
      }
    }
  }

  /** Print `type name` as a C declaration of `name` with type `id`. */
  private emitTypeDecl(id: number, fname: string, lvl: number): void {
    const stack: number[] = [];
    let cur = id;
    this.enter(id);
    try {
      for (;;) {
        if (stack.includes(cur)) throw new BtfError(this.btf.offsetOf(cur), `type [${cur}]: loop in a declaration chain`, 'ELOOP');
        stack.push(cur);
        if (stack.length > MAX_DEPTH) throw new BtfError(this.btf.offsetOf(id), `type [${id}]: declaration chain too long`, 'ELOOP');
        const t = this.t(cur);
        if (t.kind === 'ptr' || t.kind === 'volatile' || t.kind === 'const' || t.kind === 'restrict' || t.kind === 'type_tag') cur = t.typeId;
        else if (t.kind === 'func_proto') cur = t.returnTypeId;
        else if (t.kind === 'array') cur = t.elemTypeId;
        else break;
      }
      this.emitTypeChain(stack, fname, lvl);
    } finally {
      this.depth--;
    }
  }

  private emitMods(stack: number[]): void {
    while (stack.length) {
      const t = this.t(stack[stack.length - 1]!);
      if (t.kind === 'volatile') this.p('volatile ');
      else if (t.kind === 'const') this.p('const ');
      else if (t.kind === 'restrict') this.p('restrict ');
      else return;
      stack.pop();
    }
  }

  private dropMods(stack: number[]): void {
    while (stack.length) {
      const k = this.t(stack[stack.length - 1]!).kind;
      if (k !== 'volatile' && k !== 'const' && k !== 'restrict' && k !== 'type_tag') return;
      stack.pop();
    }
  }

  private emitName(name: string, lastWasPtr: boolean): void {
    this.p(`${name !== '' && !lastWasPtr ? ' ' : ''}${name}`);
  }

  /**
   * Print a declarator from its type chain (outermost type first in
   * `stack`, base type last): base type and qualifiers, then pointers,
   * then arrays and function parameter lists, parenthesised as C requires.
   */
  private emitTypeChain(stack: number[], fname: string, lvl: number): void {
    // `int ***`, not `int * * *`; a lone pointer in a func_proto chain prints as (*name)
    let lastWasPtr = true;
    while (stack.length) {
      const id = stack.pop()!;
      const t = this.t(id);
      switch (t.kind) {
        case 'void':
          this.emitMods(stack);
          this.p('void');
          lastWasPtr = false;
          continue;
        case 'int':
        case 'float':
          this.emitMods(stack);
          this.p(t.name);
          break;
        case 'struct':
        case 'union':
          this.emitMods(stack);
          if (t.name === '') this.emitStructDef(id, t, lvl);
          else this.p(`${t.kind} ${this.typeName(id)}`);
          break;
        case 'enum':
        case 'enum64':
          this.emitMods(stack);
          if (t.name === '') this.emitEnumDef(id, t, lvl);
          else this.p(`enum ${this.typeName(id)}`);
          break;
        case 'fwd':
          this.emitMods(stack);
          this.p(`${t.union ? 'union' : 'struct'} ${this.typeName(id)}`);
          break;
        case 'typedef':
          this.emitMods(stack);
          this.p(this.identName(id));
          break;
        case 'ptr':
          this.p(lastWasPtr ? '*' : ' *');
          break;
        case 'volatile':
          this.p(' volatile');
          break;
        case 'const':
          this.p(' const');
          break;
        case 'restrict':
          this.p(' restrict');
          break;
        case 'type_tag':
          this.emitMods(stack);
          this.p(` __attribute__((btf_type_tag("${t.name}")))`);
          break;
        case 'array': {
          // qualifiers on an array (a GCC quirk) mean nothing in C; drop them
          this.dropMods(stack);
          if (stack.length === 0) {
            this.emitName(fname, lastWasPtr);
            this.p(`[${t.nelems}]`);
            return;
          }
          const multidim = this.t(stack[stack.length - 1]!).kind === 'array';
          if (fname !== '' && !lastWasPtr) this.p(' ');
          if (!multidim) this.p('(');
          this.emitTypeChain(stack, fname, lvl);
          if (!multidim) this.p(')');
          this.p(`[${t.nelems}]`);
          return;
        }
        case 'func_proto': {
          this.dropMods(stack);
          if (stack.length) {
            this.p(' (');
            this.emitTypeChain(stack, fname, lvl);
            this.p(')');
          } else {
            this.emitName(fname, lastWasPtr);
          }
          this.p('(');
          const ps = t.params;
          // clang encodes `f(void)` as one void parameter
          if (ps.length === 0 || (ps.length === 1 && ps[0]!.typeId === 0)) {
            this.p('void)');
            return;
          }
          for (let i = 0; i < ps.length; i++) {
            if (i > 0) this.p(', ');
            if (i === ps.length - 1 && ps[i]!.typeId === 0) {
              this.p('...');
              break;
            }
            this.emitTypeDecl(ps[i]!.typeId, ps[i]!.name, lvl);
          }
          this.p(')');
          return;
        }
        default:
          // func, var, datasec, decl_tag cannot appear in a declarator
          return;
      }
      lastWasPtr = t.kind === 'ptr';
    }
    this.emitName(fname, lastWasPtr);
  }
}

/** The whole BTF as `bpftool btf dump file X format c` prints it. */
export interface DumpCOptions {
  /** print `__attribute__((mode(byte|word)))` on 1- and 8-byte enums, as libbpf >= 1.2 does */
  enumModes?: boolean;
  /**
   * end with `extern` prototypes of the kernel's kfuncs (functions with the
   * `bpf_kfunc` decl tag), as bpftool 7.5 and later do; off by default to
   * match the bpftool of Debian 12/13 (7.1), which does not
   */
  kfuncs?: boolean;
}

export function dumpC(btf: Btf, options: DumpCOptions = {}): string {
  const d = new CDumper(btf, options.enumModes);
  const first = btf.base ? btf.base.types.length : 1;
  for (let id = first; id < btf.types.length; id++) d.dumpType(id);
  if (!options.kfuncs) return HEADER + d.result() + FOOTER;
  d.dumpKfuncs();
  return HEADER + KSYM_MACROS + d.result() + FOOTER;
}

/** Just the C definitions of `ids` (and what they depend on), without the vmlinux.h wrapper. */
export function dumpCTypes(btf: Btf, ids: Iterable<number>, options: DumpCOptions = {}): string {
  const d = new CDumper(btf, options.enumModes);
  for (const id of ids) d.dumpType(id);
  return d.result();
}
