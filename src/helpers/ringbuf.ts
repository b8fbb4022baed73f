/**
 * BPF ring buffer helpers (kernel/bpf/ringbuf.c): output, reserve, submit,
 * discard, query. The map implements the ring; reserved records are
 * addresses in the space, so the program writes them in place. For the JIT,
 * bpf_ringbuf_output has a WebAssembly form (ringbuf-wasm.ts), and so have
 * reserve, submit and discard (ringbuf-reserve-wasm.ts).
 */
import { BPF_FUNC } from '../uapi/helper-ids.js';
import { ERRNO_VALUES, TsbpfError } from '../errors.js';
import type { ExecEnv, HelperDef } from '../vm/helper-abi.js';
import { helper } from './def.js';
import { err, ret, runOf, u32, type HelperMap } from './env.js';
import { mapArg } from './maps.js';
import { ringbufOutputWasm } from './ringbuf-wasm.js';
import { ringbufOpWasm } from './ringbuf-reserve-wasm.js';

function ringOf(env: ExecEnv, r: bigint): HelperMap | undefined {
  const m = mapArg(env, r);
  return m.type === 'ringbuf' ? m : undefined;
}

/** The ring a 32-bit map pointer designates (HelperFn32 paths; mapArg's check, without BigInts). */
function ringOf32(env: ExecEnv, map: number): HelperMap | undefined {
  const m = runOf(env).host.mapAt(map);
  if (!m) throw new TsbpfError('EFAULT', `0x${map.toString(16)} is not a map pointer`);
  return m.type === 'ringbuf' ? m : undefined;
}

/** The ring buffer a reserved record belongs to: the one whose reserve handed it out. */
function ringOfRecord(env: ExecEnv, rec: number): HelperMap {
  const owner = (runOf(env).host as { ringOfRecord?: (addr: number) => HelperMap | undefined }).ringOfRecord?.(rec);
  if (!owner) throw new TsbpfError('EINVAL', `0x${rec.toString(16)} is not a reserved ring buffer record`);
  return owner;
}

function unhold(env: ExecEnv, rec: number): void {
  const held = runOf(env).held;
  if (!held) return;
  // The record is almost always the last one reserved.
  for (let i = held.length - 1; i >= 0; i--)
    if (held[i]!.rec === rec) {
      held.splice(i, 1);
      return;
    }
}

// Flags as the HelperMap takes them, without allocating a BigInt for the usual 0.
const flags64 = (f: number): bigint => (f === 0 ? 0n : BigInt(f));

const output32 = (env: ExecEnv, map: number, data: number, size: number, flags: number): number => {
  const m = ringOf32(env, map);
  return m?.output ? m.output(data, size, flags64(flags)) : -ERRNO_VALUES.EINVAL;
};
const reserve32 = (env: ExecEnv, map: number, size: number, flags: number): number => {
  const m = ringOf32(env, map);
  if (!m?.reserve) return 0;
  const rec = m.reserve(size, flags64(flags)) >>> 0;
  // Held until submit or discard: a run stopped before either releases it (env.ts releaseHeld).
  if (rec !== 0) (runOf(env).held ??= []).push({ ring: m, rec });
  return rec;
};
const commit32 =
  (discard: boolean) =>
  (env: ExecEnv, rec: number, flags: number): number => {
    const m = ringOfRecord(env, rec);
    if (discard) m.discard?.(rec, flags64(flags));
    else m.submit?.(rec, flags64(flags));
    unhold(env, rec);
    return 0;
  };
const submit32 = commit32(false);
const discard32 = commit32(true);

// Each helper's i64 entry narrows to its HelperFn32 (an argument past 32 bits keeps the i64 meaning: flags refused, sizes clamped).
const lo = (r: bigint): number => Number(r & 0xffffffffn);

export const ringbufHelpers: HelperDef[] = [
  helper(
    BPF_FUNC.ringbuf_output,
    (env, r1, r2, r3, r4) => {
      const m = ringOf(env, r1);
      if (!m?.output) return err('EINVAL');
      return ret(m.output(Number(r2), u32(r3), r4));
    },
    output32,
    // The JIT's programs write records without leaving WebAssembly (ringbuf-wasm.ts).
    ringbufOutputWasm,
  ),
  helper(
    BPF_FUNC.ringbuf_reserve,
    (env, r1, r2, r3) => {
      if (!ringOf(env, r1)) return 0n;
      if (r3 > 0xffffffffn) return 0n; // flags must be 0
      return BigInt(reserve32(env, lo(r1), Number(r2 > 0xffffffffn ? 0xffffffffn : r2), lo(r3)));
    },
    reserve32,
    ringbufOpWasm('reserve'),
  ),
  helper(
    BPF_FUNC.ringbuf_submit,
    (env, r1, r2) => {
      ringOfRecord(env, Number(r1)).submit?.(Number(r1), r2);
      unhold(env, Number(r1));
      return 0n;
    },
    submit32,
    ringbufOpWasm('submit'),
  ),
  helper(
    BPF_FUNC.ringbuf_discard,
    (env, r1, r2) => {
      ringOfRecord(env, Number(r1)).discard?.(Number(r1), r2);
      unhold(env, Number(r1));
      return 0n;
    },
    discard32,
    ringbufOpWasm('discard'),
  ),
  helper(BPF_FUNC.ringbuf_query, (env, r1, r2) => {
    const m = ringOf(env, r1);
    return m?.query ? m.query(r2) : 0n;
  }),
];
