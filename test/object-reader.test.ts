import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './paths.js';
import { readObject } from '../src/object/reader.js';
import { internalMapName, objectNameFromPath } from '../src/object/maps.js';
import { parseElf, STT_FUNC } from '../src/object/elf.js';
import { summarize } from '../src/cli/commands/object-show.js';
import { BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, OP_CALL, OP_LDDW } from '../src/isa/opcodes.js';
import { decode, encode } from '../src/isa/insn.js';
import type { CollectionSpec } from '../src/object/spec.js';
import { FIXTURE_OBJECTS, fixture, fixturePath, hasTool, tool } from './object-tools.js';
import { inputFromSpec } from '../src/verifier/spec-input.js';

const open = (f: string): CollectionSpec => readObject(fixture(f), { name: objectNameFromPath(f) });

/**
 * What libbpf makes of each fixture (programs with subprograms appended:
 * "found program ... code size N insns" plus "added N insns from sub-prog";
 * maps: "found type/key/value/max_entries"), recorded from
 * `bpftool -d prog loadall` with libbpf 1.1. legacy_maps and elf_maps are not
 * opened by libbpf 1.x; their rows follow their C sources.
 */
const EXPECTED: Record<string, { programs: [string, string, string, number][]; maps: [string, string, number, number, number][] }> = {
  'bpf2bpf.o': { programs: [['calls_all', 'xdp', 'xdp', 29], ['calls_mix', 'xdp', 'xdp', 15]], maps: [] },
  'bpf_loop.o': {
    programs: [['loop_sum', 'xdp', 'xdp', 34]],
    maps: [['result', 'array', 4, 8, 1], ['.rodata.cst16', 'array', 4, 16, 1]],
  },
  'externs.o': {
    programs: [['kernel_version', 'xdp', 'xdp', 21], ['new_task', 'tp_btf/task_newtask', 'tracing', 9]],
    maps: [['externs.bss', 'array', 4, 8, 1], ['externs.kconfig', 'array', 4, 9, 1]],
  },
  'global_data.o': {
    programs: [['global_data', 'xdp', 'xdp', 43]],
    maps: [
      ['global_d.data', 'array', 4, 8, 1],
      ['global_d.rodata', 'array', 4, 5, 1],
      ['.data.hist', 'array', 4, 32, 1],
      ['.rodata.greetin', 'array', 4, 8, 1],
      ['global_d.bss', 'array', 4, 8, 1],
    ],
  },
  'elf_maps.o': {
    programs: [['elf_maps', 'classifier', 'sched_cls', 52]],
    maps: [['pinned_counts', 'hash', 4, 8, 32], ['slot_a', 'array', 4, 4, 4], ['slot_b', 'array', 4, 4, 4], ['loner', 'array', 4, 4, 4], ['outer', 'array_of_maps', 4, 4, 4]],
  },
  'legacy_maps.o': {
    programs: [['legacy', 'socket', 'socket_filter', 29]],
    maps: [['legacy_counts', 'hash', 4, 8, 64], ['legacy_array', 'array', 4, 4, 8]],
  },
  'lpm_trie.o': { programs: [['lpm_lookup', 'xdp', 'xdp', 28]], maps: [['routes', 'lpm_trie', 8, 4, 128]] },
  'map_in_map.o': {
    programs: [['map_in_map', 'xdp', 'xdp', 34]],
    maps: [
      ['inner_a', 'array', 4, 8, 4],
      ['inner_b', 'array', 4, 8, 4],
      ['outer_array', 'array_of_maps', 4, 4, 2],
      ['outer_hash', 'hash_of_maps', 4, 4, 8],
    ],
  },
  'percpu.o': {
    programs: [['percpu_count', 'xdp', 'xdp', 52]],
    maps: [['cpu_stats', 'percpu_array', 4, 16, 1], ['cpu_by_queue', 'percpu_hash', 4, 8, 64], ['cpu_lru', 'lru_percpu_hash', 4, 8, 32]],
  },
  'socket_filter.o': { programs: [['tcp_only', 'socket', 'socket_filter', 28]], maps: [['verdicts', 'array', 4, 8, 2]] },
  'tail_call.o': {
    programs: [['tail_a', 'xdp', 'xdp', 2], ['tail_b', 'xdp', 'xdp', 2], ['dispatch', 'xdp', 'xdp', 9]],
    maps: [['jump_table', 'prog_array', 4, 4, 4]],
  },
  'tc_rewrite.o': {
    programs: [['tc_rewrite', 'tc', 'sched_cls', 63], ['tc_count', 'classifier', 'sched_cls', 6]],
    maps: [['tc_rewri.rodata', 'array', 4, 1, 1]],
  },
  'tracer_ringbuf.o': {
    programs: [['trace_openat', 'tracepoint/syscalls/sys_enter_openat', 'tracepoint', 23], ['kprobe_openat', 'kprobe/do_sys_openat2', 'kprobe', 23]],
    maps: [['events', 'ringbuf', 0, 0, 262144]],
  },
  'xdp_firewall.o': {
    programs: [['xdp_firewall', 'xdp', 'xdp', 38], ['xdp_pass', 'xdp', 'xdp', 2]],
    maps: [['proto_count', 'array', 4, 8, 256], ['blocklist', 'hash', 4, 1, 1024]],
  },
};

