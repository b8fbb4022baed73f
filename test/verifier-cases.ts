/**
 * Small programs, each with the verdict the Linux kernel gives (checked by
 * test/verifier-kernel.test.ts against the running kernel). The assembly is
 * kernel syntax; `MAP(name)` stands for the address of one of the maps the
 * harness defines, labels are `Lname`.
 *
 * Maps: m (hash, key 4, value 8, 16 entries), a (array, key 4, value 16,
 * 4 entries), rb (ringbuf, 4096 bytes), pa (prog_array, 4 entries).
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { ProgTypeName } from '../src/object/spec.js';
import { helperId } from '../src/uapi/helper-ids.js';

export interface VerifierCase {
  name: string;
  type: ProgTypeName;
  asm: string;
  accept: boolean;
  /** a fragment of the kernel's (and our) rejection message */
  msg?: string;
}

export const CASE_MAPS = [
  { name: 'm', type: 'hash' as const, keySize: 4, valueSize: 8, maxEntries: 16, flags: 0, c: 'BPF_MAP_TYPE_HASH', key: '__u32', value: '__u64' },
  { name: 'a', type: 'array' as const, keySize: 4, valueSize: 16, maxEntries: 4, flags: 0, c: 'BPF_MAP_TYPE_ARRAY', key: '__u32', value: 'struct v16' },
  { name: 'rb', type: 'ringbuf' as const, keySize: 0, valueSize: 0, maxEntries: 4096, flags: 0, c: 'BPF_MAP_TYPE_RINGBUF' },
  { name: 'pa', type: 'prog_array' as const, keySize: 4, valueSize: 4, maxEntries: 4, flags: 0, c: 'BPF_MAP_TYPE_PROG_ARRAY', key: '__u32', value: '__u32' },
];

const PKT = `
  r2 = *(u32 *)(r1 +0)
  r3 = *(u32 *)(r1 +4)`;
const LOOKUP = (map: string): string => `
  r1 = 0
  *(u32 *)(r10 -4) = r1
  r2 = r10
  r2 += -4
  r1 = MAP(${map})
  call bpf_map_lookup_elem`;

