/**
 * struct_ops maps (`SEC(".struct_ops")`, `SEC(".struct_ops.link")`): each
 * variable of those sections is an instance of a kernel ops struct
 * (`struct tcp_congestion_ops`, `struct bpf_dummy_ops`, ...) whose function
 * pointer members the object fills with its SEC("struct_ops/...") programs,
 * through relocations. As libbpf's bpf_object__collect_st_ops_relos, a
 * program's attach target is the (struct, member) whose slot points to it:
 * the kernel's attach_btf_id (the struct) and expected_attach_type (the
 * member's index). The struct's name loses a `___flavour` suffix (CO-RE).
 */
import type { Btf } from './btf/btf.js';
import { STT_FUNC, type ElfFile } from './elf.js';

export interface StructOpsSlot {
  /** the kernel struct the variable is an instance of (`tcp_congestion_ops`) */
  struct: string;
  /** the function pointer member the program fills (`ssthresh`) */
  member: string;
}

/** Program symbol name -> the first struct_ops slot that points to it. */
export function structOpsSlots(elf: ElfFile, btf: Btf | undefined): Map<string, StructOpsSlot> {
  const out = new Map<string, StructOpsSlot>();
  if (!btf) return out;
  for (const sec of elf.sections) {
    if (sec.name !== '.struct_ops' && sec.name !== '.struct_ops.link') continue;
    const ds = btf.typeByName(sec.name, 'datasec');
    if (!ds || ds.kind !== 'datasec') continue;
    for (const rs of elf.relocations.get(sec.index) ?? []) {
      for (const rel of rs.entries) {
        const sym = elf.symbols[rel.symbol];
        if (!sym || sym.type !== STT_FUNC) continue;
        const v = ds.vars.find((x) => rel.offset >= x.offset && rel.offset < x.offset + x.size);
        if (!v) continue;
        const vt = btf.types[v.typeId];
        if (!vt || vt.kind !== 'var') continue;
        const st = btf.typeById(btf.resolve(vt.typeId));
        if (st.kind !== 'struct') continue;
        const m = st.members.find((x) => x.bitOffset === (rel.offset - v.offset) * 8);
        if (!m?.name) continue;
        if (!out.has(sym.name)) out.set(sym.name, { struct: st.name.replace(/___.*$/, ''), member: m.name });
      }
    }
  }
  return out;
}
