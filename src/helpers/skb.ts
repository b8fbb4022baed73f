/**
 * sk_buff helpers (net/core/filter.c): bpf_skb_load_bytes,
 * bpf_skb_store_bytes, bpf_l3_csum_replace, bpf_l4_csum_replace and
 * bpf_csum_diff, with the kernel's argument checks and its exact
 * one's-complement arithmetic (csum.ts). Offsets count from skb->data: the
 * network header for socket filters, the Ethernet header for tc.
 */
import { SK_BUFF } from '../uapi/ctx.js';
import { BPF_FUNC } from '../uapi/helper-ids.js';
import type { ExecEnv, HelperDef } from '../vm/helper-abi.js';
import { helper } from './def.js';
import { err, inSpace, runOf, u32, type SkbPacket } from './env.js';
import { csumAdd, csumFrom32to16, csumPartial, csumReplace2, csumReplace4, csumReplaceByDiff, csumSub } from './csum.js';

export const BPF_F_RECOMPUTE_CSUM = 1n << 0n;
export const BPF_F_INVALIDATE_HASH = 1n << 1n;
const BPF_F_HDR_FIELD_MASK = 0xfn;
const BPF_F_PSEUDO_HDR = 1n << 4n;
export const BPF_F_MARK_MANGLED_0 = 1n << 5n;
const BPF_F_MARK_ENFORCE = 1n << 6n;
const BPF_F_IPV6 = 1n << 7n;
/** CSUM_MANGLED_0: a computed UDP checksum of 0 is sent as all ones (RFC 768). */
const CSUM_MANGLED_0 = 0xffff;
const INT_MAX = 0x7fffffff;


function skbOf(env: ExecEnv): SkbPacket | undefined {
  const p = runOf(env).packet;
  return p && p.kind === 'skb' ? p : undefined;
}

/** skb->data and skb->len, as the context struct holds them. */
function dataLen(env: ExecEnv, p: SkbPacket): [number, number] {
  return [env.space.readU32(p.ctx + SK_BUFF.data), env.space.readU32(p.ctx + SK_BUFF.len)];
}

/** The checksum-field helpers' shared checks; the field's address, or an errno. */
function csumField(env: ExecEnv, offset: number): number | 'EFAULT' | 'EINVAL' {
  const p = skbOf(env);
  if (!p) return 'EINVAL';
  if (offset > 0xffff || offset & 1) return 'EFAULT';
  const [data, len] = dataLen(env, p);
  // bpf_try_make_writable: pskb_may_pull(skb, offset + 2) fails past the packet.
  if (offset + 2 > len) return 'EFAULT';
  return data + offset;
}

