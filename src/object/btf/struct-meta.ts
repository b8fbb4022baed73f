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
import { kptrOf, type KptrField } from './map-fields.js';

/** btf_field_type_name of the field kinds a local struct's record holds. */
export type AllocFieldKind = 'bpf_spin_lock' | 'bpf_list_head' | 'bpf_list_node' | 'bpf_rb_root' | 'bpf_rb_node' | 'bpf_refcount' | 'kptr';

export interface AllocField {
  off: number;
  size: number;
  kind: AllocFieldKind;
  /** a bpf_list_head's or bpf_rb_root's `__contains` (graph-root.ts) */
  root?: GraphRootInfo | 'invalid';
  /** a kptr's tag and struct (btf_find_kptr, as for a map value's: bpf_kptr_xchg into the object) */
  kptr?: KptrField;
}

/** A local struct's record: its special fields, and where its bpf_refcount is (refcount_off). */
export interface StructMeta {
  fields: readonly AllocField[];
  refcountOff?: number;
}

/** alloc_obj_fields (kernel/bpf/btf.c): the structs whose presence as a member gives a struct a record. */
const ALLOC_OBJ_FIELDS: ReadonlySet<string> = new Set(['bpf_spin_lock', 'bpf_list_head', 'bpf_list_node', 'bpf_rb_root', 'bpf_rb_node', 'bpf_refcount']);

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
    // btf_find_kptr, as for a map value (map-fields.ts): a pointee that is no struct (a FWD, where
    // clang never saw the struct whole) makes no kptr, and the member is plain memory
    const k = kptrOf(btf, mem.typeId);
    if (k === 'invalid') continue;
    if (k) {
      // (btf_parse_struct_metas looks for the kptr's pointer type itself among the members)
      if (direct.kind === 'ptr') has = true;
      for (let e = 0; e < k.nelems; e++) {
        const at = off + 8 * e;
        fields.push({ off: at, size: 8, kind: 'kptr', kptr: { off: at, kind: k.kind, struct: k.struct, typeId: k.typeId } });
      }
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
