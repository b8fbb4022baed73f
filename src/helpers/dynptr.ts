/**
 * Dynptrs at run time (kernel/bpf/helpers.c, ringbuf.c, net/core/filter.c), for both engines:
 * the helpers bpf_dynptr_from_mem, bpf_ringbuf_reserve/submit/discard_dynptr,
 * bpf_dynptr_read/write/data, and the kfuncs bpf_dynptr_from_skb/xdp, _slice, _adjust,
 * _is_null, _is_rdonly, _size, _clone (called under ids of their own, as the iterator kfuncs
 * are: helpers/iter-kfuncs.ts).
 *
 * A dynptr is 16 bytes of the program's stack, laid out as the kernel's struct bpf_dynptr_kern
 * (the verifier keeps the program from reading or writing them): `u64 data` (an address in the
 * space; for skb and xdp dynptrs the context, 0 for a NULL dynptr), `u32 size` (bits 0-23 the
 * size, 28-30 the type, 31 read-only) and `u32 offset`. Every operation checks the offset and
 * length against the size first (bpf_dynptr_check_off_len); skb and xdp dynptrs go through the
 * packet helpers' own copies (skb.ts, xdp.ts).
 */
import { BPF_FUNC } from '../uapi/helper-ids.js';
import type { ExecEnv, HelperDef, HelperFn } from '../vm/helper-abi.js';
import { helper } from './def.js';
import { err, inSpace, runOf } from './env.js';
import { mapArg } from './maps.js';
import { skbHelpers } from './skb.js';
import { xdpHelpers } from './xdp.js';
import { SK_BUFF, XDP_MD } from '../uapi/ctx.js';

/** DYNPTR_MAX_SIZE, DYNPTR_TYPE_SHIFT, DYNPTR_RDONLY_BIT (include/linux/bpf.h) */
const MAX_SIZE = 0xff_ffff;
const TYPE_SHIFT = 28;
const RDONLY = 0x8000_0000;
/** enum bpf_dynptr_type */
const LOCAL = 1, RINGBUF = 2, SKB = 3, XDP = 4;

interface Kern {
  data: number;
  size: number;
  type: number;
  rdonly: boolean;
  offset: number;
}

function load(env: ExecEnv, d: bigint): Kern {
  const a = Number(d), sp = env.space;
  const w = sp.readU32(a + 8);
  return { data: Number(sp.readU64(a)), size: w & MAX_SIZE, type: (w >>> TYPE_SHIFT) & 7, rdonly: (w & RDONLY) !== 0, offset: sp.readU32(a + 12) };
}

/** bpf_dynptr_init / bpf_dynptr_set_null */
function store(env: ExecEnv, d: bigint, data: number, type: number, offset: number, size: number, rdonly = false): void {
  const a = Number(d), sp = env.space;
  sp.writeU64(a, BigInt(data));
  sp.writeU32(a + 8, data ? ((size | (type << TYPE_SHIFT) | (rdonly ? RDONLY : 0)) >>> 0) : 0);
  sp.writeU32(a + 12, data ? offset : 0);
}

const setNull = (env: ExecEnv, d: bigint): void => store(env, d, 0, 0, 0, 0);

/** bpf_dynptr_check_off_len: 0, or the errno */
function checkOffLen(k: Kern, off: number, len: number): 'E2BIG' | undefined {
  return off > k.size || len > k.size - off ? 'E2BIG' : undefined;
}

const lo32 = (v: bigint): number => Number(v & 0xffff_ffffn);
const byId = (defs: readonly HelperDef[], id: number): HelperFn => defs.find((h) => h.id === id)!.fn;
const skbLoad = byId(skbHelpers, BPF_FUNC.skb_load_bytes);
const skbStore = byId(skbHelpers, BPF_FUNC.skb_store_bytes);
const xdpLoad = byId(xdpHelpers, BPF_FUNC.xdp_load_bytes);
const xdpStore = byId(xdpHelpers, BPF_FUNC.xdp_store_bytes);

/**
 * __bpf_dynptr_read (`store` false: `len` bytes at the dynptr's `off` into `buf`) and
 * __bpf_dynptr_write (true: from `buf` to the dynptr, refused for a read-only one).
 */
