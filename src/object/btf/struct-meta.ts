/**
 * The special fields of a program-local struct (the kernel's btf_struct_meta,
 * built by btf_parse_struct_metas in kernel/bpf/btf.c when the program's BTF
 * is loaded): the objects bpf_obj_new allocates carry the kernel's own words
 * (a bpf_spin_lock, list and rbtree heads and nodes, a bpf_refcount, kptrs),
 * which the program never reads or writes directly ("direct access to
 * bpf_rb_node is disallowed", btf_struct_access).
 *
 * Linux gives a struct a record only when one of its members is (directly)
 * of one of those types, or a kptr; the record then lists the fields of
 * those kinds that btf_parse_fields finds in it.
 */
import type { Btf } from './btf.js';
import { graphRootOf, type GraphRootInfo, type GraphRootKind } from './graph-root.js';

/** btf_field_type_name of the field kinds a local struct's record holds. */
export type AllocFieldKind = 'bpf_spin_lock' | 'bpf_list_head' | 'bpf_list_node' | 'bpf_rb_root' | 'bpf_rb_node' | 'bpf_refcount' | 'kptr';

export interface AllocField {
  off: number;
  size: number;
  kind: AllocFieldKind;
  /** a bpf_list_head's or bpf_rb_root's `__contains` (graph-root.ts) */
  root?: GraphRootInfo | 'invalid';
}

/** A local struct's record: its special fields, and where its bpf_refcount is (refcount_off). */
export interface StructMeta {
  fields: readonly AllocField[];
  refcountOff?: number;
}

/** alloc_obj_fields (kernel/bpf/btf.c): the structs whose presence as a member gives a struct a record. */
const ALLOC_OBJ_FIELDS: ReadonlySet<string> = new Set(['bpf_spin_lock', 'bpf_list_head', 'bpf_list_node', 'bpf_rb_root', 'bpf_rb_node', 'bpf_refcount']);
const KPTR_TAGS: ReadonlySet<string> = new Set(['kptr', 'kptr_untrusted', 'percpu_kptr']);

/** btf_find_kptr: `PTR -> TYPE_TAG(kptr...) -> STRUCT` (arrays of them counted), as a member's type. */
function kptrCount(btf: Btf, typeId: number): number {
  let t = btf.typeById(typeId);
  let n = 1;
  for (let d = 0; d < 32 && t.kind === 'array'; d++) {
    n *= t.nelems;
    t = btf.typeById(t.elemTypeId);
  }
  if (t.kind !== 'ptr') return 0;
  const tag = btf.typeById(t.typeId);
  return tag.kind === 'type_tag' && KPTR_TAGS.has(tag.name) ? n : 0;
}

const metas = new WeakMap<Btf, Map<number, StructMeta | null>>();

/** btf_find_struct_meta: the record of the program-local struct `typeId`, or undefined when it has none. */
export function structMeta(btf: Btf, typeId: number): StructMeta | undefined {
  let m = metas.get(btf);
  if (!m) metas.set(btf, (m = new Map()));
  let r = m.get(typeId);
  if (r === undefined) m.set(typeId, (r = parseStructMeta(btf, typeId) ?? null));
  return r ?? undefined;
}

function parseStructMeta(btf: Btf, typeId: number): StructMeta | undefined {
  const t = btf.typeById(typeId);
  if (t.kind !== 'struct') return undefined;
  const fields: AllocField[] = [];
  let refcountOff: number | undefined;
  let has = false;
  for (const [idx, mem] of t.members.entries()) {
    const off = Math.floor(mem.bitOffset / 8);
    const direct = btf.typeById(mem.typeId);
    const kptrs = kptrCount(btf, mem.typeId);
    if (kptrs) {
      // (btf_parse_struct_metas looks for the kptr's pointer type itself among the members)
      if (direct.kind === 'ptr') has = true;
      for (let e = 0; e < kptrs; e++) fields.push({ off: off + 8 * e, size: 8, kind: 'kptr' });
      continue;
    }
    const mt = btf.typeById(btf.resolve(mem.typeId));
    if (mt.kind !== 'struct' || !ALLOC_OBJ_FIELDS.has(mt.name)) continue;
    if (direct.kind === 'struct') has = true;
    const root = mt.name === 'bpf_list_head' || mt.name === 'bpf_rb_root' ? { root: graphRootOf(btf, t.id, idx, mt.name as GraphRootKind) } : {};
    fields.push({ off, size: mt.size, kind: mt.name as AllocFieldKind, ...root });
    if (mt.name === 'bpf_refcount') refcountOff ??= off;
  }
  if (!has) return undefined;
  return { fields, ...(refcountOff !== undefined ? { refcountOff } : {}) };
}