test('every fixture opens with the programs and maps libbpf finds', () => {
  const le = FIXTURE_OBJECTS.filter((f) => !f.includes('.bpfeb.'));
  assert.deepEqual(le, Object.keys(EXPECTED).sort(), 'a fixture without expectations (or the reverse)');
  for (const f of le) {
    const s = summarize(open(f));
    assert.deepEqual(s.programs.map((p) => [p.name, p.section, p.type, p.insns]), EXPECTED[f]!.programs, f);
    assert.deepEqual(s.maps.map((m) => [m.name, m.type, m.key_size, m.value_size, m.max_entries]), EXPECTED[f]!.maps, f);
  }
});

test('big-endian objects give the same programs and maps as little-endian ones', () => {
  for (const f of FIXTURE_OBJECTS.filter((x) => x.includes('.bpfeb.'))) {
    const be = open(f);
    const le = open(f.replace('.bpfeb', ''));
    assert.equal(be.endian, 'be');
    assert.equal(be.objectName, le.objectName);
    // clang's code differs a little between byte orders (sub-word loads of
    // big-endian fields), so compare what the code refers to.
    assert.deepEqual([...be.programs.keys()], [...le.programs.keys()], f);
    for (const [name, p] of le.programs) {
      const q = be.programs.get(name)!;
      assert.deepEqual([q.section, q.type, q.license], [p.section, p.type, p.license], `${f}: ${name}`);
      assert.deepEqual(q.references.map((r) => [r.kind, r.map]), p.references.map((r) => [r.kind, r.map]), `${f}: ${name}`);
      assert.deepEqual(q.funcInfo?.length, p.funcInfo?.length);
    }
    for (const [name, m] of le.maps) {
      const n = be.maps.get(name)!;
      assert.deepEqual({ ...n, contents: undefined }, { ...m, contents: undefined }, `${f}: ${name}`);
    }
  }
  // global data keeps the object's byte order: packets = 7 as a u64
  const data = (f: string) => (open(f).maps.get('global_d.data')!.contents![0] as { value: Uint8Array }).value;
  assert.deepEqual([...data('global_data.o')], [7, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...data('global_data.bpfeb.o')], [0, 0, 0, 0, 0, 0, 0, 7]);
});

