/**
 * Module BTF (kernel/module-btf.ts, object/btf/core.ts): CO-RE candidates
 * and tracing attach targets are looked up in vmlinux first, then in the
 * modules' own types, as libbpf's bpf_core_find_cands and
 * find_kernel_btf_id do. The machine this project runs on loads no module
 * with BTF (only /sys/kernel/btf/vmlinux), so this builds a small "vmlinux"
 * and a split BTF "module" on it, writes them as /sys/kernel/btf lays them
 * out, and reads them back the way KernelRuntime does. No root needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Btf, loadBtfAndExt, applyCoreRelocations, calcCoreRelocation, POISON_HELPER_ID, type BtfType, type CoreRelo } from '../src/object/btf/index.js';
import { parseElf } from '../src/object/elf.js';
import { decode, type Insn } from '../src/isa/insn.js';
import { readModuleBtfs } from '../src/kernel/module-btf.js';
import { attachBtfId } from '../src/kernel/prog-load.js';
import { KernelRuntime } from '../src/kernel/runtime.js';
import type { ProgramSpec } from '../src/object/spec.js';
import { ROOT } from './paths.js';

const SEC = 'kprobe/do_nanosleep';
function openCore(): { btf: Btf; relos: CoreRelo[]; insns: Insn[] } {
  const bytes = new Uint8Array(readFileSync(resolve(ROOT, 'test/fixtures-btf/core.o')));
  const { btf, ext } = loadBtfAndExt(bytes);
  const elf = parseElf(bytes);
  return { btf, relos: ext!.sections.get(SEC)!.coreRelos, insns: decode(elf.sections.find((s) => s.name === SEC)!.data, elf.endian) };
}

const I = (id: number, name: string, size: number, signed = false): BtfType => ({ id, kind: 'int', name, size, bits: size * 8, offset: 0, encoding: { signed, char: false, bool: false } });
const M = (name: string, typeId: number, bitOffset: number) => ({ name, typeId, bitOffset, bitfieldSize: 0 });

/** A "vmlinux" without task_struct, and a function vm_func; written and parsed back as the kernel's file would be. */
function vmlinux(withTask = false): Btf {
  const types: BtfType[] = [
    I(1, 'int', 4, true),
    I(2, 'unsigned long', 8),
    { id: 3, kind: 'func_proto', name: '', returnTypeId: 1, params: [] },
    { id: 4, kind: 'func', name: 'vm_func', typeId: 3, linkage: 'global' },
  ];
  if (withTask) types.push({ id: 5, kind: 'struct', name: 'task_struct', size: 16, kindFlag: false, members: [M('flags', 2, 0), M('pid', 1, 64), M('tgid', 1, 96)] });
  return Btf.parse(Btf.fromTypes(types).encode());
}

/** Module "mymod": task_struct (pid at byte 12, tgid at 8) and a function mod_func, ids after the base's. */
function moduleBlob(base: Btf): Uint8Array {
  const n = base.types.length;
  const own: BtfType[] = [
    { id: n, kind: 'struct', name: 'task_struct', size: 24, kindFlag: false, members: [M('flags', 2, 0), M('tgid', 1, 64), M('pid', 1, 96), M('real_parent', n + 1, 128)] },
    { id: n + 1, kind: 'ptr', name: '', typeId: n },
    { id: n + 2, kind: 'func', name: 'mod_func', typeId: 3, linkage: 'global' },
  ];
  return Btf.fromTypes(own, base).encode();
}

/** /sys/kernel/btf as a directory: vmlinux and mymod. */
function btfDir(base: Btf): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-modbtf-'));
  writeFileSync(join(dir, 'vmlinux'), base.encode());
  writeFileSync(join(dir, 'mymod'), moduleBlob(base));
  return dir;
}

