/**
 * Cut a small, self-contained BTF out of a large one (the kernel's): the
 * named root types and everything they contain, renumbered from 1. Structs
 * and unions reached only through a pointer become forward declarations, so
 * `struct sk_buff *` in a context struct does not drag in half the kernel.
 * This is how tsbpf ships the layouts of the context and tracepoint structs
 * it emulates, as a CO-RE target.
 */
import { Btf } from './btf.js';
import { BtfError } from './error.js';
import type { BtfType } from './types.js';

export function btfSubset(src: Btf, rootNames: ReadonlyArray<string>): Btf {
  const roots: number[] = [];
  for (const name of rootNames) {
    // (`func NAME` where a type of another kind has the name too: the kfunc iterator struct bpf_iter_task, the function bpf_iter_task)
    const m = /^(struct|union|enum|typedef|func) (.+)$/.exec(name);
    const t = m ? src.typeByName(m[2]!, m[1] as 'struct') : src.typeByName(name);
    if (!t) throw new BtfError(-1, `no type '${name}' to copy`, 'ENOENT');
    roots.push(t.id);
  }
  const newId = new Map<number, number>([[0, 0]]);
  const out: BtfType[] = [{ id: 0, kind: 'void', name: '' }];
  /** ids whose definition must be copied; pointer targets that are records become fwd */
  const pending: Array<{ id: number; fwd: boolean }> = [];
  const want = (id: number, fwd = false): number => {
    const key = fwd ? -id - 1 : id;
    const hit = newId.get(key) ?? (fwd ? newId.get(id) : undefined);
    if (hit !== undefined) return hit;
    const nid = out.length;
    out.push({ id: nid, kind: 'void', name: '' }); // reserved: the copy of `id` replaces it below
    newId.set(key, nid);
    pending.push({ id, fwd });
    return nid;
  };
  /** A pointer's target: named records become fwd declarations unless they are roots. */
  const pointee = (id: number): number => {
    const t = src.typeById(id);
    if ((t.kind === 'struct' || t.kind === 'union') && t.name !== '' && !roots.includes(id)) return want(id, true);
    return want(id);
  };
  for (const r of roots) want(r);
  while (pending.length) {
    const { id, fwd } = pending.shift()!;
    const nid = fwd ? newId.get(-id - 1)! : newId.get(id)!;
    const t = src.typeById(id);
    let c: BtfType;
    if (fwd && (t.kind === 'struct' || t.kind === 'union')) c = { id: nid, kind: 'fwd', name: t.name, union: t.kind === 'union' };
    else
      switch (t.kind) {
        case 'ptr':
          c = { ...t, id: nid, typeId: pointee(t.typeId) };
          break;
        case 'typedef':
        case 'const':
        case 'volatile':
        case 'restrict':
        case 'type_tag':
        case 'var':
        case 'func':
        case 'decl_tag':
          c = { ...t, id: nid, typeId: want(t.typeId) } as BtfType;
          break;
        case 'array':
          c = { ...t, id: nid, elemTypeId: want(t.elemTypeId), indexTypeId: want(t.indexTypeId) };
          break;
        case 'struct':
        case 'union':
          c = { ...t, id: nid, members: t.members.map((m) => ({ ...m, typeId: want(m.typeId) })) };
          break;
        case 'func_proto':
          c = { ...t, id: nid, returnTypeId: want(t.returnTypeId), params: t.params.map((p) => ({ ...p, typeId: want(p.typeId) })) };
          break;
        case 'datasec':
          c = { ...t, id: nid, vars: t.vars.map((v) => ({ ...v, typeId: want(v.typeId) })) };
          break;
        case 'enum':
          c = { ...t, id: nid, values: t.values.map((v) => ({ ...v })) };
          break;
        case 'enum64':
          c = { ...t, id: nid, values: t.values.map((v) => ({ ...v })) };
          break;
        default:
          c = { ...t, id: nid } as BtfType;
      }
    out[nid] = c;
  }
  return Btf.fromTypes(out);
}
