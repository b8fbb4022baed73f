/**
 * Differential tests against libbpf and the running kernel (root + bpftool):
 * libbpf's own account of each fixture (`bpftool -d prog loadall` prints
 * what it found: programs, sub-programs appended, map attributes) must be
 * ours, and the objects the writer makes from the fixtures' programs must
 * load too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readObject } from '../src/object/reader.js';
import { objectNameFromPath } from '../src/object/maps.js';
import { writeObject } from '../src/object/writer.js';
import { MapType, type CollectionSpec, type MapSpec } from '../src/object/spec.js';
import { BPFFS, bpftoolLoadall } from './support/bpftool.js';
import { FIXTURE_OBJECTS, fixture, fixturePath, hasTool, isRoot, tool, tryTool } from './object-tools.js';

const skip = (!isRoot() || !hasTool('bpftool')) && 'needs root and bpftool';

function ensureBpffs(): void {
  if (tryTool('mountpoint', ['-q', BPFFS]).status !== 0) tool('mount', ['-t', 'bpf', 'bpf', BPFFS]);
}

interface LibbpfView {
  programs: Map<string, number>;
  maps: Map<string, Record<string, number>>;
}

function parseLibbpfLog(log: string): LibbpfView {
  const programs = new Map<string, number>();
  const maps = new Map<string, Record<string, number>>();
  const map = (n: string) => maps.get(n) ?? (maps.set(n, {}), maps.get(n)!);
  for (const line of log.split('\n')) {
    let m = /sec '([^']+)': found program '([^']+)' at insn offset \d+ \(\d+ bytes\), code size (\d+) insns/.exec(line);
    if (m && m[1] !== '.text') programs.set(m[2]!, Number(m[3]));
    m = /prog '([^']+)': added (\d+) insns from sub-prog/.exec(line);
    if (m) programs.set(m[1]!, programs.get(m[1]!)! + Number(m[2]));
    m = /map '([^']+)': found (type|max_entries|key_size|value_size|pinning) = (\d+)\./.exec(line);
    if (m) map(m[1]!)[m[2]!] = Number(m[3]);
    m = /map '([^']+)': found map_flags = 0x([0-9a-f]+)\./.exec(line);
    if (m) map(m[1]!).map_flags = parseInt(m[2]!, 16);
    m = /map '([^']+)': found (key|value) \[(\d+)\], sz = (\d+)\./.exec(line);
    if (m) Object.assign(map(m[1]!), { [`${m[2]}_type`]: Number(m[3]), [`${m[2]}_size`]: Number(m[4]) });
    m = /map '([^']+)' \(global data\): at sec_idx \d+, offset \d+, flags ([0-9a-f]+)\./.exec(line);
    if (m) map(m[1]!).map_flags = parseInt(m[2]!, 16);
  }
  return { programs, maps };
}

function mapByLibbpfName(spec: CollectionSpec, name: string): MapSpec | undefined {
  const inner = /^(.*)\.inner$/.exec(name);
  return inner && spec.maps.get(inner[1]!)?.innerMap ? spec.maps.get(inner[1]!)!.innerMap : spec.maps.get(name);
}

test('libbpf finds the same programs, sub-programs and maps in every fixture', { skip }, () => {
  ensureBpffs();
  let maps = 0;
  for (const f of FIXTURE_OBJECTS) {
    // big-endian objects are not for this kernel; libbpf 1.x refuses the legacy "maps" section
    if (f.includes('.bpfeb.') || f === 'legacy_maps.o' || f === 'elf_maps.o') continue;
    const spec = readObject(fixture(f), { name: objectNameFromPath(f) });
    const { status, log } = bpftoolLoadall(fixturePath(f), { debug: true, spec });
    assert.equal(status, 0, `${f} does not load:\n${log.slice(-3000)}`);
    const view = parseLibbpfLog(log);
    assert.deepEqual(
      [...spec.programs.values()].map((p) => [p.name, p.insns.length]).sort(),
      [...view.programs].sort(),
      `${f}: programs and instruction counts`,
    );
    for (const [name, attrs] of view.maps) {
      const m = mapByLibbpfName(spec, name);
      assert.ok(m, `${f}: libbpf has map '${name}', we do not`);
      const ours: Record<string, number | undefined> = {
        type: MapType[m.type],
        max_entries: m.maxEntries,
        key_size: m.keySize,
        value_size: m.valueSize,
        key_type: m.btfKeyTypeId,
        value_type: m.btfValueTypeId,
        map_flags: m.flags,
        pinning: m.pinning === 'by_name' ? 1 : 0,
      };
      for (const [k, v] of Object.entries(attrs)) assert.equal(ours[k], v, `${f}: map '${name}' ${k}`);
      maps++;
    }
    const named = [...view.maps.keys()].filter((n) => !n.endsWith('.inner'));
    assert.deepEqual(named.sort(), [...spec.maps.keys()].sort(), `${f}: map names`);
  }
  assert.ok(maps >= 20, `only ${maps} maps compared`);
});

test('objects written from the fixtures\' programs load into the kernel', { skip }, () => {
  ensureBpffs();
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-object-'));
  let loaded = 0;
  try {
    for (const f of FIXTURE_OBJECTS) {
      if (f.includes('.bpfeb.')) continue;
      const spec = readObject(fixture(f));
      // the writer writes maps, code and calls; global data and prog_array slots are not its business
      const programs = [...spec.programs.values()].filter((p) => p.references.every((r) => r.kind === 'map'));
      if (programs.length === 0) continue;
      const used = new Set(programs.flatMap((p) => p.references.map((r) => r.map!)));
      const out = join(dir, f);
      const written = writeObject({ programs, maps: [...spec.maps.values()].filter((m) => used.has(m.name)), license: spec.programs.values().next().value!.license });
      writeFileSync(out, written);
      const { status, log } = bpftoolLoadall(out, { spec: readObject(written) });
      assert.equal(status, 0, `${f} rewritten does not load:\n${log.slice(-3000)}`);
      loaded++;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(loaded >= 10, `only ${loaded} objects loaded`);
});

/**
 * Objects tsbpf has never seen: point TSBPF_EXTRA_OBJECTS at a directory of
 * clang-built objects (e.g. the kernel's BPF selftests) and every one that
 * libbpf loads must open here with the same programs, instruction counts and
 * maps. Objects libbpf cannot load are only counted. An opt-in run (the
 * objects are not part of the repository), so it is only defined when asked.
 */
