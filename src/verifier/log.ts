/**
 * The verifier log in the kernel's format (kernel/bpf/log.c): register
 * states as `R1=ctx() R2=pkt(off=14,r=14) R0=scalar(smin=...,var_off=(0x0; 0xff))`,
 * stack slots as `fp-8=mmmm????`, instructions as `12: (85) call
 * bpf_map_lookup_elem#1` with the state after them aligned at column 40.
 */
import type { Insn } from '../isa/insn.js';
import { formatInsn } from '../isa/disasm.js';
import { U64, tnumIsConst, tnumIsUnknown, tnumStr } from './tnum.js';
import { S64_MIN, S64_MAX, S32_MIN, S32_MAX, U32_MAX } from './scalar.js';
import { type Reg, regTypeStr } from './types.js';
import { type Frame, type VerifierState, SLOT_CHAR, STACK_SPILL, STACK_ITER, STACK_DYNPTR } from './state.js';
import { isAsyncCallbackFrame } from './timer.js';

export interface MapNames {
  name(map: number): string | undefined;
  keySize(map: number): number;
  valueSize(map: number): number;
}

/** Numbers small in magnitude print in decimal, the rest in hex (verbose_snum / verbose_unum). */
function snum(v: bigint): string {
  const s = BigInt.asIntN(64, v);
  return s >= -32768n && s <= 32767n ? s.toString() : '0x' + BigInt.asUintN(64, s).toString(16);
}
function unum(v: bigint): string {
  const u = BigInt.asUintN(64, v);
  return u <= 65535n ? u.toString() : '0x' + u.toString(16);
}

/** print_scalar_ranges: equal mins (or maxes) are merged as `smin=smin32=0`. */
function scalarRanges(r: Reg): string[] {
  const s = r.s;
  const s32v = (v: bigint): bigint => (v >= -32768n && v <= 32767n ? v : BigInt.asUintN(32, v));
  const m = [
    { name: 'smin', val: BigInt.asUintN(64, s.smin), omit: s.smin === S64_MIN },
    { name: 'smax', val: BigInt.asUintN(64, s.smax), omit: s.smax === S64_MAX },
    { name: 'umin', val: s.umin, omit: s.umin === 0n },
    { name: 'umax', val: s.umax, omit: s.umax === U64 },
    { name: 'smin32', val: BigInt.asUintN(64, s32v(BigInt(s.s32min))), omit: s.s32min === S32_MIN },
    { name: 'smax32', val: BigInt.asUintN(64, s32v(BigInt(s.s32max))), omit: s.s32max === S32_MAX },
    { name: 'umin32', val: BigInt(s.u32min), omit: s.u32min === 0 },
    { name: 'umax32', val: BigInt(s.u32max), omit: s.u32max === U32_MAX },
  ];
  const out: string[] = [];
  for (let i = 0; i < m.length; i++) {
    const a = m[i]!;
    if (a.omit) continue;
    const neg1 = a.name[0] === 's' && BigInt.asIntN(64, a.val) < 0n;
    let text = a.name + '=';
    for (let j = i + 2; j < m.length; j += 2) {
      const b = m[j]!;
      if (b.omit || b.val !== a.val) continue;
      const neg2 = b.name[0] === 's' && BigInt.asIntN(64, b.val) < 0n;
      if (neg1 !== neg2) continue;
      b.omit = true;
      text += b.name + '=';
    }
    text += a.name[0] === 's' ? snum(a.val) : unum(a.val);
    out.push(text);
  }
  return out;
}

export function regStr(r: Reg, frameno: number, maps: MapNames): string {
  if (r.type === 'scalar' && tnumIsConst(r.s.varOff)) return snum(r.s.varOff.value);
  let out = regTypeStr(r);
  // print_reg_state: a PTR_TO_BTF_ID is followed by its type's name (trusted_ptr_task_struct)
  if (r.type === 'btf_id') out += r.btfName;
  if (r.type === 'fp') {
    if (r.frameno !== frameno) out += `[${r.frameno}]`;
    if (tnumIsConst(r.s.varOff)) return out + snum(r.s.varOff.value + BigInt(r.off));
  }
  const parts: string[] = [];
  if (r.id) parts.push(`id=${r.id}${r.addConst ? (r.linkOff >= 0 ? '+' : '') + r.linkOff : ''}`);
  if (r.refObjId) parts.push(`ref_obj_id=${r.refObjId}`);
  if (r.type === 'map_ptr' || r.type === 'map_value' || r.type === 'map_key') {
    const n = maps.name(r.map);
    if (n) parts.push(`map=${n}`);
    parts.push(`ks=${maps.keySize(r.map)},vs=${maps.valueSize(r.map)}`);
  }
  if (r.type !== 'scalar' && r.off) parts.push(`off=${snum(BigInt(r.off))}`);
  if (r.isPkt) parts.push(`r=${unum(BigInt(r.range))}`);
  if (r.type === 'mem') parts.push(`sz=${unum(BigInt(r.memSize))}`);
  if (tnumIsConst(r.s.varOff)) {
    if (r.s.varOff.value) parts.push(`imm=${snum(r.s.varOff.value)}`);
  } else {
    parts.push(...scalarRanges(r));
    if (!tnumIsUnknown(r.s.varOff)) parts.push(`var_off=${tnumStr(r.s.varOff)}`);
  }
  return `${out}(${parts.join(',')})`;
}

