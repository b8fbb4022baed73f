import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readObject } from '../src/object/reader.js';
import { RelocationError } from '../src/object/relocate.js';
import { MapDefinitionError } from '../src/object/maps.js';
import { ElfError, parseElf, STB_LOCAL, type ElfFile } from '../src/object/elf.js';
import { TsbpfError } from '../src/errors.js';
import { BPF_PSEUDO_BTF_ID, BPF_PSEUDO_KFUNC_CALL } from '../src/isa/opcodes.js';
import { fixture } from './object-tools.js';

/** A copy of a fixture with some bytes changed, knowing where things are. */
function mutate(name: string, f: (elf: ElfFile, dv: DataView, bytes: Uint8Array) => void): Uint8Array {
  const bytes = fixture(name).slice();
  f(parseElf(bytes), new DataView(bytes.buffer), bytes);
  return bytes;
}
const symOffset = (elf: ElfFile, name: string): number => {
  const symtab = elf.sections.find((s) => s.name === '.symtab')!;
  return symtab.offset + elf.symbols.find((s) => s.name === name)!.index * 24;
};
const relEntry = (elf: ElfFile, section: string, i: number): number => elf.sections.find((s) => s.name === `.rel${section}`)!.offset + i * 16;

function throwsTyped<E extends TsbpfError>(fn: () => unknown, cls: new (...a: never[]) => E, check: (e: E) => void): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    check(e as E);
    return true;
  });
}

test('a relocation against a non-map, non-code section names the symbol', () => {
  const bytes = mutate('xdp_firewall.o', (elf, dv) => {
    // point the proto_count relocation at the .debug_abbrev section symbol
    const dbg = elf.symbols.find((s) => s.type === 3 && elf.sections[s.shndx]?.name === '.debug_abbrev')!;
    dv.setUint32(relEntry(elf, 'xdp', 0) + 12, dbg.index, true);
  });
  throwsTyped(() => readObject(bytes), RelocationError, (e) => {
    assert.equal(e.errno, 'EINVAL');
    assert.equal(e.func, 'xdp_firewall');
    assert.equal(e.insnIndex, 20);
    assert.equal(e.symbol, '.debug_abbrev');
    assert.match(e.message, /xdp_firewall: insn 20: relocation against '\.debug_abbrev': .*not a map, global data or code section/);
  });
});

test('a relocation against the file symbol (a special section) is refused', () => {
  const bytes = mutate('xdp_firewall.o', (elf, dv) => {
    dv.setUint32(relEntry(elf, 'xdp', 1) + 12, elf.symbols.find((s) => s.type === 4)!.index, true);
  });
  throwsTyped(() => readObject(bytes), RelocationError, (e) => {
    assert.equal(e.symbol, 'xdp_firewall.c');
    assert.match(e.reason, /special section 0xfff1/);
  });
});

test('a relocation on an instruction that is neither lddw nor call, or off an instruction boundary', () => {
  const onLoad = mutate('xdp_firewall.o', (elf, dv) => dv.setBigUint64(relEntry(elf, 'xdp', 0), 0n, true));
  throwsTyped(() => readObject(onLoad), RelocationError, (e) => {
    assert.equal(e.insnIndex, 0);
    assert.match(e.reason, /neither lddw nor call/);
  });
  const misaligned = mutate('xdp_firewall.o', (elf, dv) => dv.setBigUint64(relEntry(elf, 'xdp', 0), 0xa1n, true));
  throwsTyped(() => readObject(misaligned), ElfError, (e) => assert.match(e.reason, /byte 161 of 'xdp' is not on an instruction/));
});

test('an extern function becomes a kfunc call, an extern variable a BTF id load', () => {
  // make global_len undefined: the call to it is then a call to a kernel function
  const kfunc = mutate('bpf2bpf.o', (elf, dv) => dv.setUint16(symOffset(elf, 'global_len') + 6, 0, true));
  const p = readObject(kfunc).programs.get('calls_all')!;
  assert.deepEqual(p.references, [{ index: 0, kind: 'kfunc', symbol: 'global_len' }]);
  assert.deepEqual([p.insns[0]!.src, p.insns[0]!.imm], [BPF_PSEUDO_KFUNC_CALL, 0]);
  assert.equal(p.insns.length, 9 + 9 + 5, 'global_len is no longer appended');
  // make `packets` undefined: its lddw is a __ksym variable
  const ksym = mutate('global_data.o', (elf, dv) => dv.setUint16(symOffset(elf, 'packets') + 6, 0, true));
  const g = readObject(ksym).programs.get('global_data')!;
  assert.deepEqual(g.references[0], { index: 2, kind: 'btf_id', symbol: 'packets' });
  assert.equal(g.insns[2]!.src, BPF_PSEUDO_BTF_ID);
});

