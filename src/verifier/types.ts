/**
 * Register types and the abstract register, as the kernel's
 * `enum bpf_reg_type` / `struct bpf_reg_state` describe them.
 *
 * A pointer is a base (ctx, a map value, the stack of frame N, the packet,
 * ...) plus a fixed offset `off` plus a variable offset whose bounds live in
 * `s` (the same Scalar a scalar register uses for its value). `id` links
 * registers that must be refined together: copies of one map_value_or_null
 * (a null check applies to all of them), packet pointers derived from the
 * same variable offset (a comparison with data_end grants all of them the
 * range), copies of one scalar (a bounds check applies to all).
 */
import { Scalar } from './scalar.js';

export type RegType =
  | 'not_init'
  | 'scalar'
  | 'ctx'
  | 'map_ptr'
  | 'map_value'
  | 'map_key'
  | 'fp'
  | 'pkt'
  | 'pkt_meta'
  | 'pkt_end'
  | 'mem'
  | 'func'
  /** PTR_TO_BTF_ID: a kernel object typed by the kernel's BTF (btfId), read through btf_struct_access */
  | 'btf_id'
  /** the socket pointers (PTR_TO_SOCKET, PTR_TO_SOCK_COMMON, PTR_TO_TCP_SOCK, PTR_TO_XDP_SOCK): read through their uapi mirrors (sock.ts) */
  | SockRegType
  /** CONST_PTR_TO_DYNPTR: a read-only dynptr a helper hands a callback (dynptr.ts) */
  | 'dynptr'
  /** PTR_TO_FLOW_KEYS: a flow dissector's struct bpf_flow_keys (progtypes/flow-dissector.ts) */
  | 'flow_keys'
  /** PTR_TO_BUF: an iterator's key or value buffer, read-only where `rdonly` (MEM_RDONLY); its size is checked at attach (buf.ts) */
  | 'buf'
  /** PTR_TO_TP_BUFFER: a writable raw tracepoint's buffer; its size is checked at attach (tp-buffer.ts) */
  | 'tp_buffer';

/** The kernel's socket pointer types (type_is_sk_pointer), read as struct bpf_sock, bpf_tcp_sock, bpf_xdp_sock. */
export type SockRegType = 'sock' | 'sock_common' | 'tcp_sock' | 'xdp_sock';

/** enum bpf_dynptr_type: what a dynptr's memory is (dynptr.ts) */
export type DynptrType = 'local' | 'ringbuf' | 'skb' | 'xdp';

/**
 * The trust flags of a PTR_TO_BTF_ID (the kernel's PTR_TRUSTED, MEM_RCU,
 * PTR_UNTRUSTED; '' is the plain, "deprecated" PTR_TO_BTF_ID a walk through
 * an unknown pointer field yields). They decide which helpers and kfuncs
 * accept the pointer; every kind may be read through but 'percpu' (MEM_PERCPU:
 * a per-CPU kernel variable, ksym.ts). 'alloc' is MEM_ALLOC: an owning pointer to an
 * object bpf_obj_new allocated, whose btfId is a struct of the program's own BTF
 * (alloc-obj.ts); the log prints no prefix for it. 'alloc_nonown' is MEM_ALLOC |
 * NON_OWN_REF: a non-owning reference to such an object, which a list or rbtree owns now
 * (graph.ts), valid while the graph's lock is held.
 */
export type BtfPtrFlags = '' | 'trusted' | 'rcu' | 'untrusted' | 'percpu' | 'alloc' | 'alloc_nonown';

/** type_is_alloc: MEM_ALLOC, owning or not (a program-allocated object's struct is of the program's BTF). */
export function isMemAlloc(f: BtfPtrFlags): boolean {
  return f === 'alloc' || f === 'alloc_nonown';
}

/**
 * The fields only a pointer has (the parts of struct bpf_reg_state a scalar leaves at zero): kept
 * apart from the register so that copying a register (a first write after a state clone, a move)
 * copies one reference instead of a dozen fields, and two registers that share them compare
 * them by identity (prune.ts). Never changed once a register holds it: Reg's setters write
 * into a copy (copy-on-write by always copying; pointer fields are set when a pointer is made,
 * rarely after), so any number of registers may hold the same one.
 */
export class PtrInfo {
  /** map index into VerifierInput.maps (map_ptr, map_value, map_key) */
  map = -1;
  /** packet: bytes [0, range) past the pointer are known to be inside the packet */
  range = 0;
  /** mem: size of the memory region */
  memSize = 0;
  /** mem came from bpf_ringbuf_reserve */
  ringbuf = false;
  /** mem is read-only */
  rdonly = false;
  /** fp: the frame whose stack this points into */
  frameno = 0;
  /** func: instruction index of the function */
  subprog = 0;
  /** btf_id: the kernel BTF type id of the object pointed to, its name (for the log) and trust */
  btfId = 0;
  btfName = '';
  btfFlags: BtfPtrFlags = '';
  /**
   * dynptr: its type; mem: the type of the dynptr it is a slice of (an skb or xdp slice moves
   * with the packet, the kernel's DYNPTR_TYPE_* flag on PTR_TO_MEM); '' for none
   */
  dynptrType: DynptrType | '' = '';
  /** mem: the id of the dynptr it is a slice of, which destroying the dynptr invalidates (dynptr_id) */
  dynptrId = 0;

