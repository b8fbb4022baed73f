/**
 * The roots of the program's own lists and red-black trees: a `struct
 * bpf_list_head` or `struct bpf_rb_root` member (or global variable) carries
 * a `__contains(T, field)` declaration tag, BTF DECL_TAG "contains:T:field",
 * naming the program-local struct T its nodes are embedded in and T's member
 * (a `struct bpf_list_node` or `struct bpf_rb_node`) that links them
 * (kernel/bpf/btf.c btf_find_graph_root, btf_parse_graph_root). The verifier
 * checks the node argument of a push or add against it and types what a pop
 * or a remove returns as a T (graph.ts).
 */
import type { Btf } from './btf.js';

/** btf_field_type_name of the graph roots and their nodes. */
export type GraphRootKind = 'bpf_list_head' | 'bpf_rb_root';
export type GraphNodeKind = 'bpf_list_node' | 'bpf_rb_node';

/** The node kind a root of `kind` links. */
export function nodeKindOf(kind: GraphRootKind): GraphNodeKind {
  return kind === 'bpf_list_head' ? 'bpf_list_node' : 'bpf_rb_node';
}

/** The kernel's btf_field_graph_root: the struct the nodes live in and the node member's byte offset. */
export interface GraphRootInfo {
  valueTypeId: number;
  valueName: string;
  nodeOffset: number;
}

/** A root's size and alignment (struct bpf_list_head, struct bpf_rb_root: 16 bytes, 8-aligned; so are the nodes' >= 8). */
export const GRAPH_ROOT_SIZE = 16;
const NODE_ALIGN = 8;

const tagIndex = new WeakMap<Btf, Map<string, string[]>>();

/** The "contains:" decl tags of `btf`, by `typeId:componentIdx`. */
function containsTags(btf: Btf): Map<string, string[]> {
  let m = tagIndex.get(btf);
  if (m) return m;
  m = new Map();
  for (const t of btf.types) {
    if (t.kind !== 'decl_tag' || !t.name.startsWith('contains:')) continue;
    const key = `${t.typeId}:${t.componentIdx}`;
    const list = m.get(key) ?? [];
    list.push(t.name.slice('contains:'.length));
    m.set(key, list);
  }
  tagIndex.set(btf, m);
  return m;
}

/**
 * btf_find_graph_root then btf_parse_graph_root for the root of `kind` that is member
 * `componentIdx` of struct `ownerId` (-1 with `ownerId` a VAR: a global variable). 'invalid'
 * where Linux refuses the BTF or the map (no tag or two, no struct T, no such member, a member
 * of the wrong type or misaligned).
 */
export function graphRootOf(btf: Btf, ownerId: number, componentIdx: number, kind: GraphRootKind): GraphRootInfo | 'invalid' {
  const tags = containsTags(btf).get(`${ownerId}:${componentIdx}`);
  if (!tags || tags.length !== 1) return 'invalid';
  const colon = tags[0]!.indexOf(':');
  if (colon < 0) return 'invalid';
  const valueName = tags[0]!.slice(0, colon), nodeName = tags[0]!.slice(colon + 1);
  const value = btf.typeByName(valueName, 'struct');
  if (!value || value.kind !== 'struct') return 'invalid';
  let nodeOffset: number | undefined;
  for (const m of value.members) {
    if (m.name !== nodeName) continue;
    if (nodeOffset !== undefined) return 'invalid';
    const n = btf.typeById(m.typeId);
    if (n.kind !== 'struct' || n.name !== nodeKindOf(kind)) return 'invalid';
    if (m.bitOffset % 8 || (m.bitOffset / 8) % NODE_ALIGN) return 'invalid';
    nodeOffset = m.bitOffset / 8;
  }
  if (nodeOffset === undefined) return 'invalid';
  return { valueTypeId: value.id, valueName, nodeOffset };
}