export const CASES: VerifierCase[] = [
  // --- return value / registers
  { name: 'return_zero', type: 'xdp', accept: true, asm: `r0 = 0\nexit` },
  { name: 'r0_uninit', type: 'xdp', accept: false, msg: 'R0 !read_ok', asm: `exit` },
  { name: 'r2_uninit_read', type: 'xdp', accept: false, msg: 'R2 !read_ok', asm: `r0 = r2\nexit` },
  { name: 'write_fp', type: 'xdp', accept: false, msg: 'frame pointer is read only', asm: `r10 = 0\nr0 = 0\nexit` },
  { name: 'return_pointer_root', type: 'xdp', accept: true, asm: `r0 = r10\nexit` },
  // --- ALU
  { name: 'div_by_zero_imm', type: 'xdp', accept: false, msg: 'div by zero', asm: `r0 = 1\nr0 /= 0\nexit` },
  { name: 'div_by_reg', type: 'xdp', accept: true, asm: `call bpf_get_prandom_u32\nr1 = r0\nr0 = 10\nr0 /= r1\nexit` },
  { name: 'shift_too_far', type: 'xdp', accept: false, msg: 'invalid shift 64', asm: `r0 = 1\nr0 <<= 64\nexit` },
  { name: 'shift32_too_far', type: 'xdp', accept: false, msg: 'invalid shift 32', asm: `w0 = 1\nw0 <<= 32\nexit` },
  { name: 'ptr_and', type: 'xdp', accept: false, msg: 'R1 bitwise operator &= on pointer prohibited', asm: `r1 &= 255\nr0 = 0\nexit` },
  { name: 'ptr_mul', type: 'xdp', accept: false, msg: 'R1 pointer arithmetic with *= operator prohibited', asm: `r1 *= 2\nr0 = 0\nexit` },
  { name: 'ptr_add32', type: 'xdp', accept: false, msg: '32-bit pointer arithmetic prohibited', asm: `w1 += 2\nr0 = 0\nexit` },
  { name: 'scalar_minus_ptr', type: 'xdp', accept: false, msg: 'tried to subtract pointer from scalar', asm: `r0 = 0\nr0 -= r1\nexit` },
  { name: 'ptr_minus_ptr_root', type: 'xdp', accept: true, asm: `r0 = r10\nr0 -= r1\nexit` },
  { name: 'pkt_end_arith', type: 'xdp', accept: false, msg: 'pointer arithmetic on pkt_end prohibited', asm: `${PKT}\n  r3 += 1\n  r0 = 0\n  exit` },
  // --- context
  { name: 'xdp_ctx_read_ifindex', type: 'xdp', accept: true, asm: `r0 = *(u32 *)(r1 +12)\nexit` },
  { name: 'xdp_ctx_write', type: 'xdp', accept: false, msg: 'invalid bpf_context access off=0 size=4', asm: `r2 = 0\n*(u32 *)(r1 +0) = r2\nr0 = 0\nexit` },
  { name: 'xdp_ctx_past_end', type: 'xdp', accept: false, msg: 'invalid bpf_context access off=24 size=4', asm: `r0 = *(u32 *)(r1 +24)\nexit` },
  { name: 'xdp_ctx_narrow', type: 'xdp', accept: false, msg: 'invalid bpf_context access off=12 size=2', asm: `r0 = *(u16 *)(r1 +12)\nexit` },
  { name: 'xdp_egress_ifindex', type: 'xdp', accept: false, msg: 'invalid bpf_context access off=20 size=4', asm: `r0 = *(u32 *)(r1 +20)\nexit` },
  { name: 'ctx_modified_var', type: 'xdp', accept: false, msg: 'variable ctx access var_off=(0x0; 0x4) disallowed', asm: `r6 = r1\ncall bpf_get_prandom_u32\nr0 &= 4\nr6 += r0\nr0 = *(u32 *)(r6 +0)\nexit` },
  { name: 'tc_write_mark', type: 'sched_cls', accept: true, asm: `r2 = 7\n*(u32 *)(r1 +8) = r2\nr0 = 0\nexit` },
  { name: 'tc_write_len', type: 'sched_cls', accept: false, msg: 'invalid bpf_context access off=0 size=4', asm: `r2 = 7\n*(u32 *)(r1 +0) = r2\nr0 = 0\nexit` },
  { name: 'tc_narrow_read', type: 'sched_cls', accept: true, asm: `r0 = *(u8 *)(r1 +16)\nexit` },
  { name: 'socket_filter_data', type: 'socket_filter', accept: false, msg: 'invalid bpf_context access off=76 size=4', asm: `r0 = *(u32 *)(r1 +76)\nexit` },
  { name: 'socket_filter_cb_write', type: 'socket_filter', accept: true, asm: `r2 = 1\n*(u32 *)(r1 +48) = r2\nr0 = 0\nexit` },
  { name: 'socket_filter_ld_abs', type: 'socket_filter', accept: true, asm: `r6 = r1\nr0 = *(u8 *)skb[12]\nexit` },
  { name: 'xdp_ld_abs', type: 'xdp', accept: false, msg: 'BPF_LD_[ABS|IND] instructions not allowed', asm: `r6 = r1\nr0 = *(u8 *)skb[12]\nexit` },
  { name: 'kprobe_read_regs', type: 'kprobe', accept: true, asm: `r0 = *(u64 *)(r1 +112)\nexit` },
  { name: 'kprobe_write_ctx', type: 'kprobe', accept: false, msg: 'invalid bpf_context access', asm: `r2 = 0\n*(u64 *)(r1 +0) = r2\nr0 = 0\nexit` },
  { name: 'kprobe_past_pt_regs', type: 'kprobe', accept: false, msg: 'invalid bpf_context access off=168 size=8', asm: `r0 = *(u64 *)(r1 +168)\nexit` },
  // --- packet
  { name: 'pkt_checked', type: 'xdp', accept: true, asm: `${PKT}
  r0 = 1
  r4 = r2
  r4 += 14
  if r4 > r3 goto Lout
  r0 = *(u8 *)(r2 +13)
Lout:
  exit` },
  { name: 'pkt_one_past', type: 'xdp', accept: false, msg: 'R2 offset is outside of the packet', asm: `${PKT}
  r0 = 1
  r4 = r2
  r4 += 14
  if r4 > r3 goto Lout
  r0 = *(u8 *)(r2 +14)
Lout:
  exit` },
  { name: 'pkt_unchecked', type: 'xdp', accept: false, msg: 'invalid access to packet', asm: `${PKT}\n  r0 = *(u8 *)(r2 +0)\n  exit` },
  { name: 'pkt_reversed_compare', type: 'xdp', accept: true, asm: `${PKT}
  r0 = 1
  r4 = r2
  r4 += 8
  if r3 < r4 goto Lout
  r0 = *(u64 *)(r2 +0)
Lout:
  exit` },
  { name: 'pkt_write', type: 'xdp', accept: true, asm: `${PKT}
  r0 = 1
  r4 = r2
  r4 += 2
  if r4 > r3 goto Lout
  r5 = 0
  *(u16 *)(r2 +0) = r5
Lout:
  exit` },
  { name: 'pkt_var_offset', type: 'xdp', accept: true, asm: `${PKT}
  r0 = 1
  r4 = r2
  r4 += 1
  if r4 > r3 goto Lout
  r5 = *(u8 *)(r2 +0)
  r5 &= 15
  r2 += r5
  r4 = r2
  r4 += 4
  if r4 > r3 goto Lout
  r0 = *(u32 *)(r2 +0)
Lout:
  exit` },
  { name: 'pkt_var_offset_unchecked', type: 'xdp', accept: false, msg: 'invalid access to packet', asm: `${PKT}
  r0 = 1
  r4 = r2
  r4 += 20
  if r4 > r3 goto Lout
  r5 = *(u8 *)(r2 +0)
  r5 &= 15
  r2 += r5
  r0 = *(u32 *)(r2 +0)
Lout:
  exit` },
  { name: 'pkt_after_adjust_head', type: 'xdp', accept: false, msg: 'invalid mem access', asm: `r6 = r1
  ${PKT}
  r0 = 1
  r4 = r2
  r4 += 4
  if r4 > r3 goto Lout
  r7 = r2
  r1 = r6
  r2 = 0
  call bpf_xdp_adjust_head
  r0 = *(u32 *)(r7 +0)
Lout:
  exit` },
  // --- stack
  { name: 'stack_rw', type: 'xdp', accept: true, asm: `r1 = 5\n*(u64 *)(r10 -8) = r1\nr0 = *(u64 *)(r10 -8)\nexit` },
  { name: 'stack_uninit_read_root', type: 'xdp', accept: true, asm: `r0 = *(u64 *)(r10 -8)\nexit` },
  { name: 'stack_below_frame', type: 'xdp', accept: false, msg: 'invalid write to stack R10 off=-520 size=8', asm: `r1 = 0\n*(u64 *)(r10 -520) = r1\nr0 = 0\nexit` },
  { name: 'stack_above_frame', type: 'xdp', accept: false, msg: 'invalid read from stack R10 off=0 size=8', asm: `r0 = *(u64 *)(r10 +0)\nexit` },
  { name: 'stack_misaligned', type: 'xdp', accept: false, msg: 'misaligned stack access', asm: `r1 = 0\n*(u32 *)(r10 -6) = r1\nr0 = 0\nexit` },
  { name: 'spill_fill_ctx', type: 'xdp', accept: true, asm: `*(u64 *)(r10 -8) = r1\nr1 = *(u64 *)(r10 -8)\nr0 = *(u32 *)(r1 +12)\nexit` },
  { name: 'partial_fill_ptr', type: 'xdp', accept: false, msg: 'invalid size of register fill', asm: `*(u64 *)(r10 -8) = r1\nr0 = *(u32 *)(r10 -8)\nexit` },
  { name: 'spill_overwritten', type: 'xdp', accept: false, msg: "invalid mem access 'scalar'", asm: `*(u64 *)(r10 -8) = r1\nr2 = 0\n*(u32 *)(r10 -8) = r2\nr1 = *(u64 *)(r10 -8)\nr0 = *(u32 *)(r1 +12)\nexit` },
  { name: 'stack_var_offset_root', type: 'xdp', accept: true, asm: `r1 = 0
  *(u64 *)(r10 -8) = r1
  *(u64 *)(r10 -16) = r1
  call bpf_get_prandom_u32
  r0 &= 8
  r1 = r10
  r1 += -16
  r1 += r0
  r0 = *(u64 *)(r1 +0)
  exit` },
  // --- maps
  { name: 'lookup_checked', type: 'xdp', accept: true, asm: `${LOOKUP('m')}
  if r0 == 0 goto Lout
  r1 = *(u64 *)(r0 +0)
  r1 += 1
  *(u64 *)(r0 +0) = r1
Lout:
  r0 = 2
  exit` },
  { name: 'lookup_unchecked', type: 'xdp', accept: false, msg: "R0 invalid mem access 'map_value_or_null'", asm: `${LOOKUP('m')}
  r1 = *(u64 *)(r0 +0)
  r0 = 2
  exit` },
  { name: 'lookup_ptr_arith_before_check', type: 'xdp', accept: false, msg: 'pointer arithmetic on map_value_or_null prohibited', asm: `${LOOKUP('m')}
  r0 += 4
  r0 = 2
  exit` },
  { name: 'lookup_past_value', type: 'xdp', accept: false, msg: 'invalid access to map value, value_size=8 off=8 size=1\nR0 min value is outside of the allowed memory range', asm: `${LOOKUP('m')}
  if r0 == 0 goto Lout
  r1 = *(u8 *)(r0 +8)
Lout:
  r0 = 2
  exit` },
  { name: 'array_var_index_masked', type: 'xdp', accept: true, asm: `${LOOKUP('a')}
  if r0 == 0 goto Lout
  r1 = *(u32 *)(r0 +0)
  r1 &= 12
  r0 += r1
  r1 = *(u32 *)(r0 +0)
Lout:
  r0 = 2
  exit` },
  { name: 'array_var_index_too_big', type: 'xdp', accept: false, msg: 'R0 max value is outside of the allowed memory range', asm: `${LOOKUP('a')}
  if r0 == 0 goto Lout
  r1 = *(u32 *)(r0 +0)
  r1 &= 15
  r0 += r1
  r1 = *(u32 *)(r0 +0)
Lout:
  r0 = 2
  exit` },
  { name: 'array_index_bounds_check', type: 'xdp', accept: true, asm: `${LOOKUP('a')}
  if r0 == 0 goto Lout
  r1 = *(u64 *)(r0 +0)
  if r1 > 8 goto Lout
  r0 += r1
  r1 = *(u64 *)(r0 +0)
Lout:
  r0 = 2
  exit` },
  { name: 'array_index_signed_unchecked', type: 'xdp', accept: false, msg: 'math between map_value pointer and register with unbounded min value is not allowed', asm: `${LOOKUP('a')}
  if r0 == 0 goto Lout
  r1 = *(u64 *)(r0 +0)
  if r1 s> 8 goto Lout
  r0 += r1
  r1 = *(u8 *)(r0 +0)
Lout:
  r0 = 2
  exit` },
  { name: 'array_index_signed_checked', type: 'xdp', accept: true, asm: `${LOOKUP('a')}
  if r0 == 0 goto Lout
  r1 = *(u64 *)(r0 +0)
  if r1 s> 8 goto Lout
  if r1 s< 0 goto Lout
  r0 += r1
  r1 = *(u64 *)(r0 +0)
Lout:
  r0 = 2
  exit` },
  { name: 'jmp32_bound_64bit_use', type: 'xdp', accept: false, asm: `${LOOKUP('a')}
  if r0 == 0 goto Lout
  r6 = r0
  call bpf_get_prandom_u32
  r1 = r0
  r1 <<= 32
  r1 |= r0
  if w1 > 7 goto Lout
  r6 += r1
  r1 = *(u8 *)(r6 +0)
Lout:
  r0 = 2
  exit` },
  { name: 'jmp32_bound_32bit_use', type: 'xdp', accept: true, asm: `${LOOKUP('a')}
  if r0 == 0 goto Lout
  r6 = r0
  call bpf_get_prandom_u32
  if w0 > 7 goto Lout
  w0 = w0
  r6 += r0
  r1 = *(u64 *)(r6 +0)
Lout:
  r0 = 2
  exit` },
  { name: 'linked_scalar_copy', type: 'xdp', accept: true, asm: `${LOOKUP('a')}
  if r0 == 0 goto Lout
  r6 = r0
  r1 = *(u64 *)(r6 +0)
  r2 = r1
  if r2 > 8 goto Lout
  r6 += r1
  r1 = *(u64 *)(r6 +0)
Lout:
  r0 = 2
  exit` },
  { name: 'linked_scalar_plus_const', type: 'xdp', accept: true, asm: `${LOOKUP('a')}
  if r0 == 0 goto Lout
  r6 = r0
  r1 = *(u32 *)(r6 +0)
  r2 = r1
  r2 += 4
  if r2 > 12 goto Lout
  r6 += r1
  r1 = *(u64 *)(r6 +0)
Lout:
  r0 = 2
  exit` },
  { name: 'linked_scalar_plus_const_too_far', type: 'xdp', accept: false, msg: 'R6 max value is outside of the allowed memory range', asm: `${LOOKUP('a')}
  if r0 == 0 goto Lout
  r6 = r0
  r1 = *(u32 *)(r6 +0)
  r2 = r1
  r2 += 4
  if r2 > 13 goto Lout
  r6 += r1
  r1 = *(u64 *)(r6 +0)
Lout:
  r0 = 2
  exit` },
  { name: 'map_arg_not_map', type: 'xdp', accept: false, msg: 'R1 type=scalar expected=map_ptr', asm: `r1 = 0\nr2 = r10\nr2 += -8\ncall bpf_map_lookup_elem\nr0 = 0\nexit` },
  { name: 'map_key_out_of_stack', type: 'xdp', accept: false, msg: 'invalid read from stack R2 off=-2 size=4', asm: `r2 = r10\nr2 += -2\nr1 = MAP(m)\ncall bpf_map_lookup_elem\nr0 = 0\nexit` },
  { name: 'map_key_uninit_root', type: 'xdp', accept: true, asm: `r2 = r10\nr2 += -8\nr1 = MAP(m)\ncall bpf_map_lookup_elem\nr0 = 0\nexit` },
  { name: 'map_update', type: 'xdp', accept: true, asm: `r1 = 0
  *(u32 *)(r10 -4) = r1
  *(u64 *)(r10 -16) = r1
  r2 = r10
  r2 += -4
  r3 = r10
  r3 += -16
  r4 = 0
  r1 = MAP(m)
  call bpf_map_update_elem
  r0 = 0
  exit` },
  { name: 'lookup_ringbuf_map', type: 'xdp', accept: false, msg: 'invalid zero-sized read', asm: `${LOOKUP('rb')}\n  r0 = 0\n  exit` },
  { name: 'tail_call', type: 'xdp', accept: true, asm: `r2 = MAP(pa)\nr3 = 0\ncall bpf_tail_call\nr0 = 0\nexit` },
  { name: 'tail_call_wrong_map', type: 'xdp', accept: false, msg: 'expected prog array map for tail call', asm: `r2 = MAP(m)\nr3 = 0\ncall bpf_tail_call\nr0 = 0\nexit` },
  // --- helpers
  { name: 'unknown_helper', type: 'xdp', accept: false, msg: 'invalid func unknown#9999', asm: `call 9999\nr0 = 0\nexit` },
  { name: 'helper_clobbers_r1', type: 'xdp', accept: false, msg: 'R1 !read_ok', asm: `call bpf_get_prandom_u32\nr0 = r1\nexit` },
  { name: 'probe_read_kernel', type: 'kprobe', accept: true, asm: `r3 = *(u64 *)(r1 +112)\nr1 = r10\nr1 += -16\nr2 = 16\ncall bpf_probe_read_kernel\nr0 = 0\nexit` },
  { name: 'probe_read_size_unbounded', type: 'kprobe', accept: false, msg: "R2 min value is negative, either use unsigned or 'var &= const'", asm: `r6 = r1\ncall bpf_get_prandom_u32\nr2 = r0\nr3 = *(u64 *)(r6 +112)\nr1 = r10\nr1 += -16\ncall bpf_probe_read_kernel\nr0 = 0\nexit` },
  { name: 'probe_read_size_too_big', type: 'kprobe', accept: false, msg: 'invalid write to stack R1 off=-16 size=17', asm: `r3 = *(u64 *)(r1 +112)\nr1 = r10\nr1 += -16\nr2 = 17\ncall bpf_probe_read_kernel\nr0 = 0\nexit` },
  // --- ring buffer references
  { name: 'ringbuf_submit', type: 'xdp', accept: true, asm: `r1 = MAP(rb)
  r2 = 16
  r3 = 0
  call bpf_ringbuf_reserve
  if r0 == 0 goto Lout
  r1 = 1
  *(u64 *)(r0 +8) = r1
  r1 = r0
  r2 = 0
  call bpf_ringbuf_submit
Lout:
  r0 = 2
  exit` },
  { name: 'ringbuf_leak', type: 'xdp', accept: false, msg: 'Unreleased reference id=2 alloc_insn=4\nBPF_EXIT instruction in main prog would lead to reference leak', asm: `r1 = MAP(rb)
  r2 = 16
  r3 = 0
  call bpf_ringbuf_reserve
  if r0 == 0 goto Lout
  r1 = 1
  *(u64 *)(r0 +8) = r1
Lout:
  r0 = 2
  exit` },
  { name: 'ringbuf_past_reservation', type: 'xdp', accept: false, msg: 'invalid access to memory, mem_size=16 off=16 size=8\nR0 min value is outside of the allowed memory range', asm: `r1 = MAP(rb)
  r2 = 16
  r3 = 0
  call bpf_ringbuf_reserve
  if r0 == 0 goto Lout
  r1 = 1
  *(u64 *)(r0 +16) = r1
  r1 = r0
  r2 = 0
  call bpf_ringbuf_discard
Lout:
  r0 = 2
  exit` },
  { name: 'ringbuf_use_after_submit', type: 'xdp', accept: false, msg: "invalid mem access 'scalar'", asm: `r1 = MAP(rb)
  r2 = 16
  r3 = 0
  call bpf_ringbuf_reserve
  if r0 == 0 goto Lout
  r6 = r0
  r1 = r0
  r2 = 0
  call bpf_ringbuf_submit
  r1 = 1
  *(u64 *)(r6 +0) = r1
Lout:
  r0 = 2
  exit` },
  { name: 'ringbuf_size_not_const', type: 'xdp', accept: false, msg: 'is not a known constant', asm: `call bpf_get_prandom_u32
  r2 = r0
  r1 = MAP(rb)
  r3 = 0
  call bpf_ringbuf_reserve
  r0 = 2
  exit` },
  // --- loops and control flow
  { name: 'bounded_loop', type: 'xdp', accept: true, asm: `r1 = 0
Lloop:
  r1 += 1
  if r1 < 10 goto Lloop
  r0 = 0
  exit` },
  { name: 'infinite_loop', type: 'xdp', accept: false, msg: 'infinite loop detected at insn 1', asm: `r0 = 0
Lloop:
  if r0 == 0 goto Lloop
  exit` },
  { name: 'shrinking_loop', type: 'xdp', accept: true, asm: `call bpf_get_prandom_u32
  r0 &= 255
Lloop:
  r0 >>= 1
  if r0 != 0 goto Lloop
  exit` },
  { name: 'dead_branch_pruned', type: 'xdp', accept: true, asm: `r0 = 0
  if r0 == 1 goto Lbad
  exit
Lbad:
  r0 = *(u64 *)(r0 +0)
  exit` },
  { name: 'unreachable_insn', type: 'xdp', accept: false, msg: 'unreachable insn 2', asm: `r0 = 0\nexit\nr0 = 1\nexit` },
];