test('subprograms are appended once each, depth first, calls pointing at the copies', () => {
  const spec = open('bpf2bpf.o');
  const elf = parseElf(fixture('bpf2bpf.o'));
  const text = elf.sections.find((s) => s.name === '.text')!;
  const textCode = decode(text.data);
  const fn = (name: string) => {
    const s = elf.symbols.find((x) => x.name === name && x.type === STT_FUNC)!;
    return textCode.slice(s.value / 8, (s.value + s.size) / 8);
  };
  const all = spec.programs.get('calls_all')!;
  // main (9) + global_len (6) + twice (9) + mix (5): the order libbpf's walk finds them
  const starts = { global_len: 9, twice: 15, mix: 24 };
  for (const [name, at] of Object.entries(starts)) {
    const body = fn(name);
    const copy = all.insns.slice(at, at + body.length);
    // identical except the call imms, which now count from the copy
    assert.deepEqual(copy.map((i) => (i.code === OP_CALL && i.src === BPF_PSEUDO_CALL ? { ...i, imm: 0 } : i)), body.map((i) => (i.code === OP_CALL && i.src === BPF_PSEUDO_CALL ? { ...i, imm: 0 } : i)), name);
  }
  const targets = all.insns.flatMap((ins, i) => (ins.code === OP_CALL && ins.src === BPF_PSEUDO_CALL ? [i + ins.imm + 1] : []));
  // calls_all calls global_len and twice; twice calls mix twice
  assert.deepEqual(targets, [starts.global_len, starts.twice, starts.mix, starts.mix]);
  const mix = spec.programs.get('calls_mix')!;
  assert.equal(mix.insns.length, 15);
  const mixTargets = mix.insns.flatMap((ins, i) => (ins.code === OP_CALL && ins.src === BPF_PSEUDO_CALL ? [i + ins.imm + 1] : []));
  assert.deepEqual(mixTargets, [10]);
  // func_info follows the code: one record per function, at its new place
  assert.deepEqual(all.funcInfo!.map((f) => f.insnOff), [0, 9, 15, 24]);
  assert.deepEqual(mix.funcInfo!.map((f) => f.insnOff), [0, 10]);
  assert.ok(all.lineInfo!.some((l) => l.insnOff >= 24 && /a \* 31/.test(l.line)), 'line info of mix moved with it');
});

test('programs are prepared when first read: same keys, values and errors as copied at open', () => {
  const spec = open('bpf2bpf.o');
  const all = spec.programs.get('calls_all')!;
  // the keys a spec had when everything was copied at open, in that order, all enumerable
  assert.deepEqual(Object.keys(all).filter((k) => ['insns', 'references', 'funcInfo', 'lineInfo', 'coreRelos'].includes(k)), ['insns', 'references', 'funcInfo', 'lineInfo']);
  const copy = { ...all };
  assert.equal(copy.insns.length, 29);
  // the same arrays on every read, and a second open prepares its own copies
  assert.equal(all.insns, copy.insns);
  assert.equal(all.funcInfo, copy.funcInfo);
  const again = open('bpf2bpf.o').programs.get('calls_all')!;
  assert.notEqual(again.insns, all.insns);
  assert.deepEqual(again.insns, all.insns);
  assert.deepEqual(structuredClone(again), structuredClone(all));
  // writable as a plain property, before or after it is first read
  const mix = open('bpf2bpf.o').programs.get('calls_mix')!;
  mix.insns = [];
  assert.deepEqual(mix.insns, []);
  assert.equal(mix.lineInfo!.length > 0, true);
  // programs of one object share no instruction objects (each patched its own call imms)
  const other = spec.programs.get('calls_mix')!;
  const shared = new Set(other.insns);
  assert.ok(!all.insns.some((i) => shared.has(i)));
});

test('a callback address becomes lddw src=BPF_PSEUDO_FUNC pointing at the appended callback', () => {
  const p = open('bpf_loop.o').programs.get('loop_sum')!;
  const at = p.insns.findIndex((i) => i.code === OP_LDDW && i.src === BPF_PSEUDO_FUNC);
  assert.equal(at, 8);
  assert.equal(at + p.insns[at]!.imm + 1, 24, 'add_index appended after the 24-slot main program');
  assert.equal(p.insns[at + 1]!.imm, 0);
  assert.deepEqual(p.references, [{ index: 14, kind: 'map', map: 'result' }]);
});

