/**
 * The special fields of a map value that its BTF declares (the kernel's
 * btf_parse_fields, for the ones tsbpf models): a `struct bpf_spin_lock`,
 * a `struct bpf_timer`, and kptrs (pointer members tagged `__kptr`,
 * `__kptr_untrusted`, `__percpu_kptr`). The verifier (verifier/spin-lock.ts,
 * verifier/kptr.ts) keeps programs off them or types what they load; the maps
 * (maps/special-fields.ts) copy values around them.
 */
import type { Btf } from './btf.js';
import { graphRootOf, type GraphRootInfo, type GraphRootKind } from './graph-root.js';

/** The special fields of a map value (the kernel's btf_record), by byte offset. */
export interface MapValueFields {
  /** struct bpf_spin_lock (4 bytes) */
  spinLock?: number;
  /** struct bpf_timer (16 bytes) */
  timer?: number;
  /** kptrs (8 bytes each), by offset */
  kptrs?: readonly KptrField[];
  /** struct bpf_list_head and struct bpf_rb_root (16 bytes each), by offset (graph-root.ts) */
  graphRoots?: readonly GraphRootField[];
}

/**
 * A list or rbtree root of a map value: what its `__contains` tag says ('invalid' where Linux
 * refuses the map, btf_parse_graph_root).
 */
export interface GraphRootField {
  off: number;
  kind: GraphRootKind;
  root: GraphRootInfo | 'invalid';
}

/** The kernel's BPF_KPTR_REF, BPF_KPTR_UNREF, BPF_KPTR_PERCPU: the BTF type tag on the pointer. */
export type KptrKind = 'kptr' | 'kptr_untrusted' | 'percpu_kptr';

/** A kptr field of a map value (btf_find_kptr): `struct NAME __kptr *` and its relatives. */
export interface KptrField {
  off: number;
  kind: KptrKind;
  /** the struct pointed to, by name: btf_parse_kptr looks it up in the kernel's BTF */
  struct: string;
  /** its id in the program's BTF (a program-local type where the kernel has none by that name) */
  typeId: number;
}

const KPTR_TAGS: ReadonlySet<string> = new Set<KptrKind>(['kptr', 'kptr_untrusted', 'percpu_kptr']);

/**
 * btf_find_kptr: a member of type `[volatile] PTR -> TYPE_TAG(kptr...) -> [modifiers] STRUCT`
 * (arrays of them flattened, btf_find_field_one); undefined for any other member. A tag
 * the kernel does not know, two tags or a pointee that is no struct make the kernel
 * refuse the map (-EINVAL): 'invalid'.
 */
export function kptrOf(btf: Btf, typeId: number): { kind: KptrKind; struct: string; typeId: number; nelems: number } | 'invalid' | undefined {
  let t = btf.typeById(typeId);
  let nelems = 1;
  for (let d = 0; d < 32 && t.kind === 'array'; d++) {
    nelems *= t.nelems;
    t = btf.typeById(t.elemTypeId);
  }
  if (t.kind === 'volatile') t = btf.typeById(t.typeId);
  if (t.kind !== 'ptr') return undefined;
  const tag = btf.typeById(t.typeId);
  if (tag.kind !== 'type_tag') return undefined;
  if (btf.typeById(tag.typeId).kind === 'type_tag' || !KPTR_TAGS.has(tag.name)) return 'invalid';
  const target = btf.typeById(btf.resolve(tag.typeId));
  if (target.kind !== 'struct') return 'invalid';
  return { kind: tag.name as KptrKind, struct: target.name, typeId: target.id, nelems };
}

/** BTF_FIELDS_MAX (include/linux/bpf.h): the most special fields one map value may have. */
const BTF_FIELDS_MAX = 11;

const FIELD_STRUCT = { spinLock: 'bpf_spin_lock', timer: 'bpf_timer' } as const;
const GRAPH_ROOTS: ReadonlySet<string> = new Set<GraphRootKind>(['bpf_list_head', 'bpf_rb_root']);

/**
 * btf_parse_fields for the fields tsbpf models: where `struct bpf_spin_lock` and
 * `struct bpf_timer` sit in the value type `typeId` (members, and members of nested
 * structs, or a global data section's variables; the first of each kind), and its kptrs.
 * Undefined when the value has none.
 */
