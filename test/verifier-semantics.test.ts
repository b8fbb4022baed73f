/**
 * The semantics behind issue 5's kernel-only features, end to end: what the
 * verifier admits must also compute the kernel's answer when it runs.
 * - struct bpf_map fields read through a map pointer (check_ptr_to_map_access):
 *   the runtime's map descriptor holds them at Linux's offsets, and both
 *   engines read the real values.
 * - fentry/fexit/fmod_ret contexts: the same btf_ctx_access rules as tp_btf
 *   (recorded in test/verifier-corpus/tracing-btf.txt), plus the return
 *   value slot and return ranges; the kernel this corpus is recorded on
 *   refuses every fentry load with EPERM before verifying, so these follow
 *   Linux's source (btf_ctx_access, check_return_code) instead.
 * - kfunc names: unknown ids, Linux-only kfuncs; fixtures/externs.o (tp_btf
 *   calling bpf_rcu_read_lock/unlock) loads and runs in both engines.
 * (The other verdicts are the corpus's, recorded from the kernel:
 * test/verifier-corpus/map-ptr-fields.txt, tracing-btf.txt, kfuncs.txt.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../src/isa/index.js';
import * as op from '../src/isa/opcodes.js';
import { Runtime } from '../src/runtime/index.js';
import type { MapSpec, MapTypeName } from '../src/object/spec.js';
import { BPF_MAP_FIELDS, DESC_SIZE } from '../src/maps/map.js';
import { bpfMapField, bpfMapSize, kernelBtf, structWalk } from '../src/verifier/kernel-btf.js';
import { verify, type VerifierInput } from '../src/verifier/index.js';
import { loadObjectFileSync } from '../src/object/file.js';
import { join } from 'node:path';
import { FIXTURES } from './paths.js';
import { shippedKernelBtf } from '../src/testing/kernel-btf.js';

const mapSpec = (name: string, type: MapTypeName, keySize: number, valueSize: number, maxEntries: number, flags = 0): MapSpec =>
  ({ name, type, keySize, valueSize, maxEntries, flags, pinning: 'none' });

test('the map descriptor lays struct bpf_map out as the shipped kernel BTF does', () => {
  assert.equal(DESC_SIZE, bpfMapSize());
  for (const [name, off] of Object.entries(BPF_MAP_FIELDS)) assert.equal(bpfMapField(name)?.offset, off, `struct bpf_map.${name}`);
  // and what the kernel refuses, the walk refuses with the kernel's words
  const w = structWalk(kernelBtf(), 'bpf_htab', 68, 8);
  assert.equal(w.kind, 'error');
  assert.match((w as { message: string }).message, /access beyond the end of member key_size \(mend:72\) in struct bpf_map/);
});

test('a struct walk is answered once per (type, offset, size) of a BTF, and each triple gets its own answer', () => {
  const btf = kernelBtf();
  const first = structWalk(btf, 'bpf_map', BPF_MAP_FIELDS.key_size, 4);
  assert.equal(first.kind, 'scalar');
  assert.equal(structWalk(btf, 'bpf_map', BPF_MAP_FIELDS.key_size, 4), first, 'the same triple: the remembered answer');
  // another size or offset of the same type is walked on its own, errors included
  const wide = structWalk(btf, 'bpf_map', BPF_MAP_FIELDS.key_size, 8);
  assert.equal(wide.kind, 'error');
  assert.notEqual(structWalk(btf, 'bpf_map', BPF_MAP_FIELDS.value_size, 4), first);
  assert.equal(structWalk(btf, 'bpf_map', BPF_MAP_FIELDS.key_size, 8), wide);
});

/** `r0 = *(SIZE *)(map + off)` for each map, summed; map i is lddw'd by id. */
function fieldProgram(reads: Array<{ map: number; off: number; size: 'u8' | 'u32' | 'u64' }>): ReturnType<typeof assemble> {
  let src = 'r0 = 0\n';
  for (const r of reads) src += `r1 = 0 ll\nr2 = *(${r.size} *)(r1 +${r.off})\nr0 <<= 8\nr0 += r2\n`;
  src += 'exit';
  return assemble(src);
}