test('map and global-data references follow the kernel ABI', () => {
  const p = open('global_data.o').programs.get('global_data')!;
  const refs = p.references.map((r) => [r.index, r.kind, r.map, p.insns[r.index]!.src, p.insns[r.index]!.imm, p.insns[r.index + 1]!.imm]);
  assert.deepEqual(refs, [
    [2, 'map_value', 'global_d.data', BPF_PSEUDO_MAP_VALUE, 0, 0], // packets
    [11, 'map_value', '.data.hist', BPF_PSEUDO_MAP_VALUE, 0, 0], // hist
    [17, 'map_value', 'global_d.bss', BPF_PSEUDO_MAP_VALUE, 0, 0], // last_len
    [22, 'map_value', 'global_d.rodata', BPF_PSEUDO_MAP_VALUE, 0, 0], // min_len
    [26, 'map_value', 'global_d.rodata', BPF_PSEUDO_MAP_VALUE, 0, 4], // verdict_small: symbol value 4
    [30, 'map_value', 'global_d.bss', BPF_PSEUDO_MAP_VALUE, 0, 4], // static seen_big: section symbol, addend 4 in the imm
    [35, 'map_value', '.rodata.greetin', BPF_PSEUDO_MAP_VALUE, 0, 0], // greeting
  ]);
  const fw = open('xdp_firewall.o').programs.get('xdp_firewall')!;
  for (const r of fw.references) {
    assert.equal(r.kind, 'map');
    assert.equal(fw.insns[r.index]!.code, OP_LDDW);
    assert.equal(fw.insns[r.index]!.src, BPF_PSEUDO_MAP_FD);
  }
  assert.deepEqual(fw.references.map((r) => r.map), ['proto_count', 'blocklist']);
});

test('global data maps: contents, flags, frozen .rodata, BTF DATASEC value types', () => {
  const s = open('global_data.o');
  const rodata = s.maps.get('global_d.rodata')!;
  assert.equal(rodata.freeze, true);
  assert.equal(rodata.flags, 0x480); // BPF_F_MMAPABLE | BPF_F_RDONLY_PROG, as libbpf creates it
  // min_len = 64 (u32), verdict_small = XDP_DROP (1)
  assert.deepEqual([...(rodata.contents![0] as { value: Uint8Array }).value], [64, 0, 0, 0, 1]);
  assert.equal(rodata.section, '.rodata');
  const bss = s.maps.get('global_d.bss')!;
  assert.equal(bss.flags, 0x400);
  assert.equal(bss.freeze, undefined);
  assert.equal(bss.contents, undefined, '.bss starts zeroed');
  const hist = s.maps.get('.data.hist')!;
  assert.deepEqual(new BigUint64Array((hist.contents![0] as { value: Uint8Array }).value.slice().buffer), new BigUint64Array([1n, 2n, 3n, 4n]));
  const btf = s.btf!;
  for (const m of s.maps.values()) {
    const t = btf.typeById(m.btfValueTypeId!);
    assert.equal(t.kind, 'datasec');
    assert.equal(t.name, m.section);
    // libbpf's btf_fixup_datasec: the size and variable offsets come from the ELF
    assert.equal((t as { size: number }).size, m.valueSize);
  }
  const ro = btf.typeByName('.rodata', 'datasec') as { vars: { typeId: number; offset: number }[] };
  assert.deepEqual(ro.vars.map((v) => [btf.nameOf(v.typeId), v.offset]), [['min_len', 0], ['verdict_small', 4]]);
});

test('legacy maps section: struct bpf_map_def records sized by their symbols', () => {
  const s = open('legacy_maps.o');
  const c = s.maps.get('legacy_counts')!;
  assert.deepEqual([c.type, c.keySize, c.valueSize, c.maxEntries, c.flags, c.pinning], ['hash', 4, 8, 64, 0, 'none']);
  assert.equal(c.btfKeyTypeId, undefined);
  const p = s.programs.get('legacy')!;
  assert.deepEqual(p.references.map((r) => [r.kind, r.map]), [['map', 'legacy_counts'], ['map', 'legacy_counts'], ['map', 'legacy_array']]);
  assert.equal(p.kernelVersion, 0x060c00);
  assert.equal(p.license, 'GPL');
});