if (process.env.TSBPF_EXTRA_OBJECTS) test('extra objects (TSBPF_EXTRA_OBJECTS) read as libbpf reads them', { skip }, async () => {
  const { readdirSync, readFileSync } = await import('node:fs');
  ensureBpffs();
  const dir = process.env.TSBPF_EXTRA_OBJECTS!;
  const stats = { compared: 0, libbpfFailed: 0, ours: new Map<string, number>() };
  const mismatches: string[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.o')).sort()) {
    const path = join(dir, f);
    let spec: CollectionSpec | undefined;
    let ourError: string | undefined;
    try {
      spec = readObject(new Uint8Array(readFileSync(path)), { name: objectNameFromPath(f) });
    } catch (e) {
      ourError = `${(e as Error).name}: ${(e as Error).message}`;
    }
    const { status, log } = bpftoolLoadall(path, { debug: true, spec });
    if (status !== 0) {
      stats.libbpfFailed++;
      if (ourError) stats.ours.set(ourError.split(':')[0]!, (stats.ours.get(ourError.split(':')[0]!) ?? 0) + 1);
      continue;
    }
    if (!spec) {
      mismatches.push(`${f}: libbpf loads it, we do not: ${ourError}`);
      continue;
    }
    const view = parseLibbpfLog(log);
    const ours = [...spec.programs.values()].map((p) => `${p.name}:${p.insns.length}`).sort().join(' ');
    const theirs = [...view.programs].map(([n, c]) => `${n}:${c}`).sort().join(' ');
    if (ours !== theirs) mismatches.push(`${f}: programs ours [${ours}] libbpf [${theirs}]`);
    for (const [name, attrs] of view.maps) {
      const m = mapByLibbpfName(spec, name);
      if (!m) {
        mismatches.push(`${f}: no map '${name}'`);
        continue;
      }
      const o: Record<string, number | undefined> = { type: MapType[m.type], max_entries: m.maxEntries, key_size: m.keySize, value_size: m.valueSize, key_type: m.btfKeyTypeId, value_type: m.btfValueTypeId, map_flags: m.flags, pinning: m.pinning === 'by_name' ? 1 : 0 };
      for (const [k, v] of Object.entries(attrs)) if (o[k] !== v) mismatches.push(`${f}: map '${name}' ${k} ours ${o[k]} libbpf ${v}`);
    }
    stats.compared++;
  }
  console.log(`# extra objects: ${stats.compared} compared with libbpf, ${stats.libbpfFailed} libbpf could not load (our errors on those: ${JSON.stringify(Object.fromEntries(stats.ours))})`);
  assert.deepEqual(mismatches, []);
});
