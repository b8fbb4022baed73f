import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ElfError, parseElf, R_BPF_64_64, R_BPF_64_ABS64, SHT_NOBITS, STT_FUNC } from '../src/object/elf.js';
import { TsbpfError } from '../src/errors.js';
import { FIXTURE_OBJECTS, fixture, fixturePath, hasTool, tool } from './object-tools.js';

const READOBJ = 'llvm-readobj-19';

interface RoSection { Section: { Index: number; Name: { Name: string }; Type: { Value: number }; Flags: { Value: number }; Offset: number; Size: number; Link: number; Info: number; AddressAlignment: number; EntrySize: number } }
interface RoSymbol { Symbol: { Name: { Name: string; Value: number }; Value: number; Size: number; Binding: { Value: number }; Type: { Value: number }; Section: { Value: number } } }
interface RoReloc { SectionIndex: number; Relocs: Array<{ Relocation: { Offset: number; Type: { Value: number }; Symbol: { Value: number } } }> }

test('sections, symbols and relocations of every fixture match llvm-readobj', { skip: !hasTool(READOBJ) && `${READOBJ} not installed` }, () => {
  assert.ok(FIXTURE_OBJECTS.length >= 12, `fixtures missing: ${FIXTURE_OBJECTS.join(' ')}`);
  for (const f of FIXTURE_OBJECTS) {
    const elf = parseElf(fixture(f));
    const ro = JSON.parse(tool(READOBJ, ['--elf-output-style=JSON', '-S', '-s', '-r', fixturePath(f)]))[0] as {
      Sections: RoSection[];
      Symbols: RoSymbol[];
      Relocations: RoReloc[];
    };
    assert.equal(elf.endian, f.includes('bpfeb') ? 'be' : 'le', f);
    assert.equal(elf.sections.length, ro.Sections.length, `${f}: section count`);
    for (const { Section: s } of ro.Sections) {
      const mine = elf.sections[s.Index]!;
      assert.deepEqual(
        [mine.name, mine.type, mine.flags, mine.offset, mine.size, mine.link, mine.info, mine.addralign, mine.entsize],
        [s.Name.Name, s.Type.Value, s.Flags.Value, s.Offset, s.Size, s.Link, s.Info, s.AddressAlignment, s.EntrySize],
        `${f}: section ${s.Index}`,
      );
      if (mine.type !== SHT_NOBITS) assert.equal(mine.data.length, s.Size);
    }
    assert.equal(elf.symbols.length, ro.Symbols.length, `${f}: symbol count`);
    ro.Symbols.forEach(({ Symbol: s }, i) => {
      const mine = elf.symbols[i]!;
      const name = s.Type.Value === 3 ? '' : s.Name.Name; // readobj prints section symbols with the section's name
      assert.deepEqual(
        [mine.name, mine.value, mine.size, mine.bind, mine.type, mine.shndx],
        [name, s.Value, s.Size, s.Binding.Value, s.Type.Value, s.Section.Value],
        `${f}: symbol ${i}`,
      );
    });
    let total = 0;
    for (const r of ro.Relocations) {
      const relSec = elf.sections[r.SectionIndex]!;
      const mine = elf.relocations.get(relSec.info)!.find((x) => x.section.index === r.SectionIndex)!;
      assert.ok(mine, `${f}: relocation section ${r.SectionIndex}`);
      assert.deepEqual(
        mine.entries.map((e) => [e.offset, e.type, e.symbol]),
        r.Relocs.map(({ Relocation: x }) => [x.Offset, x.Type.Value, x.Symbol.Value]),
        `${f}: relocations of ${relSec.name}`,
      );
      total += r.Relocs.length;
    }
    assert.equal([...elf.relocations.values()].flat().reduce((n, s) => n + s.entries.length, 0), total);
  }
});

test('the committed fixtures parse everywhere: known functions and relocations', () => {
  const elf = parseElf(fixture('tail_call.o'));
  const funcs = elf.symbols.filter((s) => s.type === STT_FUNC).map((s) => [s.name, s.value, s.size]);
  assert.deepEqual(funcs, [
    ['tail_a', 0, 16],
    ['tail_b', 16, 16],
    ['dispatch', 32, 72],
  ]);
  const maps = elf.sections.findIndex((s) => s.name === '.maps');
  const rel = elf.relocations.get(maps)![0]!.entries;
  assert.deepEqual(
    rel.map((r) => [r.offset, r.type, elf.symbols[r.symbol]!.name]),
    [
      [24, R_BPF_64_ABS64, 'tail_a'],
      [40, R_BPF_64_ABS64, 'tail_b'],
    ],
  );
  const xdp = elf.sections.findIndex((s) => s.name === 'xdp');
  assert.deepEqual(
    elf.relocations.get(xdp)![0]!.entries.map((r) => [r.offset, r.type, elf.symbols[r.symbol]!.name]),
    [[64, R_BPF_64_64, 'jump_table']],
  );
});