for (const engine of ['interpreter', 'jit'] as const) {
  test(`${engine}: programs read a map's real key_size, value_size, max_entries, map_type, flags, id, name`, async () => {
    const rt = new Runtime({ engine });
    try {
      const a = rt.createMap(mapSpec('sizes_arr', 'array', 4, 24, 7));
      const h = rt.createMap(mapSpec('lookup_h', 'hash', 8, 16, 33, 1 /* BPF_F_NO_PREALLOC */));
      const F = BPF_MAP_FIELDS;
      const run = async (reads: Array<{ map: number; off: number; size: 'u8' | 'u32' | 'u64' }>): Promise<bigint> => {
        const insns = fieldProgram(reads);
        let k = 0;
        for (let i = 0; i < insns.length; i++) {
          if (insns[i]!.code !== op.OP_LDDW) continue;
          insns[i]!.src = op.BPF_PSEUDO_MAP_FD;
          insns[i]!.imm = reads[k++]!.map;
          i++;
        }
        const p = await rt.loadProgram({ type: 'xdp', insns });
        return BigInt(p.run({ data: new Uint8Array(64) }).retval);
      };
      assert.equal(await run([{ map: a.id, off: F.max_entries, size: 'u32' }]), 7n);
      assert.equal(await run([{ map: a.id, off: F.key_size, size: 'u8' }, { map: a.id, off: F.value_size, size: 'u8' }]), (4n << 8n) + 24n);
      assert.equal(await run([{ map: h.id, off: F.map_type, size: 'u8' }, { map: h.id, off: F.max_entries, size: 'u8' }, { map: h.id, off: F.map_flags, size: 'u8' }]),
        (1n << 16n) + (33n << 8n) + 1n);
      assert.equal(await run([{ map: h.id, off: F.id, size: 'u32' }]), BigInt(h.id));
      // name: the first 4 bytes of "lookup_h", little-endian (retval is the low 32 bits of r0)
      assert.equal(await run([{ map: h.id, off: F.name, size: 'u32' }]), BigInt(new DataView(new TextEncoder().encode('look').buffer).getUint32(0, true)));
      // frozen follows BPF_MAP_FREEZE
      assert.equal(await run([{ map: a.id, off: F.frozen, size: 'u8' }]), 0n);
      a.freeze();
      assert.equal(await run([{ map: a.id, off: F.frozen, size: 'u8' }]), 1n);
      // a stack_trace map is a struct bpf_stack_map, a cgroup_array a struct bpf_array: both start with struct bpf_map
      const st = rt.createMap(mapSpec('stacks', 'stack_trace', 4, 8 * 127, 1024));
      const cg = rt.createMap(mapSpec('cgroups', 'cgroup_array', 4, 4, 3));
      assert.equal(await run([{ map: st.id, off: F.max_entries, size: 'u32' }]), 1024n);
      assert.equal(await run([{ map: cg.id, off: F.map_type, size: 'u8' }, { map: cg.id, off: F.max_entries, size: 'u8' }]), (8n << 8n) + 3n);
    } finally {
      rt.close();
    }
  });
}

for (const engine of ['interpreter', 'jit'] as const) {
  test(`${engine}: a read of map.ops is judged as Linux judges it, and the program is refused at load`, async () => {
    // Linux types map.ops as a PTR_TO_BTF_ID of struct bpf_map_ops (recorded: mapf_ops_pointer)
    const prog = (): ReturnType<typeof assemble> => {
      const insns = assemble('r1 = 0 ll\nr2 = *(u64 *)(r1 +40)\nr0 = 0\nif r2 == 0 goto +1\nr0 = 1\nexit');
      insns[0]!.src = op.BPF_PSEUDO_MAP_FD;
      return insns;
    };
    const v = verify({ insns: prog(), progType: 'xdp', privileged: true, logLevel: 2, maps: [{ name: 'a', type: 'array', keySize: 4, valueSize: 8, maxEntries: 1, flags: 0 }] });
    assert.equal(v.ok, true, v.error?.kernelMessage);
    assert.match(v.log ?? '', /R2(_w)?=ptr_bpf_map_ops\(\)/);
    // (the lddw is instructions 0 and 1)
    assert.equal(v.aux[2]?.unprovided, 'map.ops of struct bpf_array');
    const rt = new Runtime({ engine });
    try {
      const a = rt.createMap(mapSpec('ops_arr', 'array', 4, 8, 1));
      const insns = prog();
      insns[0]!.imm = a.id;
      await assert.rejects(rt.loadProgram({ type: 'xdp', insns }),
        (e: unknown) => (e as { errno?: string }).errno === 'ENOTSUPP' && /map\.ops of struct bpf_array/.test(String((e as Error).message)));
    } finally {
      rt.close();
    }
  });
}

function tracing(attachType: string, attachTo: string, src: string, extra: Partial<VerifierInput> = {}): ReturnType<typeof verify> {
  return verify({ insns: assemble(src), progType: 'tracing', attachType, attachTo, ...extra });
}

test('fentry: the target\'s arguments, read-only, and a return value of 0', () => {
  // bpf_fentry_test3(char a, int b, u64 c)
  assert.equal(tracing('trace_fentry', 'bpf_fentry_test3', 'r2 = *(u8 *)(r1 +0)\nr3 = *(u32 *)(r1 +8)\nr4 = *(u64 *)(r1 +16)\nr0 = 0\nexit').ok, true);
  const past = tracing('trace_fentry', 'bpf_fentry_test3', 'r2 = *(u64 *)(r1 +24)\nr0 = 0\nexit');
  assert.equal(past.error?.kernelMessage, 'invalid bpf_context access off=24 size=8');
  const ret = tracing('trace_fentry', 'bpf_fentry_test1', 'r0 = 1\nexit');
  assert.match(ret.error!.kernelMessage, /should have been in \[0, 0\]/);
  // bpf_modify_return_test(int a, int *b): an int pointer reads as a number, whole
  assert.equal(tracing('trace_fentry', 'bpf_modify_return_test', 'r2 = *(u64 *)(r1 +8)\nr0 = 0\nexit').ok, true);
  assert.equal(tracing('trace_fentry', 'bpf_modify_return_test', 'r2 = *(u32 *)(r1 +8)\nr0 = 0\nexit').ok, false);
  // a pointer to a kernel struct is a trusted PTR_TO_BTF_ID, which programs may not write through
  assert.equal(tracing('trace_fentry', 'bpf_fentry_test7', 'r2 = *(u64 *)(r1 +0)\nr0 = 0\nexit').ok, true);
  const w = tracing('trace_fentry', 'bpf_fentry_test7', 'r2 = *(u64 *)(r1 +0)\nr3 = 0\n*(u64 *)(r2 +0) = r3\nr0 = 0\nexit');
  assert.equal(w.error?.kernelMessage, 'only read is supported');
});

