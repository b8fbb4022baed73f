/**
 * kfuncs and typed ksyms in modules (src/kernel/prog-load.ts), as libbpf
 * resolves them: looked up in vmlinux first, then in the modules' own BTF;
 * a module kfunc call gets the FUNC's id in `imm` and in `off` the index of
 * its module's BTF fd in BPF_PROG_LOAD's fd_array (slot 0 stays vmlinux's),
 * a module ksym's ld_imm64 gets the module's BTF fd in its second slot.
 * This project's machine loads no module with BTF (only
 * /sys/kernel/btf/vmlinux), so the module here is a split BTF built on the
 * running kernel's vmlinux BTF; as root, the kernel is shown to read the
 * fd_array (it refuses vmlinux's own BTF fd where a module's belongs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { buildKernelProg, kernelSkip, which } from './kernel-support.js';
import { Btf, type BtfType, type CoreModule } from '../src/object/btf/index.js';
import { loadBtfFile } from '../src/object/btf/file.js';
import { FdArray, kernelInsns, type ProgLoadContext } from '../src/kernel/prog-load.js';
import { KernelRuntime } from '../src/kernel/index.js';
import * as op from '../src/isa/opcodes.js';
import type { CollectionSpec } from '../src/object/spec.js';
import type { Sys } from '../src/kernel/ffi.js';
import type { TsbpfError } from '../src/errors.js';

let built: CollectionSpec | undefined;
const ksymsSpec = (): CollectionSpec => (built ??= buildKernelProg('ksyms.c', 'ksyms'));

/** A module `name` on `base`: mod_kfunc(int) -> int and the variable mod_var (int), its ids after the base's. */
function moduleOn(base: Btf, name: string): CoreModule & { ids: { kfunc: number; var: number } } {
  const int = base.typeByName('int', 'int')!.id;
  const n = base.types.length;
  const own: BtfType[] = [
    { id: n, kind: 'func_proto', name: '', returnTypeId: int, params: [{ name: 'x', typeId: int }] },
    { id: n + 1, kind: 'func', name: 'mod_kfunc', typeId: n, linkage: 'global' },
    { id: n + 2, kind: 'var', name: 'mod_var', typeId: int, linkage: 'global' },
  ];
  return { name, btf: loadBtfFile(Btf.fromTypes(own, base).encode(), base), ids: { kfunc: n + 1, var: n + 2 } };
}

/** A small "vmlinux": int, the two rcu kfuncs and two task kfuncs (ids 3-6; their prototypes do not matter here). */
function smallVmlinux(): Btf {
  return Btf.parse(
    Btf.fromTypes([
      { id: 1, kind: 'int', name: 'int', size: 4, bits: 32, offset: 0, encoding: { signed: true, char: false, bool: false } },
      { id: 2, kind: 'func_proto', name: '', returnTypeId: 0, params: [] },
      { id: 3, kind: 'func', name: 'bpf_rcu_read_lock', typeId: 2, linkage: 'global' },
      { id: 4, kind: 'func', name: 'bpf_rcu_read_unlock', typeId: 2, linkage: 'global' },
      { id: 5, kind: 'func', name: 'bpf_task_from_pid', typeId: 2, linkage: 'global' },
      { id: 6, kind: 'func', name: 'bpf_task_release', typeId: 2, linkage: 'global' },
    ]).encode(),
  );
}

test('fd_array: slot 0 is vmlinux\'s, each module BTF fd gets one slot', () => {
  const f = new FdArray();
  assert.equal(f.bytes(), undefined, 'no module: no fd_array');
  assert.equal(f.index(17), 1);
  assert.equal(f.index(23), 2);
  assert.equal(f.index(17), 1, 'the same module keeps its slot');
  const b = f.bytes()!;
  assert.deepEqual([0, 4, 8].map((o) => new DataView(b.buffer).getInt32(o, true)), [0, 17, 23]);
});

