/**
 * XDP helpers (net/core/filter.c): bpf_xdp_adjust_head, bpf_xdp_adjust_tail
 * and bpf_xdp_adjust_meta, with the kernel's limits: the head may not move
 * into the space struct xdp_frame takes at the start of the headroom nor
 * leave less than an Ethernet header; the tail may not grow into the
 * skb_shared_info tailroom nor shrink below an Ethernet header; metadata is a
 * multiple of 4 bytes and at most 255. The bounds live in the program's
 * struct xdp_md, which these helpers rewrite.
 */
import { XDP_MD } from '../uapi/ctx.js';
import { BPF_FUNC } from '../uapi/helper-ids.js';
import type { ExecEnv, HelperDef } from '../vm/helper-abi.js';
import { helper } from './def.js';
import { err, runOf, s32, u32, type XdpPacket } from './env.js';

/** sizeof(struct xdp_frame) on 64-bit: the frame descriptor stored at the start of the headroom. */
export const XDP_FRAME_SIZE = 40;
export const ETH_HLEN = 14;

/** xdp_metalen_invalid: metadata must be u32-aligned and fit skb_shared_info.meta_len (a u8). */
export const metalenInvalid = (n: number): boolean => n % 4 !== 0 || n > 255;

function xdpOf(env: ExecEnv): XdpPacket | undefined {
  const p = runOf(env).packet;
  return p && p.kind === 'xdp' ? p : undefined;
}

export interface XdpBounds {
  data: number;
  dataEnd: number;
  dataMeta: number;
}

function readXdp(env: { space: ExecEnv['space'] }, p: XdpPacket): XdpBounds {
  const s = env.space;
  return { data: s.readU32(p.ctx + XDP_MD.data), dataEnd: s.readU32(p.ctx + XDP_MD.data_end), dataMeta: s.readU32(p.ctx + XDP_MD.data_meta) };
}

function writeXdp(env: ExecEnv, p: XdpPacket, b: XdpBounds): void {
  env.space.writeU32(p.ctx + XDP_MD.data, b.data);
  env.space.writeU32(p.ctx + XDP_MD.data_end, b.dataEnd);
  env.space.writeU32(p.ctx + XDP_MD.data_meta, b.dataMeta);
}

/** xdp_get_buff_len: the linear part plus every fragment. */
function buffLen(p: XdpPacket, b: XdpBounds): number {
  let n = b.dataEnd - b.data;
  for (const f of p.frags ?? []) n += f.size;
  return n;
}

/** bpf_xdp_frags_increase_tail: only the last fragment grows, within its page. */
function fragsIncreaseTail(p: XdpPacket, off: number): bigint {
  const f = p.frags![p.frags!.length - 1]!;
  if (off > f.page.length - f.size) return err('EINVAL');
  f.page.fill(0, f.size, f.size + off);
  f.size += off;
  return 0n;
}

/** bpf_xdp_frags_shrink_tail: fragments shrink from the last, emptied ones are released; the linear part shrinks only when none is left. */
function fragsShrinkTail(env: ExecEnv, p: XdpPacket, b: XdpBounds, off: number): bigint {
  if (off > buffLen(p, b) - ETH_HLEN) return err('EINVAL');
  const frags = p.frags!;
  while (frags.length && off > 0) {
    const f = frags[frags.length - 1]!;
    const shrink = Math.min(off, f.size);
    off -= shrink;
    if (shrink === f.size) frags.pop();
    else {
      f.size -= shrink;
      break;
    }
  }
  if (!frags.length) writeXdp(env, p, { ...b, dataEnd: b.dataEnd - off });
  return 0n;
}

/**
 * Copy between `buf` (an address) and the frame at `offset` from data, across
 * the linear part and the fragments (bpf_xdp_pointer + bpf_xdp_copy_buf).
 */
function xdpCopy(env: ExecEnv, offset: number, buf: number, len: number, store: boolean): bigint {
  const p = xdpOf(env);
  if (!p) return err('EINVAL');
  if (offset > 0xffff || len > 0xffff) return err('EFAULT');
  const b = readXdp(env, p);
  if (offset + len > buffLen(p, b)) return err('EINVAL');
  const u8 = env.space.u8;
  const regions: Array<{ bytes: Uint8Array }> = [{ bytes: u8.subarray(b.data, b.dataEnd) }, ...(p.frags ?? []).map((f) => ({ bytes: f.page.subarray(0, f.size) }))];
  let pos = 0;
  let done = 0;
  for (const r of regions) {
    const n = r.bytes.length;
    if (offset < pos + n && done < len) {
      const from = Math.max(0, offset + done - pos);
      const k = Math.min(n - from, len - done);
      if (store) r.bytes.set(u8.subarray(buf + done, buf + done + k), from);
      else u8.set(r.bytes.subarray(from, from + k), buf + done);
      done += k;
    }
    pos += n;
  }
  return 0n;
}

export const xdpHelpers: HelperDef[] = [
  helper(BPF_FUNC.xdp_get_buff_len, (env) => {
    const p = xdpOf(env);
    return p ? BigInt(buffLen(p, readXdp(env, p))) : err('EINVAL');
  }),
  helper(BPF_FUNC.xdp_load_bytes, (env, _r1, r2, r3, r4) =>
    xdpCopy(env, u32(r2), Number(r3), u32(r4), false),
  ),
  helper(BPF_FUNC.xdp_store_bytes, (env, _r1, r2, r3, r4) =>
    xdpCopy(env, u32(r2), Number(r3), u32(r4), true),
  ),
  helper(BPF_FUNC.xdp_adjust_head, (env, _r1, r2) => {
    const p = xdpOf(env);
    if (!p) return err('EINVAL');
    const off = s32(r2);
    const b = readXdp(env, p);
    const metalen = b.data - b.dataMeta;
    const dataStart = p.hardStart + XDP_FRAME_SIZE + metalen;
    const data = b.data + off;
    if (data < dataStart || data > b.dataEnd - ETH_HLEN) return err('EINVAL');
    // The metadata travels with the head.
    if (metalen) env.space.u8.copyWithin(b.dataMeta + off, b.dataMeta, b.dataMeta + metalen);
    writeXdp(env, p, { data, dataEnd: b.dataEnd, dataMeta: b.dataMeta + off });
    return 0n;
  }),
  helper(BPF_FUNC.xdp_adjust_tail, (env, _r1, r2) => {
    const p = xdpOf(env);
    if (!p) return err('EINVAL');
    const off = s32(r2);
    const b = readXdp(env, p);
    if (p.frags?.length) return off < 0 ? fragsShrinkTail(env, p, b, -off) : fragsIncreaseTail(p, off);
    const hardEnd = p.hardStart + p.frameSize - p.tailroom;
    const dataEnd = b.dataEnd + off;
    if (dataEnd > hardEnd || dataEnd < b.data + ETH_HLEN) return err('EINVAL');
    // Growing exposes bytes that must not leak earlier contents.
    if (off > 0) env.space.u8.fill(0, b.dataEnd, dataEnd);
    writeXdp(env, p, { ...b, dataEnd });
    return 0n;
  }),
  helper(BPF_FUNC.xdp_adjust_meta, (env, _r1, r2) => {
    const p = xdpOf(env);
    if (!p) return err('EINVAL');
    const off = s32(r2);
    const b = readXdp(env, p);
    const meta = b.dataMeta + off;
    if (meta < p.hardStart + XDP_FRAME_SIZE || meta > b.data) return err('EINVAL');
    if (metalenInvalid(b.data - meta)) return err('EACCES');
    writeXdp(env, p, { ...b, dataMeta: meta });
    return 0n;
  }),
];