test('__kconfig externs live in the .kconfig map as libbpf lays it out; __ksym functions are kfunc calls', () => {
  const s = open('externs.o');
  const kc = s.maps.get('externs.kconfig')!;
  // libbpf: "extern (kcfg) #0: off 0, CONFIG_HZ", "#1: off 4, LINUX_KERNEL_VERSION", "#2: off 8, CONFIG_BPF_SYSCALL"
  assert.deepEqual(kc.externs, [
    { name: 'CONFIG_HZ', offset: 0, size: 4 },
    { name: 'LINUX_KERNEL_VERSION', offset: 4, size: 4 },
    { name: 'CONFIG_BPF_SYSCALL', offset: 8, size: 1 },
  ]);
  assert.deepEqual([kc.flags, kc.freeze, kc.section], [0x480, true, '.kconfig']);
  const p = s.programs.get('kernel_version')!;
  const kref = p.references.filter((r) => r.map === 'externs.kconfig');
  assert.ok(kref.length >= 2);
  for (const r of kref) {
    assert.equal(p.insns[r.index]!.src, BPF_PSEUDO_MAP_VALUE);
    assert.ok([0, 4, 8].includes(p.insns[r.index + 1]!.imm), `offset ${p.insns[r.index + 1]!.imm}`);
  }
  const t = s.programs.get('new_task')!;
  assert.deepEqual(t.references.filter((r) => r.kind === 'kfunc').map((r) => r.symbol), ['bpf_rcu_read_lock', 'bpf_rcu_read_unlock']);
  for (const r of t.references.filter((x) => x.kind === 'kfunc')) assert.deepEqual([t.insns[r.index]!.code, t.insns[r.index]!.src], [OP_CALL, 2]);
  assert.equal(t.attachTo, 'task_newtask');
  assert.equal(t.attachType, 'trace_raw_tp');
});

test('prog arrays and map-in-maps carry their initial slots and inner map', () => {
  const tc = open('tail_call.o');
  assert.deepEqual(tc.maps.get('jump_table')!.contents, [{ index: 0, program: 'tail_a' }, { index: 2, program: 'tail_b' }]);
  const mm = open('map_in_map.o');
  const outer = mm.maps.get('outer_array')!;
  assert.deepEqual(outer.contents, [{ index: 0, map: 'inner_a' }, { index: 1, map: 'inner_b' }]);
  assert.deepEqual(
    [outer.innerMap!.name, outer.innerMap!.type, outer.innerMap!.keySize, outer.innerMap!.valueSize, outer.innerMap!.maxEntries],
    ['outer_array.inner', 'array', 4, 8, 4],
  );
  const hash = mm.maps.get('outer_hash')!;
  assert.equal(hash.contents, undefined);
  assert.deepEqual([hash.innerMap!.type, hash.innerMap!.keySize, hash.innerMap!.valueSize, hash.innerMap!.maxEntries], ['hash', 4, 4, 16]);
  const pc = open('percpu.o');
  assert.equal(pc.maps.get('cpu_by_queue')!.pinning, 'by_name');
  assert.equal(pc.maps.get('cpu_lru')!.btfKeyTypeId, undefined, '__uint(key_size) gives no key type');
  assert.equal(open('lpm_trie.o').maps.get('routes')!.flags, 1, 'BPF_F_NO_PREALLOC');
});

test('sections give program types, attach types and targets', () => {
  const t = open('tracer_ringbuf.o');
  const tp = t.programs.get('trace_openat')!;
  assert.deepEqual([tp.type, tp.attachTo], ['tracepoint', 'syscalls/sys_enter_openat']);
  const kp = t.programs.get('kprobe_openat')!;
  assert.deepEqual([kp.type, kp.attachTo], ['kprobe', 'do_sys_openat2']);
  assert.equal(open('xdp_firewall.o').programs.get('xdp_pass')!.attachType, 'xdp');
});

interface BtfJson { types: Array<{ id: number; kind: string; name: string; type_id?: number; members?: Array<{ name: string; type_id: number }>; vars?: Array<{ type_id: number }> }> }