  clone(): PtrInfo {
    const p = new PtrInfo();
    p.map = this.map;
    p.range = this.range;
    p.memSize = this.memSize;
    p.ringbuf = this.ringbuf;
    p.rdonly = this.rdonly;
    p.frameno = this.frameno;
    p.subprog = this.subprog;
    p.btfId = this.btfId;
    p.btfName = this.btfName;
    p.btfFlags = this.btfFlags;
    p.dynptrType = this.dynptrType;
    p.dynptrId = this.dynptrId;
    return p;
  }

  /** Every field but `range` equal (regsafe compares a packet pointer's range as an inclusion). */
  sameBesidesRange(o: PtrInfo): boolean {
    return this.map === o.map && this.frameno === o.frameno && this.memSize === o.memSize && this.ringbuf === o.ringbuf &&
      this.rdonly === o.rdonly && this.subprog === o.subprog && this.btfId === o.btfId && this.btfFlags === o.btfFlags &&
      this.dynptrType === o.dynptrType && this.dynptrId === o.dynptrId;
  }
}

/** A pointer field of `r` written: its `p` is replaced by a changed copy (a PtrInfo is never changed in place), unless nothing changes. */
function setPtr<K extends keyof PtrInfo>(r: Reg, k: K, v: PtrInfo[K]): void {
  if (r.p[k] === v) return;
  const p = r.p.clone();
  p[k] = v;
  r.p = p;
}

/** The pointer fields of every register that never had any set (scalars, not_init). */
const NO_PTR: PtrInfo = Object.freeze(new PtrInfo()) as PtrInfo;

/** The keys of PtrInfo, for Reg.ptr's field list. */
const PTR_KEYS: ReadonlySet<string> = new Set(Object.keys(NO_PTR));

export class Reg {
  type: RegType = 'not_init';
  /** PTR_MAYBE_NULL: the pointer must be compared with 0 before use */
  maybeNull = false;
  /** fixed offset of a pointer */
  off = 0;
  /** a scalar's value, or a pointer's variable offset */
  s: Scalar;
  id = 0;
  /** the reference this pointer holds (ringbuf reservation), 0 for none */
  refObjId = 0;
  /**
   * scalar linked to the registers sharing `id` plus this constant (the
   * kernel's BPF_ADD_CONST): `r2 = r1; r2 += 4` keeps r2 == r1 + 4, so a
   * bounds check on either refines both
   */
  linkOff = 0;
  addConst = false;
  /**
   * The register is held by more than one frame (state.ts: a state clone shares its registers
   * rather than copying them): it is never written again; Frame.reg() hands out a private copy
   * first (with state.ts cowGuard.freeze, as in the tests, it is frozen, its Scalar too, so a
   * write that skipped Frame.reg() fails loudly).
   */
  shared = false;
  /** the pointer-only fields, read and written through the accessors below; never changed in place */
  p: PtrInfo = NO_PTR;

  // The pointer fields, read from and written to `p`.
  get map(): number { return this.p.map; }
  set map(v: number) { setPtr(this, 'map', v); }
  get range(): number { return this.p.range; }
  set range(v: number) { setPtr(this, 'range', v); }
  get memSize(): number { return this.p.memSize; }
  set memSize(v: number) { setPtr(this, 'memSize', v); }
  get ringbuf(): boolean { return this.p.ringbuf; }
  set ringbuf(v: boolean) { setPtr(this, 'ringbuf', v); }
  get rdonly(): boolean { return this.p.rdonly; }
  set rdonly(v: boolean) { setPtr(this, 'rdonly', v); }
  get frameno(): number { return this.p.frameno; }
  set frameno(v: number) { setPtr(this, 'frameno', v); }
  get subprog(): number { return this.p.subprog; }
  set subprog(v: number) { setPtr(this, 'subprog', v); }
  get btfId(): number { return this.p.btfId; }
  set btfId(v: number) { setPtr(this, 'btfId', v); }
  get btfName(): string { return this.p.btfName; }
  set btfName(v: string) { setPtr(this, 'btfName', v); }
  get btfFlags(): BtfPtrFlags { return this.p.btfFlags; }
  set btfFlags(v: BtfPtrFlags) { setPtr(this, 'btfFlags', v); }
  get dynptrType(): DynptrType | '' { return this.p.dynptrType; }
  set dynptrType(v: DynptrType | '') { setPtr(this, 'dynptrType', v); }
  get dynptrId(): number { return this.p.dynptrId; }
  set dynptrId(v: number) { setPtr(this, 'dynptrId', v); }