test('big-endian fixtures have the same structure as their little-endian twins', () => {
  for (const f of FIXTURE_OBJECTS.filter((x) => x.includes('.bpfeb.'))) {
    const be = parseElf(fixture(f));
    const le = parseElf(fixture(f.replace('.bpfeb', '')));
    assert.equal(be.endian, 'be');
    assert.deepEqual(
      be.sections.map((s) => [s.name, s.type, s.size]),
      le.sections.map((s) => [s.name, s.type, s.size]),
      f,
    );
    assert.deepEqual(
      be.symbols.map((s) => [s.name, s.value, s.size, s.type]),
      le.symbols.map((s) => [s.name, s.value, s.size, s.type]),
      f,
    );
  }
});

function rejects(bytes: Uint8Array, offset: number, pattern: RegExp, errno = 'EINVAL'): void {
  assert.throws(
    () => parseElf(bytes),
    (e: unknown) => {
      assert.ok(e instanceof ElfError, `not an ElfError: ${String(e)}`);
      assert.ok(e instanceof TsbpfError);
      assert.equal(e.errno, errno, e.message);
      assert.equal(e.offset, offset, e.message);
      assert.match(e.reason, pattern);
      return true;
    },
  );
}

function patch(bytes: Uint8Array, f: (dv: DataView) => void): Uint8Array {
  const copy = bytes.slice();
  f(new DataView(copy.buffer));
  return copy;
}

test('malformed headers get an ElfError with the offset and reason', () => {
  const good = fixture('xdp_firewall.o');
  rejects(new Uint8Array(0), 0, /too short/, 'ENOEXEC');
  rejects(new TextEncoder().encode('#!/bin/sh\necho not an object file at all.........................'), 0, /bad magic/, 'ENOEXEC');
  rejects(patch(good, (d) => d.setUint8(4, 1)), 4, /ELFCLASS64/, 'ENOEXEC');
  rejects(patch(good, (d) => d.setUint8(5, 3)), 5, /data encoding/, 'ENOEXEC');
  rejects(good.slice(0, 40), 0, /ELF64 header/, 'ENOEXEC');
  rejects(patch(good, (d) => d.setUint16(58, 40, true)), 58, /e_shentsize/);
  // section header table pointing past the end
  rejects(patch(good, (d) => d.setBigUint64(40, BigInt(good.length - 10), true)), good.length - 10, /past the end/);
  rejects(patch(good, (d) => d.setBigUint64(40, 1n << 60n, true)), 40, /out of range/);
  rejects(patch(good, (d) => d.setUint16(60, 0xfff0, true)), 60, /do not fit/);
  rejects(patch(good, (d) => d.setUint16(62, 200, true)), 62, /e_shstrndx/);
  // the file ends before the last section header
  const dv = new DataView(good.buffer, good.byteOffset);
  const shoff = Number(dv.getBigUint64(40, true));
  rejects(good.slice(0, shoff + 64 * 3), 60, /do not fit/);
});

test('malformed sections get an ElfError naming the section', () => {
  const good = fixture('xdp_firewall.o');
  const dv = new DataView(good.buffer, good.byteOffset);
  const shoff = Number(dv.getBigUint64(40, true));
  const elf = parseElf(good);
  const xdp = elf.sections.find((s) => s.name === 'xdp')!;
  const h = shoff + xdp.index * 64;
  // contents past the end of the file
  rejects(patch(good, (d) => d.setBigUint64(h + 32, BigInt(good.length), true)), xdp.offset, /section 3 contents/);
  // a name outside the section name table
  rejects(patch(good, (d) => d.setUint32(h, 0xffffff, true)), h, /outside the string table/);
  // symbol table with a bad entry size
  const symtab = elf.sections.find((s) => s.name === '.symtab')!;
  rejects(patch(good, (d) => d.setBigUint64(shoff + symtab.index * 64 + 56, 16n, true)), shoff + symtab.index * 64 + 56, /entry size/);
  // a relocation referring to a symbol that does not exist
  const rel = elf.sections.find((s) => s.name === '.relxdp')!;
  rejects(patch(good, (d) => d.setUint32(rel.offset + 12, 9999, true)), rel.offset + 8, /symbol 9999/);
  // a relocation section applying to no section
  rejects(patch(good, (d) => d.setUint32(shoff + rel.index * 64 + 44, 999, true)), shoff + rel.index * 64 + 44, /does not exist/);
  // a huge .bss is refused before anything is allocated
  const bss = parseElf(fixture('global_data.o')).sections.find((s) => s.name === '.bss')!;
  const gd = fixture('global_data.o');
  const gshoff = Number(new DataView(gd.buffer, gd.byteOffset).getBigUint64(40, true));
  rejects(patch(gd, (d) => d.setBigUint64(gshoff + bss.index * 64 + 32, 1n << 40n, true)), gshoff + bss.index * 64 + 32, /too large/, 'E2BIG');
});