export function mapValueFields(btf: Btf, typeId: number): MapValueFields | undefined {
  const out: MapValueFields = {};
  const kptrs: KptrField[] = [];
  const graphRoots: GraphRootField[] = [];
  // one member of a struct (member `idx` of struct `owner`), or one variable of a global data
  // section (the VAR `owner`, idx -1), at byte `off`
  const field = (id: number, off: number, depth: number, owner: number, idx: number): void => {
    const k = kptrOf(btf, id);
    if (k === 'invalid') return;
    if (k) {
      for (let e = 0; e < k.nelems; e++) kptrs.push({ off: off + 8 * e, kind: k.kind, struct: k.struct, typeId: k.typeId });
      return;
    }
    const mt = btf.typeById(btf.resolve(id));
    if (mt.kind === 'struct' && mt.name === FIELD_STRUCT.spinLock) out.spinLock ??= off;
    else if (mt.kind === 'struct' && mt.name === FIELD_STRUCT.timer) out.timer ??= off;
    else if (mt.kind === 'struct' && GRAPH_ROOTS.has(mt.name)) graphRoots.push({ off, kind: mt.name as GraphRootKind, root: graphRootOf(btf, owner, idx, mt.name as GraphRootKind) });
    else if (mt.kind === 'struct' || mt.kind === 'union') walk(mt.id, off, depth + 1);
    else if (mt.kind === 'array') nestedArray(mt.id, off, depth, owner, idx);
  };
  // btf_find_nested_struct: an array of structs (flattened) repeats the element's kptrs at each
  // element's offset (btf_repeat_fields, which repeats kptrs only: the kernel refuses a repeated
  // lock or timer, and tsbpf keeps the first)
  const nestedArray = (id: number, off: number, depth: number, owner: number, idx: number): void => {
    let t = btf.typeById(id);
    let nelems = 1;
    for (let d = 0; d < 32 && t.kind === 'array'; d++) {
      nelems *= t.nelems;
      t = btf.typeById(btf.resolve(t.elemTypeId));
    }
    // an array of list or rbtree roots: one root per element, all with the array's tag (btf_repeat_fields)
    if (t.kind === 'struct' && GRAPH_ROOTS.has(t.name)) {
      for (let e = 0; e < nelems; e++) graphRoots.push({ off: off + e * t.size, kind: t.name as GraphRootKind, root: graphRootOf(btf, owner, idx, t.name as GraphRootKind) });
      return;
    }
    if (t.kind !== 'struct' && t.kind !== 'union') return;
    for (let e = 0; e < nelems; e++) walk(t.id, off + e * t.size, depth + 1);
  };
  const walk = (id: number, base: number, depth: number): void => {
    if (depth > 8) return;
    const t = btf.typeById(btf.resolve(id));
    if (t.kind !== 'struct' && t.kind !== 'union') return;
    t.members.forEach((m, idx) => field(m.typeId, base + Math.floor(m.bitOffset / 8), depth, t.id, idx));
  };
  // a global data section's value (.bss, .data): its variables, each at its offset (btf_find_datasec_var)
  const datasec = (): boolean => {
    const t = btf.typeById(btf.resolve(typeId));
    if (t.kind !== 'datasec') return false;
    for (const v of t.vars) {
      const vt = btf.typeById(v.typeId);
      if (vt.kind === 'var') field(vt.typeId, v.offset, 0, vt.id, -1);
    }
    return true;
  };
  try {
    if (!datasec()) walk(typeId, 0, 0);
  } catch {
    return undefined;
  }
  // btf_parse_fields: more than BTF_FIELDS_MAX special fields is -E2BIG, and a map whose
  // record is an error has none (map_check_btf keeps IS_ERR_OR_NULL records as no record)
  if (kptrs.length + graphRoots.length + (out.spinLock === undefined ? 0 : 1) + (out.timer === undefined ? 0 : 1) > BTF_FIELDS_MAX) return undefined;
  if (kptrs.length) out.kptrs = kptrs;
  if (graphRoots.length) out.graphRoots = graphRoots;
  return out.spinLock === undefined && out.timer === undefined && !kptrs.length && !graphRoots.length ? undefined : out;
}