test('map key and value BTF types are the ones bpftool btf dump shows', { skip: !hasTool('bpftool') && 'bpftool not installed' }, () => {
  let checked = 0;
  for (const f of FIXTURE_OBJECTS) {
    const spec = open(f);
    const dump = JSON.parse(tool('bpftool', ['-j', 'btf', 'dump', 'file', fixturePath(f)])) as BtfJson;
    const byId = new Map(dump.types.map((t) => [t.id, t]));
    const maps = dump.types.find((t) => t.kind === 'DATASEC' && t.name === '.maps');
    for (const v of maps?.vars ?? []) {
      const variable = byId.get(v.type_id)!;
      const def = byId.get(variable.type_id!)!;
      const spec1 = spec.maps.get(variable.name)!;
      assert.ok(spec1, `${f}: map ${variable.name}`);
      for (const [member, got] of [['key', spec1.btfKeyTypeId], ['value', spec1.btfValueTypeId]] as const) {
        const m = def.members!.find((x) => x.name === member);
        const want = m ? byId.get(m.type_id)!.type_id : undefined; // __type(key, T) is T *key
        assert.equal(got, want, `${f}: ${variable.name}.${member}`);
        checked++;
      }
    }
    for (const ds of dump.types.filter((t) => t.kind === 'DATASEC' && /^\.(data|rodata|bss)/.test(t.name))) {
      const m = [...spec.maps.values()].find((x) => x.section === ds.name)!;
      assert.equal(m.btfValueTypeId, ds.id, `${f}: ${ds.name}`);
      checked++;
    }
  }
  assert.ok(checked > 30, `only ${checked} checks`);
});

/** Per function: the instruction bytes llvm-objdump prints. */
function objdumpFunctions(path: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let cur: number[] | undefined;
  for (const line of tool('llvm-objdump-19', ['-d', path]).split('\n')) {
    const head = /^[0-9a-f]+ <([^>]+)>:$/.exec(line);
    if (head) {
      cur = [];
      out.set(head[1]!, cur as unknown as Uint8Array);
      continue;
    }
    const m = /^\s+\d+:\t((?:[0-9a-f]{2} )*[0-9a-f]{2})\t/.exec(line);
    if (m && cur) cur.push(...m[1]!.trim().split(' ').map((h) => parseInt(h, 16)));
  }
  for (const [k, v] of out) out.set(k, Uint8Array.from(v as unknown as number[]));
  return out;
}

test('program code is llvm-objdump\'s, changed only where relocations say', { skip: !hasTool('llvm-objdump-19') && 'llvm-objdump-19 not installed' }, () => {
  for (const f of FIXTURE_OBJECTS) {
    const spec = open(f);
    const endian = spec.endian;
    const funcs = objdumpFunctions(fixturePath(f));
    for (const p of spec.programs.values()) {
      const want = decode(funcs.get(p.name)!, endian);
      const got = p.insns.slice(0, want.length);
      const touched = new Set<number>();
      for (const r of p.references) touched.add(r.index).add(r.index + 1);
      got.forEach((ins, i) => {
        if (ins.code === OP_CALL && ins.src === BPF_PSEUDO_CALL) touched.add(i);
        if (ins.code === OP_LDDW && ins.src === BPF_PSEUDO_FUNC) touched.add(i).add(i + 1);
      });
      want.forEach((w, i) => {
        if (touched.has(i)) assert.equal(got[i]!.code, w.code, `${f} ${p.name} insn ${i}`);
        else assert.deepEqual(got[i], w, `${f} ${p.name} insn ${i}`);
      });
      // and the raw bytes re-encode to what objdump read, outside relocated slots
      const bytes = encode(got, endian);
      const raw = funcs.get(p.name)!;
      for (let i = 0; i < want.length; i++) if (!touched.has(i)) assert.deepEqual(bytes.subarray(i * 8, i * 8 + 8), raw.subarray(i * 8, i * 8 + 8));
    }
  }
});