function copy(env: ExecEnv, k: Kern, off: number, buf: bigint, len: number, flags: bigint, store: boolean): bigint {
  if (!k.data || (store ? k.rdonly : flags !== 0n)) return err('EINVAL');
  const e = checkOffLen(k, off, len);
  if (e) return err(e);
  const at = k.offset + off, b = Number(buf), u8 = env.space.u8;
  switch (k.type) {
    case LOCAL:
    case RINGBUF:
      if (flags !== 0n) return err('EINVAL');
      if (store) u8.copyWithin(k.data + at, b, b + len);
      else u8.copyWithin(b, k.data + at, k.data + at + len);
      return 0n;
    case SKB: return (store ? skbStore : skbLoad)(env, 0n, BigInt(at), buf, BigInt(len), store ? flags : 0n);
    case XDP: return flags !== 0n ? err('EINVAL') : (store ? xdpStore : xdpLoad)(env, 0n, BigInt(at), buf, BigInt(len), 0n);
  }
  return err('EFAULT');
}

const read = (env: ExecEnv, dst: bigint, len: number, k: Kern, off: number, flags: bigint): bigint => copy(env, k, off, dst, len, flags, false);

/** The packet's linear bytes [start, end) an skb or xdp dynptr reads directly. */
function linear(env: ExecEnv, k: Kern): [number, number] | undefined {
  const sp = env.space, p = runOf(env).packet;
  if (k.type === SKB && p?.kind === 'skb') {
    const data = sp.readU32(p.ctx + SK_BUFF.data);
    return [data, data + sp.readU32(p.ctx + SK_BUFF.len)];
  }
  if (k.type === XDP && p?.kind === 'xdp') return [sp.readU32(p.ctx + XDP_MD.data), sp.readU32(p.ctx + XDP_MD.data_end)];
  return undefined;
}

/** The packet's length as the dynptr sees it (skb->len, xdp_get_buff_len). */
function packetLen(env: ExecEnv, type: number): number {
  const p = runOf(env).packet;
  if (type === SKB && p?.kind === 'skb') return env.space.readU32(p.ctx + SK_BUFF.len);
  if (type === XDP && p?.kind === 'xdp') {
    let n = env.space.readU32(p.ctx + XDP_MD.data_end) - env.space.readU32(p.ctx + XDP_MD.data);
    for (const f of p.frags ?? []) n += f.size;
    return n;
  }
  return 0;
}

export const dynptrHelpers: HelperDef[] = [
  helper(BPF_FUNC.dynptr_from_mem, (env, data, size, flags, d) => {
    const n = lo32(size);
    if (flags !== 0n) { setNull(env, d); return err('EINVAL'); }
    if (n > MAX_SIZE) { setNull(env, d); return err('E2BIG'); }
    store(env, d, Number(data), LOCAL, 0, n);
    return 0n;
  }),
  helper(BPF_FUNC.ringbuf_reserve_dynptr, (env, map, size, flags, d) => {
    const m = mapArg(env, map);
    const n = size > 0xffff_ffffn ? MAX_SIZE + 1 : Number(size);
    if (n > MAX_SIZE) { setNull(env, d); return err('E2BIG'); }
    if (flags !== 0n || m.type !== 'ringbuf' || !m.reserve) { setNull(env, d); return err('EINVAL'); }
    const rec = m.reserve(n, 0n) >>> 0;
    if (!rec) { setNull(env, d); return err('EINVAL'); }
    // held until submit or discard: a run stopped before either gives it back (env.ts releaseHeld)
    (runOf(env).held ??= []).push({ ring: m, rec });
    store(env, d, rec, RINGBUF, 0, n);
    return 0n;
  }),
  ...[BPF_FUNC.ringbuf_submit_dynptr, BPF_FUNC.ringbuf_discard_dynptr].map((id) => helper(id, (env, d, flags) => {
    const k = load(env, d);
    // a NULL dynptr (a failed reservation) is given back by doing nothing
    if (!k.data) return 0n;
    const run = runOf(env);
    const held = run.held ?? [];
    const at = held.findIndex((h) => h.rec === k.data);
    if (at >= 0) {
      const ring = held[at]!.ring as { submit?: (rec: number, flags: bigint) => void; discard?: (rec: number, flags: bigint) => void };
      held.splice(at, 1);
      if (id === BPF_FUNC.ringbuf_submit_dynptr) ring.submit?.(k.data, flags);
      else ring.discard?.(k.data, flags);
    }
    setNull(env, d);
    return 0n;
  })),
  helper(BPF_FUNC.dynptr_read, (env, dst, len, src, off, flags) => read(env, dst, lo32(len), load(env, src), lo32(off), flags)),
  helper(BPF_FUNC.dynptr_write, (env, d, off, src, len, flags) => copy(env, load(env, d), lo32(off), src, lo32(len), flags, true)),
  helper(BPF_FUNC.dynptr_data, (env, d, off, len) => {
    const k = load(env, d);
    if (!k.data || k.rdonly || checkOffLen(k, lo32(off), lo32(len))) return 0n;
    // skb and xdp data may not be linear: bpf_dynptr_slice is their way in
    if (k.type !== LOCAL && k.type !== RINGBUF) return 0n;
    return BigInt(k.data + k.offset + lo32(off));
  }),
];

