/**
 * BPF ring buffer helpers (kernel/bpf/ringbuf.c): output, reserve, submit,
 * discard, query. The map implements the ring; reserved records are
 * addresses in the space, so the program writes them in place.
 */
import { BPF_FUNC } from '../uapi/helper-ids.js';
import { TsbpfError } from '../errors.js';
import type { ExecEnv, HelperDef } from './types.js';
import { helper } from './def.js';
import { err, ret, runOf, u32, type HelperMap } from './env.js';
import { mapArg } from './maps.js';

function ringOf(env: ExecEnv, r: bigint): HelperMap | undefined {
  const m = mapArg(env, r);
  return m.type === 'ringbuf' ? m : undefined;
}

/** The ring buffer a reserved record belongs to: the one whose reserve handed it out. */
function ringOfRecord(env: ExecEnv, rec: bigint): HelperMap {
  const owner = (runOf(env).host as { ringOfRecord?: (addr: number) => HelperMap | undefined }).ringOfRecord?.(Number(rec));
  if (!owner) throw new TsbpfError('EINVAL', `0x${rec.toString(16)} is not a reserved ring buffer record`);
  return owner;
}

function unhold(env: ExecEnv, rec: bigint): void {
  const held = runOf(env).held;
  const i = held ? held.findIndex((h) => h.rec === Number(rec)) : -1;
  if (i >= 0) held!.splice(i, 1);
}

export const ringbufHelpers: HelperDef[] = [
  helper(BPF_FUNC.ringbuf_output, (env, r1, r2, r3, r4) => {
    const m = ringOf(env, r1);
    if (!m?.output) return err('EINVAL');
    return ret(m.output(Number(r2), u32(r3), r4));
  }),
  helper(BPF_FUNC.ringbuf_reserve, (env, r1, r2, r3) => {
    const m = ringOf(env, r1);
    if (!m?.reserve) return 0n;
    const rec = m.reserve(Number(r2 > 0xffffffffn ? 0xffffffffn : r2), r3) >>> 0;
    // Held until submit or discard: a run stopped before either releases it (env.ts releaseHeld).
    if (rec !== 0) (runOf(env).held ??= []).push({ ring: m, rec });
    return BigInt(rec);
  }),
  helper(BPF_FUNC.ringbuf_submit, (env, r1, r2) => {
    ringOfRecord(env, r1).submit?.(Number(r1), r2);
    unhold(env, r1);
    return 0n;
  }),
  helper(BPF_FUNC.ringbuf_discard, (env, r1, r2) => {
    ringOfRecord(env, r1).discard?.(Number(r1), r2);
    unhold(env, r1);
    return 0n;
  }),
  helper(BPF_FUNC.ringbuf_query, (env, r1, r2) => {
    const m = ringOf(env, r1);
    return m?.query ? m.query(r2) : 0n;
  }),
];
