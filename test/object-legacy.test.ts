/**
 * Objects libbpf 1.x refuses, read as tc's and ip's own loader read them ({ loader: 'iproute2' },
 * `prog load --iproute2`): static programs and code sections without function symbols.
 * The legacy `maps` section as iproute2 wrote it (src/object/legacy-maps.ts):
 * struct bpf_elf_map records with id, pinning, inner_id and inner_idx
 * (fixtures/elf_maps.c), pinning ignored as libbpf did or read as tc does,
 * map-in-map wiring as iproute2's bpf_maps_attach_all does, the record sizes
 * both loaders accept; and `.maps` initial values relocated with R_BPF_64_64
 * (older clang) as libbpf accepts them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { BIN } from './paths.js';
import { TsbpfError } from '../src/errors.js';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { readObject } from '../src/object/reader.js';
import { MapDefinitionError } from '../src/object/maps.js';
import { parseElf, type ElfFile } from '../src/object/elf.js';
import { Runtime } from '../src/runtime/index.js';
import { loadCollectionFile, Runtime as NodeRuntime } from '../src/runtime/node.js';
import { loadObjectFile } from '../src/object/file.js';
import { fixture, fixturePath } from './object-tools.js';

function mutate(name: string, f: (elf: ElfFile, dv: DataView) => void): Uint8Array {
  const bytes = fixture(name).slice();
  f(parseElf(bytes), new DataView(bytes.buffer));
  return bytes;
}
const symEntry = (elf: ElfFile, name: string): number => elf.sections.find((s) => s.name === '.symtab')!.offset + elf.symbols.find((s) => s.name === name)!.index * 24;
/** The byte offset of field `off` of legacy map `name` in the file. */
const field = (elf: ElfFile, name: string, off: number): number => elf.sections.find((s) => s.name === 'maps')!.offset + elf.symbols.find((s) => s.name === name)!.value + off;
const rejects = (bytes: Uint8Array, errno: string, re: RegExp, opts = {}): void =>
  assert.throws(() => readObject(bytes, opts), (e: unknown) => e instanceof MapDefinitionError && e.errno === errno && re.test(e.message));

test('struct bpf_elf_map records: the five bpf_map_def fields, then id, pinning, inner_id, inner_idx', () => {
  const s = readObject(fixture('elf_maps.o'));
  const m = (n: string) => s.maps.get(n)!;
  assert.deepEqual([m('pinned_counts').type, m('pinned_counts').keySize, m('pinned_counts').valueSize, m('pinned_counts').maxEntries], ['hash', 4, 8, 32]);
  assert.deepEqual(m('pinned_counts').elfMap, { id: 0, pinning: 2, innerId: 0, innerIdx: 0 });
  assert.deepEqual(m('slot_b').elfMap, { id: 1, pinning: 0, innerId: 0, innerIdx: 3 });
  assert.deepEqual(m('loner').elfMap, { id: 2, pinning: 0, innerId: 0, innerIdx: 0xffffffff });
  // libbpf never pinned a legacy map: PIN_GLOBAL_NS is ignored by default
  assert.equal(m('pinned_counts').pinning, 'none');
  // iproute2: outer's inner template is the first map with id 1; maps with id 1 fill their inner_idx slots, loner none
  assert.equal(m('outer').innerMap?.name, 'slot_a');
  assert.equal(m('outer').innerMap?.elfMap, undefined);
  assert.deepEqual(m('outer').contents, [{ index: 0, map: 'slot_a' }, { index: 3, map: 'slot_b' }]);
  // a plain 20-byte bpf_map_def record has no elfMap
  assert.equal(readObject(fixture('legacy_maps.o')).maps.get('legacy_counts')!.elfMap, undefined);
});

test("iproute2 pinning: PIN_GLOBAL_NS pins by name; PIN_OBJECT_NS and custom values are refused with the reason", () => {
  const s = readObject(fixture('elf_maps.o'), { loader: 'iproute2' });
  assert.equal(s.maps.get('pinned_counts')!.pinning, 'by_name');
  assert.equal(s.maps.get('slot_a')!.pinning, 'none');
  const objNs = mutate('elf_maps.o', (elf, dv) => dv.setUint32(field(elf, 'pinned_counts', 24), 1, true));
  rejects(objNs, 'ENOTSUPP', /'pinned_counts'.*PIN_OBJECT_NS/, { loader: 'iproute2' });
  assert.equal(readObject(objNs).maps.get('pinned_counts')!.pinning, 'none', 'ignored in libbpf mode');
  const custom = mutate('elf_maps.o', (elf, dv) => dv.setUint32(field(elf, 'pinned_counts', 24), 7, true));
  rejects(custom, 'ENOTSUPP', /pinning 7 .*\/etc\/iproute2\/bpf_pinning/, { loader: 'iproute2' });
});