const SECTION: Record<string, string> = {
  xdp: 'xdp', sched_cls: 'tc', socket_filter: 'socket', kprobe: 'kprobe/do_nanosleep', tracepoint: 'tracepoint/syscalls/sys_enter_openat',
};

/** The case as C: maps, license and a naked function holding the assembly. */
export function caseToC(c: VerifierCase): string {
  const lines = c.asm.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
    let s = l.replace(/MAP\((\w+)\)/g, '%[$1] ll');
    s = s.replace(/\b(L\w+)\b/g, '$1_%=');
    s = s.replace(/^call (bpf_\w+)$/, (_, n: string) => `call ${helperId(n.replace(/^bpf_/, '')) ?? helperId(n)}`);
    return `"${s}\\n"`;
  });
  const maps = CASE_MAPS.map((m) => {
    const kv = m.key ? `__type(key, ${m.key}); __type(value, ${m.value});` : '';
    return `struct { __uint(type, ${m.c}); __uint(max_entries, ${m.maxEntries}); ${kv} } ${m.name} SEC(".maps");`;
  });
  return `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct v16 { __u64 x, y; };
${maps.join('\n')}
char _license[] SEC("license") = "GPL";
SEC("${SECTION[c.type]}") __attribute__((naked)) int ${c.name}(void)
{
  asm volatile (
${lines.join('\n')}
  : : ${CASE_MAPS.map((m) => `[${m.name}]"i"(&${m.name})`).join(', ')} : "memory");
}
`;
}

export interface KernelVerdict {
  accepted: boolean;
  /** the line before `processed N insns`: the kernel's rejection message */
  message: string;
}

export function kernelLoad(obj: string, pin: string): KernelVerdict {
  const r = spawnSync('bpftool', ['-d', 'prog', 'load', obj, pin], { encoding: 'utf8' });
  rmSync(pin, { force: true });
  const out = (r.stdout ?? '') + (r.stderr ?? '');
  const lines = out.split('\n');
  // The rejection is the block before the statistics (`verification time`, `stack depth`, `processed`):
  // its last lines, from the last instruction or state line on.
  let k = lines.findIndex((l) => /^processed \d+ insns/.test(l));
  while (k > 0 && /^(verification time|stack depth)/.test(lines[k - 1]!)) k--;
  let message = '';
  if (k > 0) {
    let j = k - 1;
    while (j > 0 && k - j < 4 && !/^\d+: (\(|R\d)/.test(lines[j - 1]!) && lines[j - 1] !== '') j--;
    message = lines.slice(j, k).join('\n').replace(/verification time \d+ usec/, '').trim();
  } else {
    message = lines.find((l) => /libbpf: prog '.*': BPF program load failed/.test(l)) ?? '';
  }
  return { accepted: r.status === 0, message };
}