/** The kfuncs' run-time functions, by kfunc name (the loader's rewrite calls them). */
export const DYNPTR_KFUNC_IMPLS: ReadonlyArray<[string, HelperFn]> = [
  // bpf_dynptr_from_skb: read-only where the program type may not write packet data (the
  // verifier's choice of bpf_dynptr_from_skb_rdonly; tsbpf's skb programs all may)
  ['bpf_dynptr_from_skb', (env, ctx, flags, d) => {
    if (flags !== 0n) { setNull(env, d); return err('EINVAL'); }
    store(env, d, Number(ctx), SKB, 0, packetLen(env, SKB));
    return 0n;
  }],
  ['bpf_dynptr_from_xdp', (env, ctx, flags, d) => {
    if (flags !== 0n) { setNull(env, d); return err('EINVAL'); }
    store(env, d, Number(ctx), XDP, 0, packetLen(env, XDP));
    return 0n;
  }],
  // bpf_dynptr_slice(_rdwr): a pointer to the bytes where they are contiguous, else a copy in
  // the buffer (NULL without one)
  ...(['bpf_dynptr_slice', 'bpf_dynptr_slice_rdwr'] as const).map((name): [string, HelperFn] => [name, (env, d, off, buf, size) => {
    const k = load(env, d), o = lo32(off), n = lo32(size);
    if (!k.data || checkOffLen(k, o, n)) return 0n;
    if (name === 'bpf_dynptr_slice_rdwr' && k.rdonly) return 0n;
    const at = k.offset + o;
    if (k.type === LOCAL || k.type === RINGBUF) return BigInt(k.data + at);
    const lin = linear(env, k);
    if (lin && lin[0] + at + n <= lin[1]) return BigInt(lin[0] + at);
    if (buf === 0n || !inSpace(env, buf, n)) return 0n;
    return read(env, buf, n, k, o, 0n) === 0n ? buf : 0n;
  }]),
  ['bpf_dynptr_adjust', (env, d, start, end) => {
    const k = load(env, d), s = lo32(start), e = lo32(end);
    if (!k.data) return err('EINVAL');
    if (s > e) return err('EINVAL');
    if (e > k.size) return err('ERANGE');
    store(env, d, k.data, k.type, k.offset + s, e - s, k.rdonly);
    return 0n;
  }],
  ['bpf_dynptr_is_null', (env, d) => (load(env, d).data ? 0n : 1n)],
  ['bpf_dynptr_is_rdonly', (env, d) => { const k = load(env, d); return k.data && k.rdonly ? 1n : 0n; }],
  ['bpf_dynptr_size', (env, d) => { const k = load(env, d); return k.data ? BigInt(k.size) : err('EINVAL'); }],
  ['bpf_dynptr_clone', (env, p, c) => {
    const k = load(env, p);
    if (!k.data) { setNull(env, c); return err('EINVAL'); }
    store(env, c, k.data, k.type, k.offset, k.size, k.rdonly);
    return 0n;
  }],
];