test('a call into the middle of a function is an error naming the section', () => {
  const bytes = mutate('bpf2bpf.o', (elf, dv) => {
    const xdp = elf.sections.find((s) => s.name === 'xdp')!;
    dv.setInt32(xdp.offset + 2 * 8 + 4, 6, true); // call twice (.text + 6 slots) -> +7
  });
  throwsTyped(() => readObject(bytes), RelocationError, (e) => {
    assert.equal(e.symbol, '.text');
    assert.match(e.reason, /call target at byte 56 of '\.text' is not the start of a function/);
  });
});

test('an unknown section is an error for its program only, or for the object when strict', () => {
  const bytes = mutate('xdp_firewall.o', (elf, _dv, b) => {
    // the section name "xdp" is the tail of ".relxdp" in the string table
    const strtab = elf.sections[1]!;
    const nameOff = new TextDecoder().decode(strtab.data).indexOf('.relxdp\0') + 4;
    assert.ok(nameOff > 4);
    b[strtab.offset + nameOff + 2] = 0x71; // "xdq"
  });
  const spec = readObject(bytes);
  const p = spec.programs.get('xdp_firewall')!;
  assert.equal(p.section, 'xdq');
  assert.equal(p.type, 'unspec');
  assert.match(p.typeError!, /section 'xdq' names no program type/);
  assert.equal(spec.maps.size, 2, 'the rest of the object is still there');
  assert.throws(() => readObject(bytes, { strict: true }), (e: unknown) => e instanceof TsbpfError && /section 'xdq' names no program type/.test(e.message));
});

test('a static function outside .text cannot be a program (as in libbpf)', () => {
  const bytes = mutate('xdp_firewall.o', (elf, _dv, b) => {
    b[symOffset(elf, 'xdp_pass') + 4] = (STB_LOCAL << 4) | 2;
  });
  assert.throws(() => readObject(bytes), (e: unknown) => e instanceof TsbpfError && e.errno === 'ENOTSUPP' && /'xdp_pass'.*static/.test(e.message));
});

test('legacy map records: unknown type, extra fields', () => {
  const badType = mutate('legacy_maps.o', (elf, dv) => {
    const maps = elf.sections.find((s) => s.name === 'maps')!;
    dv.setUint32(maps.offset, 999, true);
  });
  throwsTyped(() => readObject(badType), MapDefinitionError, (e) => {
    assert.equal(e.map, 'legacy_counts');
    assert.match(e.reason, /unknown map type 999/);
  });
  const short = mutate('legacy_maps.o', (elf, dv) => dv.setBigUint64(symOffset(elf, 'legacy_array') + 16, 12n, true));
  throwsTyped(() => readObject(short), MapDefinitionError, (e) => assert.match(e.reason, /12 bytes: type, key and value size and max_entries need 16/));
});

test('a corrupt .BTF or version section is a typed error', () => {
  const btf = mutate('xdp_firewall.o', (elf, _dv, b) => {
    b[elf.sections.find((s) => s.name === '.BTF')!.offset] = 0;
  });
  assert.throws(() => readObject(btf), (e: unknown) => e instanceof TsbpfError && /magic/.test(e.message));
  const ver = mutate('legacy_maps.o', (elf, dv) => {
    const v = elf.sections.find((s) => s.name === 'version')!;
    const shoff = Number(dv.getBigUint64(40, true));
    dv.setBigUint64(shoff + v.index * 64 + 32, 3n, true);
  });
  throwsTyped(() => readObject(ver), ElfError, (e) => assert.match(e.reason, /'version' is 3 bytes/));
});

test('not a BPF object: wrong machine or type', () => {
  const x86 = mutate('xdp_firewall.o', (_e, dv) => dv.setUint16(18, 62, true));
  throwsTyped(() => readObject(x86), ElfError, (e) => {
    assert.equal(e.errno, 'ENOEXEC');
    assert.match(e.reason, /e_machine 62/);
  });
  const exec = mutate('xdp_firewall.o', (_e, dv) => dv.setUint16(16, 2, true));
  throwsTyped(() => readObject(exec), ElfError, (e) => assert.match(e.reason, /not ET_REL/));
});

test('long call chains and many functions link without recursion or quadratic work', async () => {
  const { writeObject } = await import('../src/object/writer.js');
  const { insn } = await import('../src/isa/insn.js');
  const N = 5000;
  // main calls sub0, each sub calls the next: a 5000-deep static call chain
  const insns = [insn(0x85, 0, 1, 0, 1), insn(0x95)];
  for (let k = 0; k < N; k++) insns.push(k + 1 < N ? insn(0x85, 0, 1, 0, 1) : insn(0xb7, 0, 0, 0, 0), insn(0x95));
  const spec = readObject(writeObject({ programs: [{ name: 'deep', section: 'xdp', insns }] }));
  const p = spec.programs.get('deep')!;
  assert.equal(p.insns.length, 2 + 2 * N);
  assert.deepEqual(p.insns, insns);
  assert.equal(p.funcInfo!.length, N + 1);
});
