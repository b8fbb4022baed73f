/**
 * bpf_perf_event_output (kernel/trace/bpf_trace.c, and the skb/xdp variants
 * in net/core/filter.c): a sample to the perf_event_array slot of `flags &
 * BPF_F_INDEX_MASK`, or this CPU's with BPF_F_CURRENT_CPU. Networking
 * programs may append `(flags & BPF_F_CTXLEN_MASK) >> 32` packet bytes.
 */
import { SK_BUFF, XDP_MD } from '../uapi/ctx.js';
import { BPF_FUNC } from '../uapi/helper-ids.js';
import type { HelperDef } from '../vm/helper-abi.js';
import { helper } from './def.js';
import { err, inSpace, ret, runOf, u32 } from './env.js';
import { mapArg } from './maps.js';

export const BPF_F_INDEX_MASK = 0xffffffffn;
export const BPF_F_CURRENT_CPU = BPF_F_INDEX_MASK;
export const BPF_F_CTXLEN_MASK = 0xfffffn << 32n;

export const perfHelpers: HelperDef[] = [
  helper(BPF_FUNC.perf_event_output, (env, _r1, r2, r3, r4, r5) => {
    const run = runOf(env);
    const pkt = run.packet;
    const allowed = pkt ? BPF_F_INDEX_MASK | BPF_F_CTXLEN_MASK : BPF_F_INDEX_MASK;
    if (r3 & ~allowed) return err('EINVAL');
    const m = mapArg(env, r2);
    if (m.type !== 'perf_event_array') return err('EINVAL');
    let index = Number(r3 & BPF_F_INDEX_MASK);
    if (BigInt(index) === BPF_F_CURRENT_CPU) index = env.cpu;
    if (index >= m.maxEntries) return err('E2BIG');
    const size = u32(r5);
    if (!inSpace(env, r4, size)) return err('EFAULT');
    const ctxLen = Number((r3 & BPF_F_CTXLEN_MASK) >> 32n);
    let sample = env.space.bytes(Number(r4), size).slice();
    if (ctxLen && pkt) {
      const s = env.space;
      const data = pkt.kind === 'skb' ? s.readU32(pkt.ctx + SK_BUFF.data) : s.readU32(pkt.ctx + XDP_MD.data);
      const len = pkt.kind === 'skb' ? s.readU32(pkt.ctx + SK_BUFF.len) : s.readU32(pkt.ctx + XDP_MD.data_end) - data;
      if (ctxLen > len) return err('EFAULT');
      const all = new Uint8Array(size + ctxLen);
      all.set(sample);
      all.set(s.bytes(data, ctxLen), size);
      sample = all;
    }
    if (!m.perfOutput) return err('ENOENT');
    return ret(m.perfOutput(index, sample));
  }),
];
