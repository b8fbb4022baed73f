/**
 * Source-annotated disassembly, as `bpftool prog dump xlated [linum]` prints
 * it: the function's C signature (from func_info) where each function starts,
 * a `; source line` comment (from line_info) before the instruction it
 * belongs to, and each instruction as `%4d: (%02x) text`.
 */
import type { Btf } from './btf.js';
import type { FuncInfo, LineInfo } from './ext.js';

export interface LineAnnotations {
  btf: Btf;
  funcInfo?: readonly FuncInfo[];
  lineInfo?: readonly LineInfo[];
}

export interface FormatLinesOptions {
  /** append ` [file:F line_num:N line_col:C]` to each source line (bpftool's `linum`) */
  linum?: boolean;
}

/** The minimal instruction shape needed: the opcode (lddw takes two slots). */
interface InsnLike {
  code: number;
}

/**
 * A C declarator for type `id` in bpftool's "type only" style
 * (`struct xdp_md *`, `const char *`, `int[4]`), used for signatures.
 */
export function typeToString(btf: Btf, id: number, depth = 0): string {
  if (depth > 32) return '?';
  const t = btf.types[id];
  if (!t) return '?';
  switch (t.kind) {
    case 'void':
      return 'void';
    case 'int':
    case 'float':
    case 'typedef':
      return t.name;
    case 'struct':
    case 'union':
    case 'enum':
    case 'enum64':
      return `${t.kind === 'enum64' ? 'enum' : t.kind} ${t.name}`.trimEnd();
    case 'fwd':
      return `${t.union ? 'union' : 'struct'} ${t.name}`;
    case 'ptr':
      return `${typeToString(btf, t.typeId, depth + 1)} *`;
    case 'const':
    case 'volatile':
    case 'restrict':
      return `${t.kind} ${typeToString(btf, t.typeId, depth + 1)}`;
    case 'type_tag':
    case 'var':
    case 'decl_tag':
      return typeToString(btf, t.typeId, depth + 1);
    case 'array':
      return `${typeToString(btf, t.elemTypeId, depth + 1)}[${t.nelems}]`;
    case 'func_proto':
      return `${typeToString(btf, t.returnTypeId, depth + 1)} (*)(${t.params.map((p) => typeToString(btf, p.typeId, depth + 1)).join(', ')})`;
    case 'func':
      return funcSignature(btf, t.id);
    case 'datasec':
      return t.name;
  }
}

/** `int xdp_prog(struct xdp_md * ctx)`: a func's signature as bpftool prints it above its code. */
export function funcSignature(btf: Btf, funcId: number): string {
  const f = btf.types[funcId];
  if (!f || f.kind !== 'func') return '';
  const proto = btf.types[f.typeId];
  if (!proto || proto.kind !== 'func_proto') return `${f.name}()`;
  const params = proto.params.map((p, i) =>
    p.typeId === 0 && i === proto.params.length - 1 ? '...' : `${typeToString(btf, p.typeId)}${p.name ? ' ' + p.name : ''}`,
  );
  return `${typeToString(btf, proto.returnTypeId)} ${f.name}(${params.join(', ')})`;
}

/**
 * Interleave source lines with the disassembly. `disasm(i)` returns the text
 * of the instruction at slot `i` (the caller's disassembler); lddw's second
 * slot is skipped, as bpftool does.
 */
export function formatWithLines(
  insns: readonly InsnLike[],
  ann: LineAnnotations,
  disasm: (index: number) => string,
  options: FormatLinesOptions = {},
): string {
  const out: string[] = [];
  const funcs = new Map<number, FuncInfo>();
  for (const f of ann.funcInfo ?? []) funcs.set(f.insnOff, f);
  const lines = new Map<number, LineInfo[]>();
  for (const l of ann.lineInfo ?? []) {
    const list = lines.get(l.insnOff);
    if (list) list.push(l);
    else lines.set(l.insnOff, [l]);
  }
  for (let i = 0; i < insns.length; i++) {
    const f = funcs.get(i);
    if (f) out.push(`${funcSignature(ann.btf, f.typeId)}:`);
    for (const l of lines.get(i) ?? []) {
      const text = l.line.replace(/^\s+/, '');
      if (text === '') continue;
      out.push(options.linum ? `; ${text} [file:${l.fileName} line_num:${l.lineNum} line_col:${l.lineCol}]` : `; ${text}`);
    }
    const code = insns[i]!.code;
    out.push(`${String(i).padStart(4)}: (${code.toString(16).padStart(2, '0')}) ${disasm(i)}`);
    if (code === 0x18) i++;
  }
  return out.length ? out.join('\n') + '\n' : '';
}
