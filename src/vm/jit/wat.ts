/**
 * The WebAssembly text form of a JIT-compiled program (`tsbpf prog dump
 * jited`). The printer decodes the module's bytes rather than walking the
 * compiler's data structures, so what it shows is exactly what V8 was given;
 * each eBPF instruction's code is headed by a comment with its slot and
 * disassembly.
 */
import type { Insn } from '../../isa/insn.js';
import { formatInsn } from '../../isa/disasm.js';
import type { ProgramImage } from '../engine.js';
import type { CompiledModule } from './compile.js';
import { JitExecutable } from './engine.js';
import { Atomic, Op } from './wasm.js';

/** Compile `image` (as the JIT engine would) and print its module. */
export function dumpJited(image: ProgramImage): string {
  const exe = new JitExecutable(image, { marks: true });
  try {
    return printWat(exe.compiled, image.insns);
  } finally {
    exe.close();
  }
}

const OP_NAMES = new Map<number, string>();
for (const [k, v] of Object.entries(Op)) {
  if (k === 'atomic_prefix') continue;
  OP_NAMES.set(v, /^(i32|i64|local|global)_/.test(k) ? k.replace('_', '.') : k);
}
const ATOMIC_NAMES = new Map<number, string>();
for (const [k, v] of Object.entries(Atomic)) {
  if (k.startsWith('rmw_')) {
    const o = k.slice(4);
    const forms = ['i32.atomic.rmw.', 'i64.atomic.rmw.', 'i32.atomic.rmw8.', 'i32.atomic.rmw16.', 'i64.atomic.rmw8.', 'i64.atomic.rmw16.', 'i64.atomic.rmw32.'];
    forms.forEach((f, i) => ATOMIC_NAMES.set(v + i, `${f}${o}${i >= 2 ? '_u' : ''}`));
  } else ATOMIC_NAMES.set(v, k.replace('_', '.atomic.'));
}
const VALTYPE: Record<number, string> = { 0x7f: 'i32', 0x7e: 'i64' };

class Reader {
  p = 0;
  constructor(readonly b: Uint8Array) {}
  u8(): number {
    if (this.p >= this.b.length) throw new RangeError('truncated module');
    return this.b[this.p++]!;
  }
  uleb(): number {
    let result = 0;
    let mul = 1;
    for (;;) {
      const byte = this.u8();
      result += (byte & 0x7f) * mul;
      mul *= 128;
      if ((byte & 0x80) === 0) return result;
    }
  }
  sleb(): bigint {
    let result = 0n;
    let shift = 0n;
    let byte: number;
    do {
      byte = this.u8();
      result |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
    } while (byte & 0x80);
    if (byte & 0x40) result -= 1n << shift;
    return result;
  }
  name(): string {
    const n = this.uleb();
    const s = new TextDecoder().decode(this.b.subarray(this.p, this.p + n));
    this.p += n;
    return s;
  }
}

/**
 * Print a compiled module in the text format, with eBPF disassembly comments
 * when `insns` is given and the module was compiled with marks
 * (JitOptions.marks, as dumpJited does).
 */
