import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import {
  Btf,
  loadBtfAndExt,
  applyCoreRelocations,
  calcCoreRelocation,
  essentialName,
  CoreRelocationError,
  POISON_HELPER_ID,
  contextBtf,
  CONTEXT_TYPES,
  btfSubset,
  type BtfType,
  type CoreRelo,
} from '../src/object/btf/index.js';
import { parseElf } from '../src/object/elf.js';
import { decode, type Insn } from '../src/isa/insn.js';
import { ROOT } from './paths.js';
import { isRoot as isRootUser, which } from './support/tools.js';

const FIX = resolve(ROOT, 'test/fixtures-btf');
const SEC = 'kprobe/do_nanosleep';

function openCore(name = 'core.o'): { btf: Btf; relos: CoreRelo[]; insns: Insn[] } {
  const bytes = new Uint8Array(readFileSync(`${FIX}/${name}`));
  const { btf, ext } = loadBtfAndExt(bytes);
  const elf = parseElf(bytes);
  const insns = decode(elf.sections.find((s) => s.name === SEC)!.data, elf.endian);
  return { btf, relos: ext!.sections.get(SEC)!.coreRelos, insns };
}

const I = (id: number, name: string, size: number, signed = false): BtfType => ({ id, kind: 'int', name, size, bits: size * 8, offset: 0, encoding: { signed, char: false, bool: false } });
const M = (name: string, typeId: number, bitOffset: number, bitfieldSize = 0) => ({ name, typeId, bitOffset, bitfieldSize });

/**
 * A target with layouts unlike the kernel's and unlike the program's:
 * pid/tgid live in an anonymous struct inside an anonymous union, so member
 * matching has to search through anonymous members.
 */
function target(): Btf {
  return Btf.fromTypes([
    I(1, 'int', 4, true),
    I(2, 'unsigned long', 8),
    I(3, 'unsigned char', 1),
    { id: 4, kind: 'struct', name: 'pt_regs', size: 24, kindFlag: false, members: [M('bx', 2, 0), M('si', 2, 64), M('di', 2, 128)] },
    { id: 5, kind: 'struct', name: '', size: 8, kindFlag: false, members: [M('pid', 1, 0), M('tgid', 1, 32)] },
    { id: 6, kind: 'union', name: '', size: 8, kindFlag: false, members: [M('', 5, 0), M('raw', 2, 0)] },
    { id: 7, kind: 'ptr', name: '', typeId: 8 },
    { id: 8, kind: 'struct', name: 'task_struct', size: 40, kindFlag: false, members: [M('flags', 2, 0), M('', 6, 64), M('real_parent', 7, 256)] },
    { id: 9, kind: 'struct', name: 'sk_buff', size: 16, kindFlag: true, members: [M('len', 1, 0), M('pkt_type', 3, 42, 3)] },
    { id: 10, kind: 'enum', name: 'bpf_func_id', size: 4, signed: false, values: [{ name: 'BPF_FUNC_unspec', value: 0 }, { name: 'BPF_FUNC_ringbuf_output', value: 130 }] },
  ]);
}

test('essential names drop the ___flavor suffix as libbpf does', () => {
  assert.equal(essentialName('task_struct___flavor'), 'task_struct');
  assert.equal(essentialName('task_struct___v2___x'), 'task_struct___v2');
  assert.equal(essentialName('task_struct'), 'task_struct');
  assert.equal(essentialName('a____b'), 'a____b');
  assert.equal(essentialName('___x'), '___x');
});

