import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeObject, ObjectWriteError, type WriteMap, type WriteProgram } from '../src/object/writer.js';
import { readObject } from '../src/object/reader.js';
import { parseElf } from '../src/object/elf.js';
import { insn, lddw, type Insn } from '../src/isa/insn.js';
import { BPF_PSEUDO_FUNC, BPF_PSEUDO_MAP_FD } from '../src/isa/opcodes.js';
import { FIXTURE_OBJECTS, fixture, hasTool, isRoot, tool, tryTool } from './object-tools.js';

const EXIT = insn(0x95);
const mov = (dst: number, imm: number): Insn => insn(0xb7, dst, 0, 0, imm);

/** A program using a map, a bpf-to-bpf call and a bpf_loop callback. */
function sample(): { programs: WriteProgram[]; maps: WriteMap[] } {
  const insns: Insn[] = [
    insn(0x62, 10, 0, -4, 0), //  0 *(u32 *)(r10 -4) = 0
    insn(0xbf, 2, 10), //           1 r2 = r10
    insn(0x07, 2, 0, 0, -4), //     2 r2 += -4
    ...lddw(1, 0n, BPF_PSEUDO_MAP_FD), // 3 r1 = map[counts]
    insn(0x85, 0, 0, 0, 1), //      5 call bpf_map_lookup_elem
    insn(0x85, 0, 1, 0, 7), //      6 call pc+7 -> 14 (sub)
    mov(1, 4), //                   7 r1 = 4
    ...lddw(2, 0n, BPF_PSEUDO_FUNC), // 8 r2 = callback (9 + 7 = 16)
    mov(3, 0), //                  10 r3 = 0
    mov(4, 0), //                  11 r4 = 0
    insn(0x85, 0, 0, 0, 181), //   12 call bpf_loop
    EXIT, //                       13
    mov(0, 2), //                  14 sub: r0 = 2
    EXIT, //                       15
    mov(0, 0), //                  16 callback: r0 = 0
    EXIT, //                       17
  ];
  insns[8]!.imm = 16 - 8 - 1;
  return {
    programs: [
      { name: 'wprog', section: 'xdp', insns, references: [{ index: 3, kind: 'map', map: 'counts' }] },
      { name: 'other', section: 'xdp', insns: [mov(0, 1), EXIT] },
      { name: 'filt', section: 'socket', insns: [mov(0, 0), EXIT] },
    ],
    maps: [{ name: 'counts', type: 'array', keySize: 4, valueSize: 8, maxEntries: 4 }],
  };
}

test('written objects read back: code, calls, callbacks, map references', () => {
  for (const endian of ['le', 'be'] as const) {
    const input = sample();
    const spec = readObject(writeObject({ ...input, endian }));
    assert.equal(spec.endian, endian);
    assert.deepEqual([...spec.programs.keys()], ['wprog', 'other', 'filt']);
    const p = spec.programs.get('wprog')!;
    // the subprograms were split into .text and appended back in the same order
    assert.deepEqual(p.insns, input.programs[0]!.insns);
    assert.deepEqual(p.references, [{ index: 3, kind: 'map', map: 'counts' }]);
    assert.equal(p.license, 'GPL');
    assert.equal(p.type, 'xdp');
    assert.equal(spec.programs.get('filt')!.type, 'socket_filter');
    const m = spec.maps.get('counts')!;
    assert.deepEqual([m.type, m.keySize, m.valueSize, m.maxEntries, m.flags], ['array', 4, 8, 4, 0]);
  }
});

test('the writer lays out what clang would: sections, symbols, relocations', () => {
  const elf = parseElf(writeObject(sample()));
  assert.deepEqual(
    elf.sections.map((s) => s.name),
    ['', '.strtab', '.text', 'xdp', '.relxdp', 'socket', '.maps', 'license', '.BTF', '.BTF.ext', '.symtab'],
  );
  // func_info: one FUNC per function, the subprograms static
  const spec = readObject(writeObject(sample()));
  const p = spec.programs.get('wprog')!;
  assert.deepEqual(
    p.funcInfo!.map((f) => [f.insnOff, spec.btf!.nameOf(f.typeId), (spec.btf!.typeById(f.typeId) as { linkage: string }).linkage]),
    [
      [0, 'wprog', 'global'],
      [14, 'wprog__sub0', 'static'],
      [16, 'wprog__sub1', 'static'],
    ],
  );
  const xdp = elf.sections.findIndex((s) => s.name === 'xdp');
  assert.deepEqual(
    elf.relocations.get(xdp)![0]!.entries.map((r) => [r.offset / 8, r.type, elf.symbols[r.symbol]!.name || 'section']),
    [
      [3, 1, 'counts'],
      [6, 10, 'section'],
      [8, 1, 'section'],
    ],
  );
});

test('every fixture program without global data survives write then read unchanged', () => {
  let n = 0;
  for (const f of FIXTURE_OBJECTS) {
    const spec = readObject(fixture(f));
    const maps: WriteMap[] = [...spec.maps.values()];
    for (const p of spec.programs.values()) {
      if (p.references.some((r) => r.kind !== 'map')) continue;
      const used = new Set(p.references.map((r) => r.map));
      const again = readObject(writeObject({ programs: [p], maps: maps.filter((m) => used.has(m.name)), endian: spec.endian }));
      const q = again.programs.get(p.name)!;
      assert.deepEqual(q.insns, p.insns, `${f}: ${p.name}`);
      assert.deepEqual(q.references, p.references, `${f}: ${p.name}`);
      n++;
    }
  }
  assert.ok(n >= 15, `only ${n} programs round-tripped`);
});

