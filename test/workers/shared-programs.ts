/**
 * The programs and maps the worker tests and the workers benchmark share
 * (test/runtime-workers.test.ts, bench/workers.bench.ts), assembled here so
 * they need no clang.
 */
import { assemble, OP_LDDW, BPF_PSEUDO_MAP_FD, type Insn } from '../../src/isa/index.js';
import type { Runtime } from '../../src/runtime/index.js';
import type { BpfMap } from '../../src/maps/index.js';

/** Point the lddw instructions, in order, at the maps with these ids (BPF_PSEUDO_MAP_FD). */
export function mapRefs(insns: Insn[], ...ids: number[]): Insn[] {
  let n = 0;
  for (let i = 0; i < insns.length; i++) {
    if (insns[i]!.code === OP_LDDW) {
      insns[i]!.src = BPF_PSEUDO_MAP_FD;
      insns[i]!.imm = ids[n++]!;
      i++;
    }
  }
  return insns;
}

/** key 0 of `hash` and of `array`: __sync_fetch_and_add(+1); key 0 of `percpu`: ++ (no atomic needed: one CPU per slot). */
export const COUNT_SRC = `
  r6 = 0
  *(u32 *)(r10 -4) = r6
  r2 = r10
  r2 += -4
  r1 = 0 ll
  call 1
  if r0 == 0 goto +2
  r1 = 1
  lock *(u64 *)(r0 +0) += r1
  r2 = r10
  r2 += -4
  r1 = 0 ll
  call 1
  if r0 == 0 goto +2
  r1 = 1
  lock *(u64 *)(r0 +0) += r1
  r2 = r10
  r2 += -4
  r1 = 0 ll
  call 1
  if r0 == 0 goto +3
  r1 = *(u64 *)(r0 +0)
  r1 += 1
  *(u64 *)(r0 +0) = r1
  r0 = 2
  exit
`;

/** key = bpf_get_smp_processor_id() of \`own\` (64-byte values: one cache line per CPU): __sync_fetch_and_add(+1). */
export const OWN_SRC = `
  call 8
  *(u32 *)(r10 -4) = r0
  r2 = r10
  r2 += -4
  r1 = 0 ll
  call 1
  if r0 == 0 goto +2
  r1 = 1
  lock *(u64 *)(r0 +0) += r1
  r0 = 2
  exit
`;

/** Packet {u32 key; u32 op}: op 0 updates hash[key] = key (BPF_ANY), op 1 deletes it; r0 = the helper's result. */
export const UPSERT_SRC = `
  r2 = *(u32 *)(r1 +0)
  r3 = *(u32 *)(r1 +4)
  r4 = r2
  r4 += 8
  if r4 > r3 goto +20
  r6 = *(u32 *)(r2 +0)
  r7 = *(u32 *)(r2 +4)
  *(u32 *)(r10 -4) = r6
  *(u64 *)(r10 -16) = r6
  if r7 != 0 goto +9
  r1 = 0 ll
  r2 = r10
  r2 += -4
  r3 = r10
  r3 += -16
  r4 = 0
  call 2
  exit
  r1 = 0 ll
  r2 = r10
  r2 += -4
  call 3
  exit
  r0 = 1
  exit
`;

/** Packet {u32 seq}: bpf_ringbuf_output(ring, {u32 cpu; u32 seq}, 8, 0); r0 = its result. */
export const EMIT_SRC = `
  r2 = *(u32 *)(r1 +0)
  r3 = *(u32 *)(r1 +4)
  r4 = r2
  r4 += 4
  if r4 > r3 goto +12
  r7 = *(u32 *)(r2 +0)
  call 8
  *(u32 *)(r10 -8) = r0
  *(u32 *)(r10 -4) = r7
  r1 = 0 ll
  r2 = r10
  r2 += -8
  r3 = 8
  r4 = 0
  call 130
  exit
  r0 = 1
  exit
`;

/** Tail-calls slot 0 of a prog_array; 7 when the slot is empty. */
export const ENTRY_SRC = `
  r2 = 0 ll
  r3 = 0
  call 12
  r0 = 7
  exit
`;

/** 100 + bpf_get_smp_processor_id(). */
export const TARGET_SRC = `
  call 8
  r0 += 100
  exit
`;

export interface SharedSetup {
  hash: BpfMap<unknown>;
  array: BpfMap<unknown>;
  percpu: BpfMap<unknown>;
  churn: BpfMap<unknown>;
  lru: BpfMap<unknown>;
  ring: BpfMap<unknown>;
  small: BpfMap<unknown>;
  progs: BpfMap<unknown>;
  own: BpfMap<unknown>;
}

/** Make the maps and load the programs (named count, own, probe, upsert, emit, emit_small, entry, target) in `rt`. */
export async function setUp(rt: Runtime, opts: { churnEntries?: number } = {}): Promise<SharedSetup> {
  const mk = (name: string, type: 'hash' | 'array' | 'percpu_array' | 'lru_hash' | 'ringbuf' | 'prog_array', keySize: number, valueSize: number, maxEntries: number): BpfMap<unknown> =>
    rt.createMap({ name, type, keySize, valueSize, maxEntries, flags: 0, pinning: 'none' });
  const s: SharedSetup = {
    hash: mk('hash', 'hash', 4, 8, 64),
    array: mk('array', 'array', 4, 8, 4),
    percpu: mk('percpu', 'percpu_array', 4, 8, 1),
    churn: mk('churn', 'hash', 4, 8, opts.churnEntries ?? 16384),
    lru: mk('lru', 'lru_hash', 4, 8, 64),
    ring: mk('ring', 'ringbuf', 0, 0, 16384),
    small: mk('small', 'ringbuf', 0, 0, 4096),
    progs: mk('progs', 'prog_array', 4, 4, 4),
    own: mk('own', 'hash', 4, 64, 64),
  };
  s.hash.set(0, 0n);
  for (let c = 0; c < rt.numCpus; c++) s.own.set(c, new Uint8Array(64));
  const load = (name: string, src: string, ...maps: BpfMap<unknown>[]) =>
    rt.loadProgram({ name, type: 'xdp', insns: mapRefs(assemble(src), ...maps.map((m) => m.id)) });
  await load('count', COUNT_SRC, s.hash, s.array, s.percpu);
  await load('own', OWN_SRC, s.own);
  // The same counting as a function probe (kprobe program type, for uprobe links).
  await rt.loadProgram({ name: 'probe', type: 'kprobe', insns: mapRefs(assemble(OWN_SRC), s.own.id) });
  await load('upsert', UPSERT_SRC, s.churn, s.churn);
  await load('emit', EMIT_SRC, s.ring);
  await load('emit_small', EMIT_SRC, s.small);
  await load('entry', ENTRY_SRC, s.progs);
  const target = await load('target', TARGET_SRC);
  s.progs.set(0, target.id);
  return s;
}
