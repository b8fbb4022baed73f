/**
 * Feature probing (libbpf's libbpf_probe_bpf_* and the kern_feature probes
 * of bpf_object__probe_loading): each probe asks the running kernel with the
 * smallest input that exercises the feature, and a missing feature keeps the
 * reason (the errno the kernel gave) so errors can say why.
 */
import { Btf, type BtfType } from '../object/btf/index.js';
import { MapType, ProgType, type MapTypeName, type ProgTypeName } from '../object/spec.js';
import { Attr, BTF_LOAD, MAP_CREATE, PROG_LOAD, cstr } from './attr.js';
import { BPF_CMD, ERRNO_NAMES, type Sys } from './ffi.js';
import type { BtfFeatures } from './btf-sanitize.js';

export interface Feature {
  ok: boolean;
  /** why not, when not */
  reason?: string;
}

const why = (rc: number): string => `the kernel answered ${ERRNO_NAMES.get(-rc) ?? `errno ${-rc}`}`;

const INT: BtfType = { id: 1, kind: 'int', name: 'int', size: 4, encoding: { signed: true, char: false, bool: false }, bits: 32, offset: 0 };

/** The BTF blob of each probe: libbpf's probe_kern_btf_* types, rebuilt with the Btf model. */
const BTF_PROBES: Record<keyof BtfFeatures, BtfType[]> = {
  func: [INT, { id: 2, kind: 'func_proto', name: '', returnTypeId: 0, params: [{ name: 'x', typeId: 1 }] }, { id: 3, kind: 'func', name: 'f', typeId: 2, linkage: 'static' }],
  funcGlobal: [INT, { id: 2, kind: 'func_proto', name: '', returnTypeId: 0, params: [{ name: 'x', typeId: 1 }] }, { id: 3, kind: 'func', name: 'f', typeId: 2, linkage: 'global' }],
  datasec: [INT, { id: 2, kind: 'var', name: 'x', typeId: 1, linkage: 'static' }, { id: 3, kind: 'datasec', name: '.data', size: 4, vars: [{ typeId: 2, offset: 0, size: 4 }] }],
  float: [{ id: 1, kind: 'float', name: 'float', size: 4 }],
  declTag: [INT, { id: 2, kind: 'var', name: 'x', typeId: 1, linkage: 'static' }, { id: 3, kind: 'decl_tag', name: 'tag', typeId: 2, componentIdx: -1 }],
  typeTag: [INT, { id: 2, kind: 'type_tag', name: 'tag', typeId: 1 }, { id: 3, kind: 'ptr', name: '', typeId: 2 }],
  enum64: [{ id: 1, kind: 'enum64', name: 'e', size: 8, signed: false, values: [{ name: 'A', value: 1n << 40n }] }],
};

export class Features {
  private readonly cache = new Map<string, Feature>();
  constructor(private readonly sys: Sys) {}

  private memo(key: string, probe: () => Feature): Feature {
    let f = this.cache.get(key);
    if (!f) {
      f = probe();
      this.cache.set(key, f);
    }
    return f;
  }

  /** Load a BTF blob; the fd (closed) or -errno. */
  private tryBtf(blob: Uint8Array): number {
    const a = new Attr(this.sys);
    a.ptr(BTF_LOAD.btf, blob);
    a.u32(BTF_LOAD.btf_size, blob.length);
    const fd = this.sys.bpfTry(BPF_CMD.BTF_LOAD, a.bytes);
    if (fd >= 0) this.sys.close(fd);
    return fd;
  }

  /** Does the kernel load BTF at all (CONFIG_DEBUG_INFO_BTF, and bpf(2) allowed)? */
  btf(): Feature {
    return this.memo('btf', () => {
      const rc = this.tryBtf(Btf.fromTypes([INT]).encode('le'));
      return rc >= 0 ? { ok: true } : { ok: false, reason: `BTF_LOAD of a single int: ${why(rc)}` };
    });
  }

  btfKind(k: keyof BtfFeatures): Feature {
    return this.memo(`btf.${k}`, () => {
      const rc = this.tryBtf(Btf.fromTypes(BTF_PROBES[k]).encode('le'));
      return rc >= 0 ? { ok: true } : { ok: false, reason: `BTF with ${k}: ${why(rc)}` };
    });
  }

  btfFeatures(): BtfFeatures {
    const keys = Object.keys(BTF_PROBES) as Array<keyof BtfFeatures>;
    return Object.fromEntries(keys.map((k) => [k, this.btfKind(k).ok])) as Record<keyof BtfFeatures, boolean>;
  }

  /** Can a map of this type be created (libbpf_probe_bpf_map_type, with the sizes each type wants)? */
  mapType(type: MapTypeName): Feature {
    return this.memo(`map.${type}`, () => {
      const a = new Attr(this.sys);
      const [k, v, n] = type === 'ringbuf' || type === 'user_ringbuf' ? [0, 0, 4096] : type === 'queue' || type === 'stack' || type === 'bloom_filter' ? [0, 4, 1] : type === 'lpm_trie' ? [8, 4, 1] : [4, 4, 1];
      a.u32(MAP_CREATE.map_type, MapType[type]).u32(MAP_CREATE.key_size, k).u32(MAP_CREATE.value_size, v).u32(MAP_CREATE.max_entries, n);
      if (type === 'lpm_trie') a.u32(MAP_CREATE.map_flags, 1 /* BPF_F_NO_PREALLOC */);
      const fd = this.sys.bpfTry(BPF_CMD.MAP_CREATE, a.bytes);
      if (fd >= 0) this.sys.close(fd);
      // EINVAL from the attr checks of types that need more (BTF, inner maps) still means the type exists
      return fd >= 0 ? { ok: true } : { ok: false, reason: `BPF_MAP_CREATE of ${type}: ${why(fd)}` };
    });
  }

  /** Does `r0 = 0; exit` load as this program type (libbpf_probe_bpf_prog_type)? */
  progType(type: ProgTypeName): Feature {
    return this.memo(`prog.${type}`, () => {
      const insns = new Uint8Array(16);
      insns[0] = 0xb7; // mov64 r0, 0
      insns[8] = 0x95; // exit
      const a = new Attr(this.sys);
      a.u32(PROG_LOAD.prog_type, ProgType[type]).u32(PROG_LOAD.insn_cnt, 2);
      a.ptr(PROG_LOAD.insns, insns);
      a.ptr(PROG_LOAD.license, cstr('GPL'));
      const fd = this.sys.bpfTry(BPF_CMD.PROG_LOAD, a.bytes);
      if (fd >= 0) this.sys.close(fd);
      return fd >= 0 ? { ok: true } : { ok: false, reason: `BPF_PROG_LOAD of a ${type} program: ${why(fd)}` };
    });
  }
}