test('map-in-map wiring errors: an inner_id no map has, an inner_idx past max_entries', () => {
  const noInner = mutate('elf_maps.o', (elf, dv) => dv.setUint32(field(elf, 'outer', 28), 9, true));
  rejects(noInner, 'EINVAL', /map 'outer': inner map with id 9 not found/);
  const far = mutate('elf_maps.o', (elf, dv) => dv.setUint32(field(elf, 'slot_b', 32), 4, true));
  rejects(far, 'E2BIG', /map 'outer': map 'slot_b' goes into slot 4 .*max_entries is 4/);
});

test('record sizes: 16 bytes zero-filled, under 16 refused, non-zero bytes past 36 refused', () => {
  // legacy_array's record cut to 16 bytes: flags reads 0 (its flags are 0 anyway; make them not)
  const sixteen = mutate('legacy_maps.o', (elf, dv) => {
    dv.setUint32(field(elf, 'legacy_array', 16), 1, true);
    dv.setBigUint64(symEntry(elf, 'legacy_array') + 16, 16n, true);
  });
  const a = readObject(sixteen).maps.get('legacy_array')!;
  assert.deepEqual([a.type, a.keySize, a.valueSize, a.maxEntries, a.flags], ['array', 4, 4, 8, 0]);
  const twelve = mutate('legacy_maps.o', (elf, dv) => dv.setBigUint64(symEntry(elf, 'legacy_array') + 16, 12n, true));
  rejects(twelve, 'EINVAL', /'legacy_array': legacy map definition is 12 bytes: .* need 16/);
  // pinned_counts grown to 40 bytes takes slot_a's type (non-zero) as byte 36
  const long = mutate('elf_maps.o', (elf, dv) => dv.setBigUint64(symEntry(elf, 'pinned_counts') + 16, 40n, true));
  rejects(long, 'ENOTSUPP', /'pinned_counts': .*non-zero data past struct bpf_elf_map's 36 bytes \(at 36\)/);
});

test('.maps initial values relocated with R_BPF_64_64 (type 1) are read as libbpf reads them; a slot naming no program is ESRCH', () => {
  const relMaps = (elf: ElfFile) => elf.sections.find((s) => s.name === '.rel.maps')!;
  const type1 = mutate('map_in_map.o', (elf, dv) => {
    const rel = relMaps(elf);
    for (let off = rel.offset; off < rel.offset + rel.size; off += 16) dv.setUint32(off + 8, 1, true);
  });
  const before = readObject(fixture('map_in_map.o'));
  const after = readObject(type1);
  assert.ok(before.maps.get('outer_array')!.contents?.length);
  assert.deepEqual(after.maps.get('outer_array')!.contents, before.maps.get('outer_array')!.contents);
  // tail_call.o's jump_table slot pointed at the map itself: libbpf's ".maps relo #0: 'jump_table' isn't a valid program reference" (ESRCH)
  const notProg = mutate('tail_call.o', (elf, dv) => {
    const rel = relMaps(elf);
    dv.setUint32(rel.offset + 12, elf.symbols.find((s) => s.name === 'jump_table')!.index, true);
  });
  rejects(notProg, 'ESRCH', /'jump_table'.*isn't a valid program reference/);
});

test('user-space runtime: the outer map holds slot_a and slot_b where iproute2 puts them; tc pinning by pinPath', async () => {
  const rt = new Runtime();
  const c = await loadCollectionFile(fixturePath('elf_maps.o'), rt);
  const outer = c.map('outer');
  assert.deepEqual([outer.get(0), outer.get(3)], [Uint8Array.of(c.map('slot_a').id, 0, 0, 0), Uint8Array.of(c.map('slot_b').id, 0, 0, 0)]);
  assert.equal(outer.get(1), undefined);
  // the program counts into slot 3's map, slot_b
  c.program('elf_maps').run({ data: new Uint8Array(64) });
  assert.deepEqual(c.map('slot_b').get(0), Uint8Array.of(1, 0, 0, 0));
  assert.deepEqual(c.map('slot_a').get(0), Uint8Array.of(0, 0, 0, 0));
  rt.close();

  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-elfmaps-'));
  const nrt = new NodeRuntime();
  try {
    const spec = await loadObjectFile(fixturePath('elf_maps.o'), { loader: 'iproute2' });
    await nrt.load(spec, { pinPath: dir });
    // PIN_GLOBAL_NS: <pinPath>/NAME, as tc's /sys/fs/bpf/tc/globals/NAME; the others are not pinned
    assert.ok(existsSync(join(dir, 'pinned_counts')));
    assert.deepEqual(readdirSync(dir), ['pinned_counts']);
  } finally {
    nrt.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("static programs and symbol-less code sections: refused or empty by libbpf's rules, programs by iproute2's", () => {
  // xdp_firewall.o's xdp_pass made static (STB_LOCAL FUNC)
  const staticProg = mutate('xdp_firewall.o', (elf, dv) => dv.setUint8(symEntry(elf, 'xdp_pass') + 4, 0x02));
  assert.throws(() => readObject(staticProg), (e: unknown) => e instanceof TsbpfError && e.errno === 'ENOTSUPP' && /program 'xdp_pass' in section 'xdp' is static and not supported by libbpf 1.x/.test(e.message));
  assert.deepEqual([...readObject(staticProg, { loader: 'iproute2' }).programs.keys()], ['xdp_firewall', 'xdp_pass']);
  // elf_maps.o as clang once wrote it: the program's symbol a sizeless STT_NOTYPE
  const noFunc = mutate('elf_maps.o', (elf, dv) => {
    dv.setUint8(symEntry(elf, 'elf_maps') + 4, 0x10); // GLOBAL NOTYPE
    dv.setBigUint64(symEntry(elf, 'elf_maps') + 16, 0n, true);
  });
  assert.equal(readObject(noFunc).programs.size, 0, 'libbpf finds programs by STT_FUNC only');
  const p = readObject(noFunc, { loader: 'iproute2' }).programs.get('elf_maps')!;
  assert.deepEqual([p.section, p.type, p.insns.length], ['classifier', 'sched_cls', 52]);
  assert.deepEqual(p.references.filter((r) => r.kind === 'map').map((r) => r.map), ['pinned_counts', 'pinned_counts', 'outer', 'loner']);
  // with no global symbol at its start, the section names the program
  const anon = mutate('elf_maps.o', (elf, dv) => {
    dv.setUint8(symEntry(elf, 'elf_maps') + 4, 0x00); // LOCAL NOTYPE
    dv.setBigUint64(symEntry(elf, 'elf_maps') + 16, 0n, true);
  });
  assert.deepEqual([...readObject(anon, { loader: 'iproute2' }).programs.keys()], ['classifier']);
});

test('prog load --iproute2 --type: what libbpf refuses verified as tc would load it; a clear error otherwise', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-iproute2-'));
  try {
    const obj = join(dir, 'old.o');
    writeFileSync(obj, mutate('elf_maps.o', (elf, dv) => {
      dv.setUint8(symEntry(elf, 'elf_maps') + 4, 0x10);
      dv.setBigUint64(symEntry(elf, 'elf_maps') + 16, 0n, true);
    }));
    const run = (...a: string[]) => spawnSync(process.execPath, [BIN, ...a], { encoding: 'utf8', env: { ...process.env, TSBPF_DEBUG: '' } });
    const plain = run('prog', 'load', obj);
    assert.equal(plain.status, 1);
    assert.match(plain.stderr, /doesn't contain any bpf program/);
    const ip = run('prog', 'load', obj, '--iproute2', '-j');
    assert.equal(ip.status, 0, ip.stderr);
    assert.deepEqual(JSON.parse(ip.stdout).map((r: { name: string; type: string; accepted: boolean }) => [r.name, r.type, r.accepted]), [['elf_maps', 'sched_cls', true]]);
    // bpftool's `type`: every program of that type whatever its section; socket filters may not write the packet, but this one does not
    const typed = run('prog', 'load', obj, '--iproute2', '--type', 'socket_filter', '-j');
    assert.deepEqual(JSON.parse(typed.stdout).map((r: { type: string }) => r.type), ['socket_filter']);
    const bad = run('prog', 'load', obj, '--type', 'nope');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /--type: unknown program type 'nope'/);
    assert.doesNotMatch(bad.stderr, /at .*\.js/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("prog load refuses every program when a map is one the kernel would not create (libbpf's order), not for tsbpf's own gaps", async () => {
  const { refusedMap } = await import('../src/cli/commands/prog-load.js');
  const base = { keySize: 0, valueSize: 0, maxEntries: 4096, flags: 0, pinning: 'none' as const };
  // cilium's examples declare a ringbuf with __type(value, ...): the kernel refuses value_size 20
  const e = refusedMap([{ ...base, name: 'events', type: 'ringbuf', valueSize: 20 }]);
  assert.ok(e instanceof TsbpfError);
  assert.equal(e.errno, 'EINVAL');
  assert.match(e.message, /^failed to create map events: ringbuf needs key_size 0, value_size 0/);
  assert.equal(refusedMap([{ ...base, name: 'ok', type: 'ringbuf' }]), undefined);
  // perf_event_array without max_entries gets one slot per CPU, as libbpf sizes it
  assert.equal(refusedMap([{ ...base, name: 'pe', type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 0 }]), undefined);
  // a type tsbpf does not implement is not a verdict on the object
  assert.equal(refusedMap([{ ...base, name: 'um', type: 'user_ringbuf', maxEntries: 4096 }]), undefined);
  // one it implements is: a socket storage map without BTF types is refused, as Linux refuses it
  assert.equal(refusedMap([{ ...base, name: 'st', type: 'sk_storage', keySize: 4, valueSize: 8, maxEntries: 0, flags: 1 }])?.errno, 'EINVAL');
  assert.equal(refusedMap([{ ...base, name: 'st', type: 'sk_storage', keySize: 4, valueSize: 8, maxEntries: 0, flags: 1, btfKeyTypeId: 1, btfValueTypeId: 2 }]), undefined);
});
