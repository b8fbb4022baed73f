/**
 * Strict pointer alignment (the kernel's check_ptr_alignment with
 * strict = true). x86-64 has efficient unaligned access, so Linux checks
 * the alignment of ordinary loads and stores only on the stack; atomic
 * instructions (check_atomic: check_mem_access with strict_alignment_once)
 * must be naturally aligned on every pointer type, since a misaligned atomic
 * is not atomic (or faults) on the hardware.
 */
import type { Reg } from './types.js';
import { tnumAdd, tnumConst, tnumIsAligned, tnumStr, type Tnum } from './tnum.js';

/** Linux 6.18 prints a constant variable offset as its value (`off 0+0+3`). */
const varOffStr = (t: Tnum): string => (t.mask === 0n ? String(t.value) : tnumStr(t));

/** The kernel's pointer_desc for the log message of each pointer type. */
const DESC: Partial<Record<Reg['type'], string>> = {
  map_key: 'key ',
  map_value: 'value ',
  ctx: 'context ',
  fp: 'stack ',
  sock: 'sock ',
  sock_common: 'sock_common ',
  tcp_sock: 'tcp_sock ',
  xdp_sock: 'xdp_sock ',
};

/**
 * The log line when `size` bytes at `base + off` are not `size`-aligned
 * (check_generic_ptr_alignment / check_pkt_ptr_alignment), else undefined.
 */
export function strictAlignError(base: Reg, off: number, size: number): string | undefined {
  if (size === 1) return undefined;
  if (base.type === 'pkt' || base.type === 'pkt_meta') {
    // check_pkt_ptr_alignment: the packet starts NET_IP_ALIGN (2) bytes into an aligned buffer
    const ipAlign = 2;
    const regOff = tnumAdd(base.s.varOff, tnumConst(BigInt(ipAlign + base.off + off)));
    if (tnumIsAligned(regOff, size)) return undefined;
    return `misaligned packet access off ${ipAlign}+${varOffStr(base.s.varOff)}+${base.off}+${off} size ${size}`;
  }
  const regOff = tnumAdd(base.s.varOff, tnumConst(BigInt(base.off + off)));
  if (tnumIsAligned(regOff, size)) return undefined;
  return `misaligned ${DESC[base.type] ?? ''}access off ${varOffStr(base.s.varOff)}+${base.off}+${off} size ${size}`;
}