test('module BTF: split BTF on vmlinux is read from the directory, its ids after the base', () => {
  const base = vmlinux();
  const dir = btfDir(base);
  try {
    const mods = readModuleBtfs(base, dir);
    assert.deepEqual(mods.map((m) => m.name), ['mymod']);
    const m = mods[0]!.btf;
    assert.equal(m.base, base);
    const task = m.typeByName('task_struct', 'struct')!;
    assert.equal(task.id, base.types.length, 'the first own type follows the base');
    assert.equal(m.typeById(1).name, 'int', 'base types resolve through the module');
    assert.deepEqual(readModuleBtfs(base, join(dir, 'missing')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('module BTF: CO-RE finds a type only a module has, after vmlinux had no candidate', () => {
  const { btf, relos, insns } = openCore();
  const base = vmlinux();
  const dir = btfDir(base);
  try {
    const modules = readModuleBtfs(base, dir);
    // offsetof(task_struct, tgid): byte 8 in the module (12 in the vmlinux that has task_struct)
    const fieldOf = (r: CoreRelo): string => {
      const t = btf.typeById(r.typeId);
      return t.kind === 'struct' ? (t.members[Number(r.accessStr.split(':')[1])]?.name ?? '') : '';
    };
    const tgid = relos.find((r) => r.kind === 'field_byte_offset' && btf.nameOf(r.typeId) === 'task_struct' && /^0:\d+$/.test(r.accessStr) && fieldOf(r) === 'tgid');
    assert.ok(tgid, 'core.o has offsetof(task_struct, tgid)');
    const want = 8;
    const lines: string[] = [];
    const r = calcCoreRelocation(tgid, btf, base, { modules, log: (l) => lines.push(l) });
    assert.equal(Number(r.target), want);
    assert.equal(r.targetBtf, 'mymod');
    assert.equal(r.targetTypeId, base.types.length);
    assert.ok(lines.some((l) => /found target candidate \[\d+\] struct task_struct in \[mymod\]$/.test(l)), lines.join('\n'));
    const out = applyCoreRelocations(insns, [tgid], btf, base, { modules: () => modules });
    assert.equal(out[tgid.insnOff]!.imm, want, 'the instruction gets the module\'s offset');
    // without the modules there is no candidate: the instruction is poisoned, as libbpf does
    assert.equal(applyCoreRelocations(insns, [tgid], btf, base)[tgid.insnOff]!.imm, POISON_HELPER_ID);
    // vmlinux first: when it has a candidate the modules are not searched (libbpf bpf_core_find_cands)
    const withTask = vmlinux(true);
    let asked = false;
    const r2 = calcCoreRelocation(tgid, btf, withTask, { modules: () => ((asked = true), readModuleBtfs(withTask, dir)) });
    assert.equal(r2.targetBtf, 'vmlinux');
    assert.equal(Number(r2.target), 12);
    assert.equal(asked, false, 'the modules were not even read');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('module BTF: a tracing program\'s target in a module names the module (attach_btf_obj_fd)', () => {
  const base = vmlinux();
  const dir = btfDir(base);
  try {
    const modules = readModuleBtfs(base, dir);
    const prog = (attachTo: string): ProgramSpec => ({ name: 'p', type: 'tracing', attachType: 'trace_fentry', attachTo, section: `fentry/${attachTo}` }) as unknown as ProgramSpec;
    assert.deepEqual(attachBtfId(prog('vm_func'), base, () => modules), { id: 4 });
    assert.deepEqual(attachBtfId(prog('mod_func'), base, () => modules), { id: base.types.length + 2, module: 'mymod' });
    assert.throws(() => attachBtfId(prog('nowhere'), base, () => modules), (e: Error & { errno?: string }) => e.errno === 'ESRCH' && /vmlinux or a loaded module/.test(e.message));
    // KernelRuntime reads the modules beside its kernelBtf file, as beside /sys/kernel/btf/vmlinux
    const rt = new KernelRuntime({ kernelBtf: join(dir, 'vmlinux') });
    assert.deepEqual(rt.modules().map((m) => m.name), ['mymod']);
    assert.equal(rt.modules()[0]!.btf.typeByName('mod_func', 'func')!.id, base.types.length + 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