test('one load through a kernel object on one path and the stack on another is refused, as Linux refuses it', () => {
  // tp_btf/sched_switch(preempt, prev, next): r3 is the stack or `prev` at one load (save_aux_ptr_type)
  const sw = (body: string): ReturnType<typeof verify> =>
    tracing('trace_raw_tp', 'sched_switch', `r6 = r1\ncall 7\nr2 = *(u64 *)(r6 +8)\nr3 = r10\nr3 += -8\nr4 = 0\n*(u64 *)(r10 -8) = r4\n${body}\nr0 = 0\nexit`, {
      kernelBtf: shippedKernelBtf(),
    });
  const r = sw('if r0 == 0 goto +1\nr3 = r2\nr0 = *(u64 *)(r3 +0)');
  assert.equal(r.ok, false, r.log);
  assert.equal(r.error?.kernelMessage, 'same insn cannot be used with different pointers');
  // the stack on both paths is fine, and so are two kernel-object pointers of different trust (allow_trust_mismatch)
  assert.equal(sw('if r0 == 0 goto +1\nr3 += 0\nr0 = *(u64 *)(r3 +0)').ok, true);
  const trust = sw('r3 = r2\nif r0 == 0 goto +1\nr3 = *(u64 *)(r2 +72)\nr0 = *(u64 *)(r3 +0)');
  assert.equal(trust.ok, true, trust.log);
});

test('fexit and fmod_ret: the return value sits after the arguments', () => {
  assert.equal(tracing('trace_fexit', 'bpf_fentry_test1', 'r2 = *(u64 *)(r1 +8)\nr0 = 0\nexit').ok, true);
  assert.equal(tracing('trace_fentry', 'bpf_fentry_test1', 'r2 = *(u64 *)(r1 +8)\nr0 = 0\nexit').ok, false);
  assert.equal(tracing('trace_fexit', 'bpf_fentry_test1', 'r0 = 3\nexit').ok, false);
  // fmod_ret returns what the function should return instead: any value
  assert.equal(tracing('modify_return', 'bpf_modify_return_test', 'r2 = *(u64 *)(r1 +16)\nr0 = -22\nexit').ok, true);
});

test('tracing targets and kfuncs are found by name, or refused saying which', () => {
  const none = tracing('trace_fentry', 'no_such_function', 'r0 = 0\nexit');
  assert.equal(none.error?.errno, 'ENOENT');
  assert.match(none.error!.kernelMessage, /no_such_function in the kernel BTF tsbpf ships$/);
  // with a kernel BTF given, the reason names that one, not the subset tsbpf ships
  const given = tracing('trace_fentry', 'no_such_function', 'r0 = 0\nexit', { kernelBtf: shippedKernelBtf() });
  assert.match(given.error!.kernelMessage, /no_such_function in the kernel BTF given$/);
  const call = assemble('call 1\nr0 = 0\nexit');
  call[0]!.src = op.BPF_PSEUDO_KFUNC_CALL;
  call[0]!.imm = 12345;
  const unnamed = verify({ insns: call, progType: 'xdp' });
  assert.equal(unnamed.error?.kernelMessage, 'kernel btf_id 12345 is not a function');
  const linuxOnly = verify({ insns: call, progType: 'xdp', kfuncOfInsn: () => 'bpf_wq_start' });
  assert.equal(linuxOnly.error?.errno, 'ENOTSUPP');
  assert.match(linuxOnly.error!.kernelMessage, /bpf_wq_start is not supported by tsbpf/);
});

for (const engine of ['interpreter', 'jit'] as const) {
  test(`${engine}: fixtures/externs.o loads whole and its tp_btf program runs, kfuncs as no-ops`, async () => {
    const rt = new Runtime({ engine });
    try {
      const coll = await rt.load(loadObjectFileSync(join(FIXTURES, 'externs.o')));
      const p = coll.program('new_task');
      // tp_btf/task_newtask: (struct task_struct *task, u64 clone_flags) as two u64 slots
      const r = p.run({ ctx: new Uint8Array(16) });
      assert.equal(r.retval, 0);
      p.run({ ctx: new Uint8Array(16) });
      const bss = coll.map('externs.bss');
      assert.equal(new DataView((bss.get(0) as Uint8Array).buffer).getBigUint64(0, true), 2n, 'seen++ ran twice between bpf_rcu_read_lock/unlock');
    } finally {
      rt.close();
    }
  });
}