export const skbHelpers: HelperDef[] = [
  helper(BPF_FUNC.skb_load_bytes, (env, _r1, r2, r3, r4) => {
    const len = u32(r4);
    const offset = u32(r2);
    if (!inSpace(env, r3, len)) return err('EFAULT');
    const to = Number(r3);
    const p = skbOf(env);
    if (p && offset <= INT_MAX) {
      const [data, plen] = dataLen(env, p);
      // skb_header_pointer: the bytes must lie within skb->len.
      if (offset + len <= plen) {
        env.space.u8.copyWithin(to, data + offset, data + offset + len);
        return 0n;
      }
    }
    env.space.u8.fill(0, to, to + len);
    return err('EFAULT');
  }),
  helper(BPF_FUNC.skb_store_bytes, (env, _r1, r2, r3, r4, r5) => {
    if (r5 & ~(BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH)) return err('EINVAL');
    const offset = u32(r2);
    const len = u32(r4);
    if (offset > INT_MAX) return err('EFAULT');
    const p = skbOf(env);
    if (!p) return err('EINVAL');
    const [data, plen] = dataLen(env, p);
    if (offset + len > plen) return err('EFAULT');
    if (!inSpace(env, r3, len)) return err('EFAULT');
    const dst = data + offset;
    const u8 = env.space.u8;
    // BPF_F_RECOMPUTE_CSUM keeps a CHECKSUM_COMPLETE skb->csum in step: subtract the old bytes, add the new.
    if (r5 & BPF_F_RECOMPUTE_CSUM && p.csumComplete) p.csumComplete.csum = csumSubBytes(p.csumComplete.csum, u8.subarray(dst, dst + len), offset);
    u8.copyWithin(dst, Number(r3), Number(r3) + len);
    if (r5 & BPF_F_RECOMPUTE_CSUM && p.csumComplete) p.csumComplete.csum = csumAddBytes(p.csumComplete.csum, u8.subarray(dst, dst + len), offset);
    if (r5 & BPF_F_INVALIDATE_HASH) {
      env.space.writeU32(p.ctx + SK_BUFF.hash, 0);
      p.hashCleared = true;
    }
    return 0n;
  }),
  helper(BPF_FUNC.l3_csum_replace, (env, _r1, r2, r3, r4, r5) => {
    if (r5 & ~BPF_F_HDR_FIELD_MASK) return err('EINVAL');
    const at = csumField(env, u32(r2));
    if (typeof at === 'string') return err(at);
    const sum = env.space.readU16(at);
    switch (Number(r5 & BPF_F_HDR_FIELD_MASK)) {
      case 0:
        if (r3 !== 0n) return err('EINVAL');
        env.space.writeU16(at, csumReplaceByDiff(sum, u32(r4)));
        break;
      case 2:
        env.space.writeU16(at, csumReplace2(sum, Number(r3 & 0xffffn), Number(r4 & 0xffffn)));
        break;
      case 4:
        env.space.writeU16(at, csumReplace4(sum, u32(r3), u32(r4)));
        break;
      default:
        return err('EINVAL');
    }
    return 0n;
  }),
  helper(BPF_FUNC.l4_csum_replace, (env, _r1, r2, r3, r4, r5) => {
    if (r5 & ~(BPF_F_MARK_MANGLED_0 | BPF_F_MARK_ENFORCE | BPF_F_PSEUDO_HDR | BPF_F_HDR_FIELD_MASK | BPF_F_IPV6)) return err('EINVAL');
    const at = csumField(env, u32(r2));
    if (typeof at === 'string') return err(at);
    const mmzero = (r5 & BPF_F_MARK_MANGLED_0) !== 0n;
    const enforce = (r5 & BPF_F_MARK_ENFORCE) !== 0n;
    const sum = env.space.readU16(at);
    // A zero UDP checksum means "none": leave it alone unless told to enforce.
    if (mmzero && !enforce && sum === 0) return 0n;
    // ip_summed is never CHECKSUM_PARTIAL in a test run, so the field itself is always updated
    // (inet_proto_csum_replace4 / _by_diff); BPF_F_PSEUDO_HDR only affects skb->csum.
    let next: number;
    switch (Number(r5 & BPF_F_HDR_FIELD_MASK)) {
      case 0:
        if (r3 !== 0n) return err('EINVAL');
        next = csumReplaceByDiff(sum, u32(r4));
        break;
      case 2:
        next = csumReplace4(sum, Number(r3 & 0xffffn), Number(r4 & 0xffffn));
        break;
      case 4:
        next = csumReplace4(sum, u32(r3), u32(r4));
        break;
      default:
        return err('EINVAL');
    }
    if (mmzero && next === 0) next = CSUM_MANGLED_0;
    env.space.writeU16(at, next);
    return 0n;
  }),
  helper(BPF_FUNC.csum_diff, (env, r1, r2, r3, r4, r5) => {
    const fromSize = u32(r2);
    const toSize = u32(r4);
    // Sizes are whole words, each at most 512 bytes (the old per-CPU scratchpad's 128 words).
    if ((fromSize | toSize) & 3 || fromSize > 512 || toSize > 512) return err('EINVAL');
    if ((fromSize && !inSpace(env, r1, fromSize)) || (toSize && !inSpace(env, r3, toSize))) return err('EFAULT');
    const from = env.space.bytes(Number(r1), fromSize);
    const to = env.space.bytes(Number(r3), toSize);
    const seed = u32(r5);
    // Since Linux 6.13 every architecture computes the difference the same way and folds it
    // to 16 bits (csum_from32to16), so the value programs see no longer depends on the arch.
    let sum: number;
    if (fromSize && toSize) sum = csumSub(csumPartial(to, seed), csumPartial(from, 0));
    else if (toSize) sum = csumPartial(to, seed);
    else if (fromSize) sum = ~csumPartial(from, ~seed >>> 0) >>> 0;
    else sum = seed;
    return BigInt(csumFrom32to16(sum));
  }),
];

/** csum_shift: a block at an odd offset contributes its sum rotated by 8 bits (csum_block_add/sub). */
function blockSum(bytes: Uint8Array, offset: number): number {
  const sum = csumPartial(bytes, 0);
  return offset & 1 ? ((sum >>> 8) | (sum << 24)) >>> 0 : sum;
}

/** __skb_postpull_rcsum: remove the bytes at `offset` from a CHECKSUM_COMPLETE skb->csum. */
function csumSubBytes(csum: number, bytes: Uint8Array, offset: number): number {
  return csumSub(csum, blockSum(bytes, offset));
}

/** __skb_postpush_rcsum: add the bytes at `offset` back. */
function csumAddBytes(csum: number, bytes: Uint8Array, offset: number): number {
  return csumAdd(csum, blockSum(bytes, offset));
}
