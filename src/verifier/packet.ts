/**
 * The packet's access rules: a direct access through a packet pointer is
 * allowed within the range a comparison with data_end (or data, for
 * data_meta) proved (check_packet_access), and that comparison is what
 * grants the range to every pointer sharing the id (find_good_pkt_pointers,
 * called from check_cond_jmp_op).
 */
import * as op from '../isa/opcodes.js';
import { Reg } from './types.js';
import { Reject } from './reject.js';
import { type Verifier, MAX_PACKET_OFF } from './env.js';
import { flipCond, negateCond } from './scalar-branch.js';
import { VerifierState } from './state.js';
import { loadedScalar } from './ldst.js';
import { packetAccessMessage } from './log.js';

export function checkPacket(env: Verifier, ptrReg: number, base: Reg, off: number, size: number): void {
  const i = env.idx;
  if (base.s.smin < 0n)
    throw new Reject({
      errno: 'EACCES',
      message: `R${ptrReg} min value is negative, either use unsigned index or do a if (index >=0) check.`,
      insn: i,
      regs: [ptrReg],
    });
  const start = base.off + off;
  if (start < 0 || start + size > base.range || base.s.umax + BigInt(start + size) > BigInt(MAX_PACKET_OFF)) {
    const end = start + size;
    throw new Reject({
      errno: 'EACCES',
      message: packetAccessMessage(ptrReg, start, size, base),
      insn: i,
      regs: [ptrReg],
      hint: base.range >= end ? undefined
        : `compare \`data + ${end}\` with \`data_end\` before this read (e.g. \`if (data + ${end} > data_end) return XDP_PASS;\`)`,
      rule: `the ${size}-byte packet read at offset ${start} needs ${end} bytes, but only ${base.range} were checked against data_end`,
    });
  }
}

export function isPktCompare(a: Reg, b: Reg, jmp32: boolean): boolean {
  if (jmp32) return false;
  return (a.type === 'pkt' && b.type === 'pkt_end') || (a.type === 'pkt_end' && b.type === 'pkt') ||
    (a.type === 'pkt_meta' && b.type === 'pkt') || (a.type === 'pkt' && b.type === 'pkt_meta');
}

/** find_good_pkt_pointers: the side where `pkt + off <= end` holds learns the range `off`. */
export function pktCompare(tSt: VerifierState, fSt: VerifierState, dst: Reg, src: Reg, o: number, dstNo: number, srcNo: number): void {
  // Normalise to `pkt OP end`, where end is data_end (or data, for data_meta).
  let pkt = dst, opc = o, pktNo = dstNo;
  if (dst.type === 'pkt_end' || (dst.type === 'pkt' && src.type === 'pkt_meta')) { pkt = src; opc = flipCond(o); pktNo = srcNo; }
  if (pkt.type === 'pkt' && (pkt === dst ? src : dst).type === 'pkt' ) return;
  // The 'end' side of a meta comparison must be the unmodified data pointer.
  const end = pkt === dst ? src : dst;
  if (end.type === 'pkt' && !(end.id === 0 && end.off === 0 && end.s.isConst() && end.s.varOff.value === 0n)) return;
  const apply = (st: VerifierState, cond: number): void => {
    // mark_pkt_end: where `pkt > data_end` (or `>=`) holds, the register itself (not its copies)
    // is known to point beyond (at) the end, so a later test of it is decided (pktBranchTaken).
    if ((cond === op.BPF_JGT || cond === op.BPF_JGE) && pkt.type === 'pkt' && end.type === 'pkt_end') {
      const r = st.cur.regs[pktNo];
      if (r?.type === 'pkt') r.range = cond === op.BPF_JGT ? BEYOND_PKT_END : AT_PKT_END;
      return;
    }
    let rightOpen: boolean;
    if (cond === op.BPF_JLE) rightOpen = false;
    else if (cond === op.BPF_JLT) rightOpen = true;
    else return;
    if (pkt.off < 0 || (pkt.off === 0 && rightOpen)) return;
    if (pkt.s.umax > BigInt(MAX_PACKET_OFF) || pkt.s.umax + BigInt(pkt.off) > BigInt(MAX_PACKET_OFF)) return;
    const range = pkt.off + (rightOpen ? 1 : 0);
    for (const r of st.allRegs((x) => x.type === pkt.type && x.id === pkt.id)) r.range = Math.max(r.range, range);
  };
  apply(tSt, opc);
  apply(fSt, negateCond(opc));
}

/** mark_pkt_end's ranges: the pointer is at data_end, or at least one byte beyond it (no access fits). */
const AT_PKT_END = -1;
const BEYOND_PKT_END = -2;

/**
 * is_pkt_ptr_branch_taken: a test of a packet pointer marked at or beyond
 * data_end against data_end is decided (1 taken, 0 not, -1 unknown).
 */
export function pktBranchTaken(a: Reg, b: Reg, o: number): 0 | 1 | -1 {
  let pkt = a, opc = o;
  if (b.type === 'pkt_end') pkt = a;
  else if (a.type === 'pkt_end') { pkt = b; opc = flipCond(o); }
  else return -1;
  if (pkt.range >= 0) return -1;
  if (opc === op.BPF_JLE || opc === op.BPF_JGT) return pkt.range === BEYOND_PKT_END ? (opc === op.BPF_JGT ? 1 : 0) : -1;
  if (opc === op.BPF_JLT || opc === op.BPF_JGE) return opc === op.BPF_JGE ? 1 : 0;
  return -1;
}

/** A direct load or store through a packet pointer (check_mem_access's PTR_TO_PACKET case). */
export function packetAccess(env: Verifier, ptrReg: number, base: Reg, off: number, size: number, write: boolean, valReg: number, signExtend: boolean): Reg | undefined {
  const i = env.idx;
  const val = valReg >= 0 ? env.regs()[valReg]! : undefined;
  if (write && !env.rules.pktWrite) throw new Reject({
    errno: 'EACCES',
    message: `cannot write into packet`,
    insn: i,
    regs: [ptrReg],
    rule: `${env.rules.name} programs cannot write packet data directly`,
  });
  // is_pointer_value: only unprivileged programs may not store pointers (allow_ptr_leaks)
  if (write && val?.isPointer && !env.privileged) throw new Reject({
    errno: 'EACCES',
    message: `R${valReg} leaks addr into packet`,
    insn: i,
    regs: [valReg],
  });
  checkPacket(env, ptrReg, base, off, size);
  return write ? undefined : loadedScalar(size, signExtend);
}