test('every relocation kind computes the target layout and patches its instruction', () => {
  const { btf, relos, insns } = openCore();
  const tgt = target();
  const want: Record<number, [string, number | bigint]> = {
    2: ['field_byte_offset', 32], // task_struct.real_parent
    4: ['field_byte_offset', 8], // LDX ctx->si
    10: ['field_byte_offset', 12], // real_parent->tgid, through the anonymous union
    23: ['field_byte_offset', 16], // LDX ctx->di
    25: ['field_exists', 0],
    27: ['field_exists', 1],
    29: ['type_exists', 0],
    31: ['type_size', 40],
    33: ['enumval_value', 130],
    36: ['enumval_exists', 0],
    41: ['field_byte_offset', 5], // bitfield pkt_type at bit 42: the byte holding it
    45: ['field_byte_size', 1],
    49: ['field_lshift_u64', 59],
    50: ['field_signed', 0],
    52: ['field_rshift_u64', 61],
    54: ['field_rshift_u64', 61],
    58: ['field_byte_size', 8],
    60: ['field_byte_offset', 12],
    62: ['type_id_target', 8],
    65: ['field_signed', 1],
    67: ['type_matches', 1],
  };
  assert.equal(relos.length, Object.keys(want).length);
  for (const r of relos) {
    const w = want[r.insnOff];
    assert.ok(w, `unexpected relocation at ${r.insnOff}`);
    assert.equal(r.kind, w[0], `kind at insn ${r.insnOff}`);
    assert.equal(BigInt(calcCoreRelocation(r, btf, tgt).target), BigInt(w[1]), `${r.kind} at insn ${r.insnOff} (${r.accessStr})`);
  }
  const out = applyCoreRelocations(insns, relos, btf, tgt);
  assert.equal(out.length, insns.length);
  assert.equal(out[2]!.imm, 32);
  assert.equal(out[4]!.off, 8);
  assert.equal(out[23]!.off, 16);
  assert.equal(out[33]!.imm, 130);
  assert.equal(out[34]!.imm, 0);
  assert.equal(out[62]!.imm, 8);
  // untouched instructions stay as they were, and the input is not modified
  assert.deepEqual(out[0], insns[0]);
  assert.equal(insns[2]!.imm, 8);
});

test('the big-endian object relocates to the same values', () => {
  const le = openCore();
  const be = openCore('core.be.o');
  const tgt = target();
  const tgtBe = Btf.parse(tgt.encode('be'));
  applyCoreRelocations(be.insns, be.relos, be.btf, tgtBe);
  // the same relocations (clang may emit one more or less); only the bitfield left shift depends on byte order
  const values = (o: typeof le, t: Btf): Map<string, string> =>
    new Map(o.relos.map((r) => [`${r.kind} ${o.btf.nameOf(r.typeId)} ${r.accessStr}`, String(calcCoreRelocation(r, o.btf, t).target)]));
  const a = values(le, tgt);
  const b = values(be, tgtBe);
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
  for (const [k, v] of a) {
    if (k.startsWith('field_lshift_u64')) assert.equal(b.get(k), '58', 'big-endian: (8 - 1) * 8 + (42 - 40)');
    else assert.equal(b.get(k), v, k);
  }
});

test('a field whose size changed gets a load of the new width', () => {
  const { btf, relos, insns } = openCore();
  // ctx->di as a 4-byte field in the target: the 8-byte LDX becomes a 4-byte one
  const tgt = Btf.fromTypes([
    I(1, 'unsigned int', 4),
    I(2, 'unsigned long', 8),
    { id: 3, kind: 'struct', name: 'pt_regs', size: 8, kindFlag: false, members: [M('si', 2, 0), M('di', 1, 32)] },
  ]);
  const di = relos.filter((r) => r.insnOff === 23);
  const out = applyCoreRelocations(insns, di, btf, tgt);
  assert.equal(out[23]!.off, 4);
  assert.equal(out[23]!.code, 0x61, 'ldxdw became ldxw');
});