  /** `s` given: the register takes it as is (no throw-away unknown scalar on the hot paths). */
  constructor(s?: Scalar) {
    this.s = s ?? Scalar.unknown();
  }

  /**
   * A copy; with `s`, one that takes that Scalar as is instead of a copy of this one's (for a
   * caller that replaces the scalar before any change: state.ts cloneOwning).
   */
  clone(s?: Scalar): Reg {
    const r = new Reg(s ?? this.s.clone());
    r.type = this.type;
    r.maybeNull = this.maybeNull;
    r.off = this.off;
    r.id = this.id;
    r.refObjId = this.refObjId;
    r.linkOff = this.linkOff;
    r.addConst = this.addConst;
    r.p = this.p;
    return r;
  }

  /**
   * The register no instruction has written: one shared, frozen object (about half the
   * registers a state clone meets are unwritten; Frame.clone passes this one on instead of
   * copying it). Writing into it throws, so a write meant for a fresh register fails loudly
   * (an internal error), never changes another state.
   */
  static notInit(): Reg {
    return NOT_INIT;
  }

  static unknown(): Reg {
    const r = new Reg();
    r.type = 'scalar';
    return r;
  }

  static known(v: bigint): Reg {
    const r = new Reg(Scalar.known(v));
    r.type = 'scalar';
    return r;
  }

  static scalar(s: Scalar): Reg {
    const r = new Reg(s);
    r.type = 'scalar';
    return r;
  }

  static ptr(type: RegType, fields: Partial<Pick<Reg, 'off' | 'map' | 'frameno' | 'memSize' | 'subprog' | 'range' | 'id' | 'refObjId' | 'maybeNull' | 'ringbuf' | 'rdonly' | 'btfId' | 'btfName' | 'btfFlags' | 'dynptrType' | 'dynptrId'>> = {}): Reg {
    const r = new Reg(Scalar.known(0n));
    r.type = type;
    // the pointer fields go into one new PtrInfo (a setter per field would copy it each time)
    const p = new PtrInfo();
    const pf = p as unknown as Record<string, unknown>, rf = r as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(fields)) (PTR_KEYS.has(k) ? pf : rf)[k] = v;
    r.p = p;
    return r;
  }

  get isPointer(): boolean {
    return this.type !== 'scalar' && this.type !== 'not_init';
  }

  get isPkt(): boolean {
    return this.type === 'pkt' || this.type === 'pkt_meta';
  }

  /** A scalar that is the known constant 0 (register_is_null). */
  get isNull(): boolean {
    return this.type === 'scalar' && this.s.isConst() && this.s.varOff.value === 0n;
  }
}

const NOT_INIT: Reg = new Reg(Object.freeze(Scalar.unknown()) as Scalar);
NOT_INIT.shared = true;
Object.freeze(NOT_INIT);

/** The kernel's names of the register types before any flag (reg_type_str's table). */
const REG_TYPE_BASE: Readonly<Record<RegType, string>> = {
  not_init: '?',
  scalar: 'scalar',
  ctx: 'ctx',
  map_ptr: 'map_ptr',
  map_value: 'map_value',
  map_key: 'map_key',
  fp: 'fp',
  pkt: 'pkt',
  pkt_meta: 'pkt_meta',
  pkt_end: 'pkt_end',
  mem: 'mem',
  func: 'func',
  btf_id: 'ptr_',
  sock: 'sock',
  sock_common: 'sock_common',
  tcp_sock: 'tcp_sock',
  xdp_sock: 'xdp_sock',
  dynptr: 'dynptr_ptr',
  flow_keys: 'flow_keys',
  buf: 'buf',
  tp_buffer: 'tp_buffer',
};

/** The kernel's names of the register types, as its log prints them (reg_type_str). */
export function regTypeStr(r: Reg): string {
  let s = REG_TYPE_BASE[r.type];
  // reg_type_str: the flag prefixes, then "ptr_"; the log appends the struct's name
  if (r.type === 'btf_id' && r.btfFlags && !isMemAlloc(r.btfFlags)) s = `${r.btfFlags}_${s}`;
  if (r.type === 'mem') s = (r.rdonly ? 'rdonly_' : '') + (r.ringbuf ? 'ringbuf_mem' : 'mem');
  if (r.type === 'buf' && r.rdonly) s = 'rdonly_buf';
  // The kernel types a map-in-map lookup's result PTR_TO_MAP_VALUE_OR_NULL until the null check
  // turns it into CONST_PTR_TO_MAP (mark_ptr_or_null_reg): its log says map_value_or_null.
  if (r.maybeNull && r.type === 'map_ptr') s = 'map_value';
  // reg_type_str: PTR_TO_BTF_ID's postfix goes before the struct's name the log appends (ptr_or_null_tcp_sock)
  if (r.maybeNull) s += r.type === 'btf_id' ? 'or_null_' : '_or_null';
  return s;
}