test('libbpf object names and global-data map names', () => {
  assert.equal(objectNameFromPath('/x/y/xdp_firewall.bpfeb.o'), 'xdp_firewall');
  assert.equal(objectNameFromPath('averyveryverylongname.o'), 'averyveryverylo');
  assert.equal(objectNameFromPath('a.b.c'), 'a');
  assert.equal(internalMapName('global_data', '.rodata'), 'global_d.rodata');
  assert.equal(internalMapName('global_data', '.bss'), 'global_d.bss'); // 7 characters reserved even for .bss
  assert.equal(internalMapName('my_object_name', '.kconfig'), 'my_obje.kconfig');
  assert.equal(internalMapName('x', '.rodata.abracadabra'), '.rodata.abracad');
  assert.equal(internalMapName('x', '.data.hist'), '.data.hist');
  assert.equal(internalMapName('', '.rodata'), '.rodata');
  assert.equal(internalMapName('a-b', '.data'), 'a_b.data');
  assert.equal(open('tc_rewrite.o').maps.has('tc_rewri.rodata'), true);
  assert.equal(readObject(fixture('global_data.o')).maps.has('.rodata'), true, 'no name: no prefix');
});


test('struct_ops programs get the ops struct member whose .struct_ops slot points to them', (t) => {
  if (!hasTool('clang-19')) return t.skip('clang-19 not installed');
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-struct-ops-'));
  try {
    // a `___flavour` of the ops struct in .struct_ops.link; one program no slot names
    const src = join(dir, 'so.c');
    writeFileSync(src, `#include "${join(ROOT, 'test/verifier-corpus/c/struct_ops_cc_common.h')}"
SEC("struct_ops/ssthresh") __u32 BPF_PROG(a_ssthresh, struct sock *sk) { return 2; }
SEC("struct_ops/undo_cwnd") __u32 BPF_PROG(b_undo, struct sock *sk) { return 2; }
SEC("struct_ops/cong_avoid") void BPF_PROG(c_unused, struct sock *sk, __u32 ack, __u32 acked) {}
struct tcp_congestion_ops___v2 { __u32 (*ssthresh)(struct sock *sk); __u32 (*undo_cwnd)(struct sock *sk); char name[16]; };
SEC(".struct_ops.link") struct tcp_congestion_ops___v2 flav = { .ssthresh = (void *)a_ssthresh, .undo_cwnd = (void *)b_undo, .name = "x" };
char _license[] SEC("license") = "GPL";
`);
    const out = join(dir, 'so.o');
    tool('clang-19', ['-target', 'bpfel', '-O2', '-g', `-I/usr/include/${arch() === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`, '-c', src, '-o', out]);
    const coll = readObject(new Uint8Array(readFileSync(out)));
    assert.deepEqual(coll.programs.get('a_ssthresh')?.structOps, { struct: 'tcp_congestion_ops', member: 'ssthresh' });
    assert.deepEqual(coll.programs.get('b_undo')?.structOps, { struct: 'tcp_congestion_ops', member: 'undo_cwnd' });
    assert.equal(coll.programs.get('c_unused')?.type, 'struct_ops');
    assert.equal(coll.programs.get('c_unused')?.structOps, undefined);
    // libbpf refuses a struct_ops program no slot names before the kernel sees it, and one whose
    // ops struct the kernel BTF does not register (this object's own BTF has no bpf_struct_ops_*)
    assert.throws(() => inputFromSpec(coll, coll.programs.get('c_unused')!),
      (e: unknown) => (e as { errno?: string }).errno === 'EINVAL' && /'c_unused': SEC\("struct_ops"\) program isn't referenced anywhere/.test((e as Error).message));
    assert.throws(() => inputFromSpec(coll, coll.programs.get('a_ssthresh')!, { kernelBtf: coll.btf! }),
      (e: unknown) => (e as { errno?: string }).errno === 'ESRCH' && /struct bpf_struct_ops_tcp_congestion_ops is not found in kernel BTF/.test((e as Error).message));
    assert.equal(inputFromSpec(coll, coll.programs.get('a_ssthresh')!).structOps?.member, 'ssthresh');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