function slotStr(f: Frame, spi: number, maps: MapNames): string | null {
  const s = f.stack[spi];
  if (!s || s.isEmpty) return null;
  // print_verifier_state: an iterator prints once, at its first slot (the one with the reference)
  if (s.iter && s.t[7] === STACK_ITER) {
    if (!s.iter.first) return null;
    return `fp${-(spi + 1) * 8}=iter_${s.iter.kind}(ref_id=${s.iter.refObjId},state=${s.iter.state},depth=${s.iter.depth})`;
  }
  // print_verifier_state: a dynptr prints once, at its first slot
  if (s.dynptr && s.t[0] === STACK_DYNPTR) {
    if (!s.dynptr.first) return null;
    const d = s.dynptr;
    return `fp${-(spi + 1) * 8}=dynptr_${d.type}(${[d.id ? `id=${d.id}` : '', d.refObjId ? `ref_id=${d.refObjId}` : ''].filter(Boolean).join(',')})`;
  }
  let types = '';
  for (let j = 0; j < 8; j++) types += SLOT_CHAR[s.t[j]!];
  if (s.isSpill && s.spilled) {
    let j = 0;
    while (j < 8 && s.t[j] !== STACK_SPILL) j++;
    return `fp${-(spi + 1) * 8}=${types.slice(0, j)}${regStr(s.spilled, f.frameno, maps)}`;
  }
  return `fp${-(spi + 1) * 8}=${types}`;
}

/** print_verifier_state: every initialised register and stack slot, or only those in `regs`/`slots`. */
export function frameStr(f: Frame, maps: MapNames, only?: { regs: Set<number>; slots: Set<number> }, refs?: number[]): string {
  const out: string[] = [];
  if (f.frameno) out.push(`frame${f.frameno}:`);
  f.regs.forEach((r, i) => {
    if (r.type === 'not_init') return;
    if (only && !only.regs.has(i)) return;
    out.push(`R${i}=${regStr(r, f.frameno, maps)}`);
  });
  for (let spi = 0; spi < f.stack.length; spi++) {
    if (only && !only.slots.has(spi)) continue;
    const s = slotStr(f, spi, maps);
    if (s) out.push(s);
  }
  if (refs && refs.length) out.push(`refs=${refs.join(',')}`);
  // (print_verifier_state: an async callback's frame is marked apart)
  if (f.callbackOf) out.push(isAsyncCallbackFrame(f) ? 'async_cb' : 'cb');
  return out.join(' ');
}

export function stateStr(st: VerifierState, maps: MapNames): string {
  return st.frames.map((f, i) => frameStr(f, maps, undefined, i === st.frames.length - 1 ? st.refs.map((r) => r.id) : undefined)).join(' ');
}

/** `N: (op) text`, as the kernel's print_bpf_insn with the insn index. */
export function insnLine(insns: readonly Insn[], i: number, helperName?: (id: number) => string | undefined, kfuncName?: (insn: Insn) => string | undefined): string {
  const code = insns[i]!.code.toString(16).padStart(2, '0');
  let text: string;
  try {
    text = formatInsn(insns, i, { dialect: 'kernel', ll: false, ...(helperName ? { helperName } : {}), ...(kfuncName ? { kfuncName } : {}) });
  } catch {
    text = `.raw`;
  }
  return `${i}: (${code}) ${text}`;
}

/** The padding the kernel puts between an instruction and the state after it (vlog_alignment). */
export function alignTo(len: number): number {
  // The kernel counts the position one past the text it printed.
  const pos = len + 1;
  const want = Math.max(pos + 4, 40);
  return Math.ceil(want / 8) * 8 - pos - 1;
}

/**
 * __check_mem_access's refusal of a packet access (check_packet_access), as
 * Linux 6.18 prints it: `off` is the access's offset from the packet
 * pointer's base (the instruction's offset plus the register's fixed
 * offset, which check_mem_access folds in) and appears twice, then the
 * register's id and its checked range: `invalid access to packet, off=36
 * size=2, R1(id=0,off=36,r=34)`, followed by `R1 offset is outside of the packet`.
 */
export function packetAccessMessage(regno: number, off: number, size: number, reg: { id: number; range: number }): string {
  return `invalid access to packet, off=${off} size=${size}, R${regno}(id=${reg.id},off=${off},r=${reg.range})\nR${regno} offset is outside of the packet`;
}