test('an unresolvable relocation poisons its instruction, as libbpf does; existence checks answer 0', () => {
  const { btf, relos, insns } = openCore();
  const empty = Btf.fromTypes([I(1, 'int', 4, true)]);
  const offsetRelo = relos.find((r) => r.insnOff === 2)!;
  const lines: string[] = [];
  const poisoned = applyCoreRelocations(insns, [offsetRelo], btf, empty, { prog: 'p', log: (l) => lines.push(l) });
  // bpf_core_poison_insn: a call of helper 0xbad2310 that the verifier refuses only where reachable
  assert.deepEqual(poisoned[2], { code: 0x85, dst: 0, src: 0, off: 0, imm: POISON_HELPER_ID });
  assert.equal(POISON_HELPER_ID, 0xbad2310);
  assert.ok(lines.some((l) => /^prog 'p': relo #\d+: <byte_off> \[\d+\] struct task_struct\.\w+ \(0:2 @ offset \d+\)$/.test(l)), lines.join('\n'));
  assert.ok(lines.includes(`prog 'p': relo #${offsetRelo.reloIdx}: no matching targets found`), lines.join('\n'));
  assert.ok(lines.includes(`prog 'p': relo #${offsetRelo.reloIdx}: substituting insn #2 w/ invalid insn`), lines.join('\n'));
  // existence checks do not need the type: they answer 0
  const exists = relos.filter((r) => r.kind.endsWith('exists') || r.kind === 'type_matches');
  const out = applyCoreRelocations(insns, exists, btf, empty);
  for (const r of exists) assert.equal(out[r.insnOff]!.imm, 0, `${r.kind} at ${r.insnOff}`);
  // a candidate that lacks the field poisons a byte offset too
  const noParent = Btf.fromTypes([I(1, 'int', 4, true), { id: 2, kind: 'struct', name: 'task_struct', size: 4, kindFlag: false, members: [M('pid', 1, 0)] }]);
  assert.equal(applyCoreRelocations(insns, [offsetRelo], btf, noParent)[2]!.imm, POISON_HELPER_ID);
  // the instruction must hold the local value clang compiled in
  const tampered = insns.map((x, i) => (i === 2 ? { ...x, imm: 99 } : x));
  assert.throws(() => applyCoreRelocations(tampered, [offsetRelo], btf, target()), /unexpected insn #2 \(ALU\/ALU64\) value: got 99, exp 8 -> /);
  // malformed access strings are rejected
  assert.throws(() => calcCoreRelocation({ ...offsetRelo, accessStr: '0:x' }, btf, target()), /malformed access string/);
  assert.throws(() => calcCoreRelocation({ ...offsetRelo, accessStr: '0:9' }, btf, target()), /member index 9 out of range/);
});

test('two flavors that disagree are ambiguous', () => {
  const { btf, relos, insns } = openCore();
  const tgt = Btf.fromTypes([
    I(1, 'int', 4, true),
    { id: 2, kind: 'struct', name: 'task_struct___a', size: 8, kindFlag: false, members: [M('pid', 1, 0), M('tgid', 1, 32)] },
    { id: 3, kind: 'struct', name: 'task_struct___b', size: 8, kindFlag: false, members: [M('tgid', 1, 0), M('pid', 1, 32)] },
  ]);
  const r = relos.find((x) => x.insnOff === 60)!; // offsetof(task_struct___flavor, tgid)
  assert.throws(() => applyCoreRelocations(insns, [r], btf, tgt), /field offset ambiguity: 0 != 32/);
});

const isRoot = isRootUser();
const bpftool = which('bpftool');
test(
  'against the kernel BTF, every relocation gets the value libbpf patches in',
  {
    skip: (!isRoot && 'needs root') || (!bpftool && 'bpftool not installed') || (!existsSync('/sys/kernel/btf/vmlinux') && 'no /sys/kernel/btf/vmlinux'),
  },
  () => {
    const pin = `/sys/fs/bpf/tsbpf-btf-core-${process.pid}`;
    spawnSync('sh', ['-c', 'mount | grep -q " /sys/fs/bpf " || mount -t bpf bpf /sys/fs/bpf']);
    const r = spawnSync('bpftool', ['-d', 'prog', 'load', `${FIX}/core.o`, pin], { encoding: 'utf8' });
    rmSync(pin, { force: true });
    const patched = [...r.stderr.matchAll(/patched insn #(\d+) \(([^)]+)\) (?:imm|off|imm64) (-?\d+) -> (-?\d+)/g)];
    assert.ok(patched.length > 10, `libbpf's debug log lists the relocations:\n${r.stderr.slice(0, 2000)}`);
    const { btf, relos, insns } = openCore();
    const vmlinux = Btf.parse(new Uint8Array(readFileSync('/sys/kernel/btf/vmlinux')));
    const out = applyCoreRelocations(insns, relos, btf, vmlinux);
    for (const [, at, cls, , to] of patched) {
      const i = Number(at);
      const v = cls === 'LDX/ST/STX' ? out[i]!.off : cls === 'LDIMM64' ? Number((BigInt(out[i + 1]!.imm >>> 0) << 32n) | BigInt(out[i]!.imm >>> 0)) : out[i]!.imm;
      assert.equal(v, Number(to), `insn ${i} (${cls})`);
    }
  },
);

test('tsbpf context types are a CO-RE target: pt_regs and task_struct relocate, a target without task_struct poisons', () => {
  const { btf, relos, insns } = openCore();
  const ctx = contextBtf();
  for (const name of CONTEXT_TYPES) assert.ok(ctx.typeByName(name.replace(/^struct /, ''), 'struct'), `${name} in the context BTF`);
  const regs = relos.filter((r) => btf.nameOf(r.typeId) === 'pt_regs' && r.kind === 'field_byte_offset');
  assert.equal(regs.length, 2);
  const out = applyCoreRelocations(insns, regs, btf, ctx);
  // x86-64 struct pt_regs: si is the 14th and di the 15th unsigned long
  assert.deepEqual([out[4]!.off, out[23]!.off], [104, 112]);
  // the shipped types hold the kernel's struct task_struct (bpf_get_current_task_btf's): its first field
  // relocation lands at the kernel's offset; a target cut without it poisons the instruction
  const task = relos.find((r) => btf.nameOf(r.typeId) === 'task_struct' && r.kind === 'field_byte_offset')!;
  const relocated = applyCoreRelocations(insns, [task], btf, ctx)[task.insnOff]!;
  assert.notEqual(relocated.imm, POISON_HELPER_ID);
  assert.notDeepEqual(relocated, insns[task.insnOff]);
  const noTask = btfSubset(ctx, ['struct pt_regs']);
  assert.equal(applyCoreRelocations(insns, [task], btf, noTask)[task.insnOff]!.imm, POISON_HELPER_ID);
  const xdp = ctx.typeByName('xdp_md', 'struct')!;
  assert.equal(ctx.sizeof(xdp.id), 24);
  const skb = ctx.typeByName('__sk_buff', 'struct')!;
  assert.equal(ctx.sizeof(skb.id), 192);
});

test('a subset of the kernel BTF keeps the layouts of its roots', { skip: !existsSync('/sys/kernel/btf/vmlinux') && 'no /sys/kernel/btf/vmlinux' }, () => {
  const vm = Btf.parse(new Uint8Array(readFileSync('/sys/kernel/btf/vmlinux')));
  const sub = btfSubset(vm, ['struct task_struct', 'struct pt_regs']);
  for (const name of ['task_struct', 'pt_regs']) {
    const a = vm.typeByName(name, 'struct')!;
    const b = sub.typeByName(name, 'struct')!;
    assert.equal(sub.sizeof(b.id), vm.sizeof(a.id));
    assert.deepEqual(
      (b as { members: Array<{ name: string; bitOffset: number }> }).members.map((m) => [m.name, m.bitOffset]),
      (a as { members: Array<{ name: string; bitOffset: number }> }).members.map((m) => [m.name, m.bitOffset]),
    );
  }
  // pointers to other records became forward declarations: the subset stays small
  assert.ok(sub.types.length < 2000, `${sub.types.length} types`);
  assert.ok(sub.types.some((t) => t.kind === 'fwd' && t.name === 'mm_struct'));
});