export function printWat(compiled: CompiledModule, insns?: readonly Insn[]): string {
  const r = new Reader(compiled.bytes);
  r.p = 8;
  const out: string[] = ['(module'];
  const types: string[] = [];
  const funcNames: string[] = [];
  const funcTypes: number[] = [];
  const globalNames = ['$sp', '$tail', '$cpu', '$budget'];
  const exportsOf = new Map<number, string>();
  const byIndex = new Map<number, { name: string; marks: readonly number[] }>(compiled.functions.flatMap((f) => [[f.index, f], ...f.regions.map((r) => [r.index, r] as const)]));
  let importedFuncs = 0;
  while (r.p < r.b.length) {
    const id = r.u8();
    const size = r.uleb();
    const end = r.p + size;
    switch (id) {
      case 1: {
        const n = r.uleb();
        for (let i = 0; i < n; i++) {
          r.u8(); // 0x60
          const params = Array.from({ length: r.uleb() }, () => VALTYPE[r.u8()]);
          const results = Array.from({ length: r.uleb() }, () => VALTYPE[r.u8()]);
          const sig = `(param ${params.join(' ')})${results.length ? ` (result ${results.join(' ')})` : ''}`;
          types.push(sig);
          out.push(`  (type (;${i};) (func ${sig}))`);
        }
        break;
      }
      case 2: {
        const n = r.uleb();
        for (let i = 0; i < n; i++) {
          const mod = r.name();
          const nm = r.name();
          const kind = r.u8();
          if (kind === 0) {
            const t = r.uleb();
            const fname = `$${mod}.${nm}`;
            funcNames.push(fname);
            importedFuncs++;
            out.push(`  (import "${mod}" "${nm}" (func ${fname} (type ${t})))`);
          } else if (kind === 2) {
            const flags = r.u8();
            const min = r.uleb();
            const max = flags & 1 ? ` ${r.uleb()}` : '';
            out.push(`  (import "${mod}" "${nm}" (memory ${min}${max}${flags & 2 ? ' shared' : ''}))`);
          }
        }
        break;
      }
      case 3: {
        const n = r.uleb();
        for (let i = 0; i < n; i++) {
          funcTypes.push(r.uleb());
          const f = byIndex.get(importedFuncs + i);
          funcNames.push(`$${f?.name ?? `func${importedFuncs + i}`}`);
        }
        break;
      }
      case 6: {
        const n = r.uleb();
        for (let i = 0; i < n; i++) {
          const t = VALTYPE[r.u8()];
          const mut = r.u8();
          r.u8(); // the initialiser's opcode, t.const: the value type already names it
          const v = r.sleb();
          r.u8(); // end
          out.push(`  (global ${globalNames[i] ?? `$g${i}`} ${mut ? `(mut ${t})` : t} (${t}.const ${v}))`);
        }
        break;
      }
      case 7: {
        const n = r.uleb();
        for (let i = 0; i < n; i++) {
          const nm = r.name();
          const kind = r.u8();
          const idx = r.uleb();
          if (kind === 0) exportsOf.set(idx, nm);
          else if (kind === 3) out.push(`  (export "${nm}" (global ${globalNames[idx] ?? idx}))`);
        }
        break;
      }
      case 10: {
        const n = r.uleb();
        for (let i = 0; i < n; i++) {
          const fidx = importedFuncs + i;
          const bodySize = r.uleb();
          const bodyEnd = r.p + bodySize;
          const f = byIndex.get(fidx);
          const exp = exportsOf.has(fidx) ? ` (export "${exportsOf.get(fidx)}")` : '';
          const header = [`  (func ${funcNames[fidx]}${exp} (type ${funcTypes[i]}) ${types[funcTypes[i]!] ?? ''}`];
          const groups = r.uleb();
          const locals: string[] = [];
          for (let g = 0; g < groups; g++) {
            const cnt = r.uleb();
            const t = VALTYPE[r.u8()]!;
            for (let k = 0; k < cnt; k++) locals.push(t);
          }
          if (locals.length) header.push(`    (local ${locals.join(' ')})`);
          out.push(...header);
          const codeStart = r.p;
          const marks = new Map<number, number>();
          const fm = f?.marks ?? [];
          for (let k = 0; k < fm.length; k += 2) if (!marks.has(fm[k]!)) marks.set(fm[k]!, fm[k + 1]!);
          let indent = 2;
          let lastSlot = -1;
          while (r.p < bodyEnd) {
            const at = r.p - codeStart;
            const slot = marks.get(at);
            if (slot !== undefined && slot !== lastSlot) {
              lastSlot = slot;
              const text = insns ? `: ${safeFormat(insns, slot)}` : '';
              out.push(`${'  '.repeat(indent)};; insn ${slot}${text}`);
            }
            const o = r.u8();
            let text: string;
            if (o === Op.end || o === Op.else) indent--;
            if (r.p >= bodyEnd && o === Op.end) {
              out.push('  )');
              break;
            }
            switch (o) {
              case Op.block:
              case Op.loop:
              case Op.if: {
                const bt = r.u8();
                text = `${OP_NAMES.get(o)}${bt === 0x40 ? '' : ` (result ${VALTYPE[bt]})`}`;
                break;
              }
              case Op.br:
              case Op.br_if:
              case Op.local_get:
              case Op.local_set:
              case Op.local_tee:
                text = `${OP_NAMES.get(o)} ${r.uleb()}`;
                break;
              case Op.global_get:
              case Op.global_set: {
                const g = r.uleb();
                text = `${OP_NAMES.get(o)} ${globalNames[g] ?? g}`;
                break;
              }
              case Op.call: {
                const fi = r.uleb();
                text = `call ${funcNames[fi] ?? fi}`;
                break;
              }
              case Op.br_table: {
                const cnt = r.uleb();
                const ls = Array.from({ length: cnt + 1 }, () => r.uleb());
                text = `br_table ${ls.join(' ')}`;
                break;
              }
              case Op.memory_size:
                r.u8();
                text = 'memory.size';
                break;
              case Op.i32_const:
              case Op.i64_const:
                text = `${OP_NAMES.get(o)} ${r.sleb()}`;
                break;
              case Op.atomic_prefix: {
                const sub = r.uleb();
                const align = r.uleb();
                const off = r.uleb();
                text = `${ATOMIC_NAMES.get(sub) ?? `atomic.0x${sub.toString(16)}`}${off ? ` offset=${off}` : ''} align=${1 << align}`;
                break;
              }
              default:
                if (o >= 0x28 && o <= 0x3e) {
                  const align = r.uleb();
                  const off = r.uleb();
                  text = `${OP_NAMES.get(o) ?? `load/store.0x${o.toString(16)}`}${off ? ` offset=${off}` : ''} align=${1 << align}`;
                } else text = OP_NAMES.get(o) ?? `;; unknown opcode 0x${o.toString(16)}`;
            }
            out.push(`${'  '.repeat(indent)}${text}`);
            if (o === Op.block || o === Op.loop || o === Op.if || o === Op.else) indent++;
          }
          r.p = bodyEnd;
        }
        break;
      }
    }
    r.p = end;
  }
  out.push(')');
  return out.join('\n') + '\n';
}

function safeFormat(insns: readonly Insn[], i: number): string {
  try {
    return formatInsn(insns, i);
  } catch {
    return '?';
  }
}
