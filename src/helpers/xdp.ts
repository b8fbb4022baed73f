/**
 * XDP helpers (net/core/filter.c): bpf_xdp_adjust_head, bpf_xdp_adjust_tail
 * and bpf_xdp_adjust_meta, with the kernel's limits: the head may not move
 * into the space struct xdp_frame takes at the start of the headroom nor
 * leave less than an Ethernet header; the tail may not grow into the
 * skb_shared_info tailroom nor shrink below an Ethernet header; metadata is a
 * multiple of 4 bytes and at most 255. The bounds live in the program's
 * struct xdp_md, which these helpers rewrite.
 */
import type { ExecEnv, HelperDef } from './types.js';
import { helper } from './def.js';
import { err, runOf, s32, type XdpPacket } from './env.js';

/** sizeof(struct xdp_frame) on 64-bit: the frame descriptor stored at the start of the headroom. */
export const XDP_FRAME_SIZE = 40;
export const ETH_HLEN = 14;
/** struct xdp_md field offsets */
export const XDP_MD = { data: 0, data_end: 4, data_meta: 8, ingress_ifindex: 12, rx_queue_index: 16, egress_ifindex: 20, SIZE: 24 } as const;

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

export function readXdp(env: { space: ExecEnv['space'] }, p: XdpPacket): XdpBounds {
  const s = env.space;
  return { data: s.readU32(p.ctx + XDP_MD.data), dataEnd: s.readU32(p.ctx + XDP_MD.data_end), dataMeta: s.readU32(p.ctx + XDP_MD.data_meta) };
}

function writeXdp(env: ExecEnv, p: XdpPacket, b: XdpBounds): void {
  env.space.writeU32(p.ctx + XDP_MD.data, b.data);
  env.space.writeU32(p.ctx + XDP_MD.data_end, b.dataEnd);
  env.space.writeU32(p.ctx + XDP_MD.data_meta, b.dataMeta);
}

export const xdpHelpers: HelperDef[] = [
  helper(44, 'xdp_adjust_head', 'INTEGER', ['PTR_TO_CTX', 'ANYTHING'], (env, _r1, r2) => {
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
  }, { changesPktData: true }),
  helper(65, 'xdp_adjust_tail', 'INTEGER', ['PTR_TO_CTX', 'ANYTHING'], (env, _r1, r2) => {
    const p = xdpOf(env);
    if (!p) return err('EINVAL');
    const off = s32(r2);
    const b = readXdp(env, p);
    const hardEnd = p.hardStart + p.frameSize - p.tailroom;
    const dataEnd = b.dataEnd + off;
    if (dataEnd > hardEnd || dataEnd < b.data + ETH_HLEN) return err('EINVAL');
    // Growing exposes bytes that must not leak earlier contents.
    if (off > 0) env.space.u8.fill(0, b.dataEnd, dataEnd);
    writeXdp(env, p, { ...b, dataEnd });
    return 0n;
  }, { changesPktData: true }),
  helper(54, 'xdp_adjust_meta', 'INTEGER', ['PTR_TO_CTX', 'ANYTHING'], (env, _r1, r2) => {
    const p = xdpOf(env);
    if (!p) return err('EINVAL');
    const off = s32(r2);
    const b = readXdp(env, p);
    const meta = b.dataMeta + off;
    if (meta < p.hardStart + XDP_FRAME_SIZE || meta > b.data) return err('EINVAL');
    if (metalenInvalid(b.data - meta)) return err('EACCES');
    writeXdp(env, p, { ...b, dataMeta: meta });
    return 0n;
  }, { changesPktData: true }),
];