test('bad input is an ObjectWriteError', () => {
  const bad = (input: Parameters<typeof writeObject>[0], re: RegExp) =>
    assert.throws(() => writeObject(input), (e: unknown) => e instanceof ObjectWriteError && re.test(e.message));
  bad({ programs: [] }, /no programs/);
  bad({ programs: [{ name: 'a', section: 'xdp', insns: [EXIT] }, { name: 'a', section: 'xdp', insns: [EXIT] }] }, /two symbols are named 'a'/);
  bad({ programs: [{ name: 'a b', section: 'xdp', insns: [EXIT] }] }, /letters, digits/);
  bad({ programs: [{ name: 'a', section: 'xdp', insns: [insn(0x85, 0, 1, 0, 5), EXIT] }] }, /outside the program/);
  bad({ programs: [{ name: 'a', section: 'xdp', insns: [insn(0x85, 0, 1, 0, -1), EXIT] }] }, /the program itself/);
  // a jump from the main part into the subprogram
  bad({ programs: [{ name: 'a', section: 'xdp', insns: [insn(0x05, 0, 0, 2), insn(0x85, 0, 1, 0, 1), EXIT, mov(0, 1), EXIT] }] }, /leaves its function/);
  bad({ programs: [{ name: 'a', section: 'xdp', insns: [...lddw(1, 0n, 1), EXIT], references: [{ index: 0, kind: 'map', map: 'nope' }] }] }, /no map named 'nope'/);
  bad({ programs: [{ name: 'a', section: 'xdp', insns: [...lddw(1, 0n, 1), EXIT] }] }, /needs a map reference/);
  bad({ programs: [{ name: 'a', section: '.text', insns: [EXIT] }] }, /cannot hold a program/);
  bad({ programs: [{ name: 'a', section: 'xdp', insns: [EXIT] }], maps: [{ name: 'm', type: 'array', keySize: -1, valueSize: 4, maxEntries: 1 }] }, /keySize -1/);
});

test('llvm-objdump and llvm-readelf read written objects', { skip: !hasTool('llvm-objdump-19') && 'llvm-objdump-19 not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-writer-'));
  try {
    const path = join(dir, 'w.o');
    writeFileSync(path, writeObject(sample()));
    const dis = tool('llvm-objdump-19', ['-dr', path]);
    assert.match(dis, /file format elf64-bpf/);
    assert.match(dis, /<wprog>:/);
    assert.match(dis, /<wprog__sub0>:/);
    assert.match(dis, /R_BPF_64_64\tcounts/);
    assert.match(dis, /call 0x1\n/);
    const slots = dis.split('\n').filter((l) => /^\s+\d+:\t/.test(l)).length;
    assert.equal(slots, 18 - 2 + 2 + 2, 'every instruction (lddw as one line) of wprog, other and filt');
    const sym = tool('llvm-readelf-19', ['-s', path]);
    assert.match(sym, /FUNC\s+GLOBAL\s+DEFAULT\s+\d+ wprog/);
    assert.match(sym, /OBJECT\s+GLOBAL\s+DEFAULT\s+\d+ counts/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bpftool loads written objects into Linux', { skip: (!isRoot() || !hasTool('bpftool')) && 'needs root and bpftool' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-writer-'));
  const pin = `/sys/fs/bpf/tsbpf_writer_test_${process.pid}`;
  try {
    if (tryTool('mountpoint', ['-q', '/sys/fs/bpf']).status !== 0) tool('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']);
    const path = join(dir, 'w.o');
    writeFileSync(path, writeObject(sample()));
    const r = tryTool('bpftool', ['prog', 'loadall', path, pin]);
    assert.equal(r.status, 0, `bpftool prog loadall failed:\n${r.stderr}`);
    const shown = JSON.parse(tool('bpftool', ['-j', 'prog', 'show', 'pinned', `${pin}/wprog`])) as { type: string; name: string; map_ids?: number[] };
    assert.equal(shown.type, 'xdp');
    assert.equal(shown.name, 'wprog');
    assert.equal(shown.map_ids?.length, 1);
    const filt = JSON.parse(tool('bpftool', ['-j', 'prog', 'show', 'pinned', `${pin}/filt`])) as { type: string };
    assert.equal(filt.type, 'socket_filter');
    rmSync(pin, { recursive: true, force: true });
    // a single program without maps, as `tsbpf asm -o` writes it
    writeFileSync(path, writeObject({ programs: [{ name: 'asm_prog', section: 'socket', insns: [mov(0, 0), EXIT] }] }));
    const one = tryTool('bpftool', ['prog', 'load', path, pin]);
    assert.equal(one.status, 0, one.stderr);
    assert.equal((JSON.parse(tool('bpftool', ['-j', 'prog', 'show', 'pinned', pin])) as { name: string }).name, 'asm_prog');
  } finally {
    rmSync(pin, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});