test('kfuncs and ksyms: vmlinux ids with off 0; a module\'s with its fd_array slot and BTF fd', (t) => {
  if (!which('clang-19')) return t.skip('clang-19 is not installed');
  const spec = ksymsSpec();
  const base = smallVmlinux();
  const mod = moduleOn(base, 'mymod');
  const asked: string[] = [];
  const ctx: ProgLoadContext = {
    sys: undefined as unknown as Sys,
    spec,
    mapFd: () => undefined,
    vmlinux: () => base,
    modules: () => [mod],
    moduleBtfFd: (name) => (asked.push(name), 42),
  };
  const calls = (name: string, fds: FdArray) => kernelInsns(spec.programs.get(name)!, ctx, fds).filter((i) => i.code === (op.BPF_JMP | op.BPF_CALL));

  const vmFds = new FdArray();
  assert.deepEqual(calls('vm', vmFds).map((i) => [i.src, i.imm, i.off]), [[op.BPF_PSEUDO_KFUNC_CALL, 3, 0], [op.BPF_PSEUDO_KFUNC_CALL, 4, 0]]);
  assert.equal(vmFds.bytes(), undefined, 'vmlinux kfuncs only: no fd_array');
  assert.deepEqual(asked, []);

  const fds = new FdArray();
  const insns = kernelInsns(spec.programs.get('mod')!, ctx, fds);
  const k = insns.filter((i) => i.code === (op.BPF_JMP | op.BPF_CALL));
  assert.deepEqual(k.map((i) => [i.imm, i.off]), [[3, 0], [4, 0], [mod.ids.kfunc, 1]], 'mod_kfunc: its module id, fd_array slot 1');
  assert.deepEqual(fds.fds, [0, 42]);
  const ld = insns.findIndex((i) => i.code === (op.BPF_LD | op.BPF_IMM | op.BPF_DW));
  assert.equal(insns[ld]!.src, op.BPF_PSEUDO_BTF_ID);
  assert.equal(insns[ld]!.imm, mod.ids.var, 'mod_var: its module id');
  assert.equal(insns[ld + 1]!.imm, 42, 'and the module BTF fd in the second slot');
  assert.deepEqual([...new Set(asked)], ['mymod']);

  const none: ProgLoadContext = { ...ctx, modules: () => [] };
  assert.throws(() => kernelInsns(spec.programs.get('mod')!, none), (e: TsbpfError) => e.errno === 'ENOENT' && /kfunc mod_kfunc is not in the kernel's BTF \(vmlinux or a loaded module's\)/.test(e.message));
});

test('a kfunc named as a value: its FUNC id in a BTF-id lddw; a weak one the kernel lacks loads 0 and calls id 0', (t) => {
  if (!which('clang-19')) return t.skip('clang-19 is not installed');
  const spec = ksymsSpec();
  const ctx: ProgLoadContext = { sys: undefined as unknown as Sys, spec, mapFd: () => undefined, vmlinux: smallVmlinux };
  const insns = kernelInsns(spec.programs.get('weak')!, ctx);
  const lds = insns.flatMap((ins, i) => (ins.code === (op.BPF_LD | op.BPF_IMM | op.BPF_DW) ? [[ins.src, ins.imm, insns[i + 1]!.imm]] : []));
  assert.deepEqual(lds, [[op.BPF_PSEUDO_BTF_ID, 5, 0], [0, 0, 0]], 'bpf_task_from_pid: its vmlinux FUNC id; tsbpf_no_such_kfunc: 0');
  const calls = insns.filter((i) => i.code === (op.BPF_JMP | op.BPF_CALL)).map((i) => [i.src, i.imm, i.off]);
  assert.deepEqual(calls, [[op.BPF_PSEUDO_KFUNC_CALL, 5, 0], [op.BPF_PSEUDO_KFUNC_CALL, 6, 0], [op.BPF_PSEUDO_KFUNC_CALL, 0, 0]]);
  // the strong kfunc the kernel lacks stays an error
  assert.throws(() => kernelInsns(spec.programs.get('mod')!, ctx), (e: TsbpfError) => e.errno === 'ENOENT');
});

test('kernel: vmlinux kfuncs load; a module kfunc goes through fd_array to the kernel', { timeout: 60_000 }, async (t) => {
  const why = (await kernelSkip()) ?? (which('clang-19') ? undefined : 'clang-19 is not installed');
  if (why) return t.skip(why);
  const spec = ksymsSpec();
  const plain = new KernelRuntime();
  try {
    const c = await plain.load(spec, { programs: ['vm'] });
    assert.equal(c.program('vm').run({ data: new Uint8Array(64) }).retval, 0, 'vmlinux kfuncs (off 0, no fd_array) load and run');
    c.close();
    const w = await plain.load(spec, { programs: ['weak'] });
    assert.equal(w.program('weak').run({ data: new Uint8Array(64) }).retval, 1, 'the kfunc the kernel has exists, the weak one it lacks does not');
    w.close();
    // no module of any kernel defines mod_kfunc: named, not crashed on
    await assert.rejects(plain.load(spec, { programs: ['mod'] }), (e: TsbpfError) => e.errno === 'ENOENT' && /kfunc mod_kfunc is not in the kernel's BTF/.test(e.message));
    const mods = existsSync('/sys/kernel/btf') ? readdirSync('/sys/kernel/btf').filter((f) => f !== 'vmlinux') : [];
    t.diagnostic(`this kernel has ${mods.length} module BTF files in /sys/kernel/btf${mods.length ? `: ${mods.slice(0, 5).join(', ')}` : ''}`);
  } finally {
    plain.close();
  }
  // a "module" named vmlinux: its BTF object fd is vmlinux's, which the verifier must refuse
  // where a kfunc call's off names a module (__find_kfunc_desc_btf: not a module BTF)
  const vmlinux = loadBtfFile(new Uint8Array(readFileSync('/sys/kernel/btf/vmlinux')));
  const fake = moduleOn(vmlinux, 'vmlinux');
  const rt = new KernelRuntime({ moduleBtf: [fake] });
  try {
    await assert.rejects(rt.load(spec, { programs: ['mod'], logLevel: 1 }), (e: Error & { log?: string; kernelMessage?: string }) => {
      assert.match(e.log ?? e.message, /BTF fd for kfunc is not a module BTF/);
      return true;
    });
  } finally {
    rt.close();
  }
});
