/**
 * Differential tests against Linux: every fixture is loaded into the kernel
 * with bpftool (`prog loadall`), each runnable program is run with
 * `bpftool prog run` on the packet set, and return values, output packets
 * and map contents are compared with tsbpf's for the same object and the
 * same packets. Needs root, bpftool and bpffs; skips with the reason where
 * any is missing. Pins are always removed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { BPFFS, bpftool, errnoOf, helperRefusal, kernelSkipReason, possibleCpus, STRERROR, toHex } from './runtime-kerneltools.js';
import { join } from 'node:path';
import { FIXTURES } from './paths.js';
import { packetSet } from './runtime-packets.js';
import { loadObjectFile } from '../src/object/file.js';
import { Runtime } from '../src/runtime/index.js';
import { assemble } from '../src/isa/asm/index.js';
import { writeObject } from '../src/object/writer.js';
import { TsbpfError, ERRNO_VALUES } from '../src/errors.js';
import type { BpfMap } from '../src/maps/index.js';

const hexBytes = (a: string[]): Uint8Array => Uint8Array.from(a.map((h) => parseInt(h, 16)));
const hexArgs = (b: Uint8Array): string[] => ['hex', ...Array.from(b, (x) => x.toString(16).padStart(2, '0'))];

interface DumpEntry {
  key: string[];
  value?: string[];
  values?: Array<{ cpu: number; value: string[] }>;
}

/** Per-CPU values, CPU by CPU (bpftool runs pinned to CPU 0, tsbpf runs on CPU 0). */
const perCpu = (values: Uint8Array[]): string => values.map(toHex).join('|');

function kernelMapContents(id: number): Map<string, string> {
  const r = bpftool(['map', 'dump', 'id', String(id)]);
  assert.ok(r.ok, `bpftool map dump id ${id}: ${JSON.stringify(r.json)}`);
  const out = new Map<string, string>();
  for (const e of r.json as DumpEntry[]) {
    const k = toHex(hexBytes(e.key));
    if (e.values) out.set(k, perCpu(e.values.map((v) => hexBytes(v.value))));
    else if (e.value) out.set(k, toHex(hexBytes(e.value)));
  }
  return out;
}

function tsbpfMapContents(m: BpfMap<unknown>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of m.entries()) out.set(toHex(k), Array.isArray(v) ? perCpu(v as Uint8Array[]) : toHex(v as Uint8Array));
  return out;
}

const RUNNABLE = new Set(['xdp', 'sched_cls', 'sched_act', 'socket_filter']);
/** Maps whose values are kernel handles (ids differ between the kernel and tsbpf): keys are compared, not values. */
const HANDLE_MAPS = new Set(['prog_array', 'array_of_maps', 'hash_of_maps', 'perf_event_array']);

interface Setup {
  map: string;
  key: Uint8Array;
  value: Uint8Array;
}

/** Map entries written into both the kernel's and tsbpf's maps before the runs. */
const SETUP: Record<string, Setup[]> = {
  xdp_firewall: [{ map: 'blocklist', key: Uint8Array.of(10, 1, 2, 3), value: Uint8Array.of(1) }],
  lpm_trie: [
    { map: 'routes', key: Uint8Array.of(8, 0, 0, 0, 10, 0, 0, 0), value: Uint8Array.of(0, 0, 0, 0) },
    { map: 'routes', key: Uint8Array.of(16, 0, 0, 0, 10, 1, 0, 0), value: Uint8Array.of(1, 0, 0, 0) },
    { map: 'routes', key: Uint8Array.of(24, 0, 0, 0, 192, 168, 1, 0), value: Uint8Array.of(0, 0, 0, 0) },
  ],
};

const FIXTURE_NAMES = ['xdp_firewall', 'tc_rewrite', 'socket_filter', 'global_data', 'bpf2bpf', 'tail_call', 'map_in_map', 'legacy_maps', 'lpm_trie', 'percpu', 'bpf_loop'];
/** Fixtures the kernel side cannot load through bpftool, and why. */
const KERNEL_CANNOT: Record<string, string> = {
  legacy_maps: "libbpf v1 (bpftool) refuses legacy 'maps' section definitions",
};

const skip = kernelSkipReason();
if (skip) console.log(`# runtime-kernel: skipped: ${skip}`);

for (const fixture of FIXTURE_NAMES) {
  const why = skip ?? KERNEL_CANNOT[fixture];
  test(`kernel differential: ${fixture}`, { skip: why ? `skipped: ${why}` : false }, async (t) => {
    const obj = join(FIXTURES, `${fixture}.o`);
    const spec = await loadObjectFile(obj);
    const byName = [...spec.maps.values()].filter((m) => m.pinning === 'by_name').map((m) => join(BPFFS, m.name));
    const pinDir = join(BPFFS, `tsbpf-${fixture}-${process.pid}`);
    // Pinning the maps keeps a user reference: without one the kernel empties prog_array slots when bpftool exits.
    const mapDir = byName.length ? undefined : join(BPFFS, `tsbpf-${fixture}-${process.pid}-maps`);
    const tmp = mkdtempSync(join(tmpdir(), 'tsbpf-kdiff-'));
    const cleanup = (): void => {
      rmSync(pinDir, { recursive: true, force: true });
      if (mapDir) rmSync(mapDir, { recursive: true, force: true });
      for (const p of byName) rmSync(p, { force: true });
    };
    cleanup();
    // Both engines run the same object side by side; each is compared with the kernel.
    const engines = ['interpreter', 'jit'] as const;
    const rts = engines.map((engine) => new Runtime({ numCpus: possibleCpus(), engine }));
    try {
      const load = bpftool(['prog', 'loadall', obj, pinDir, ...(mapDir ? ['pinmaps', mapDir] : [])]);
      const refused = load.ok ? undefined : helperRefusal(load.stderr);
      if (refused) return t.skip(`the running kernel refuses a helper of ${fixture}: ${refused}`);
      assert.ok(load.ok, `bpftool prog loadall ${fixture}: ${JSON.stringify(load.json)}`);
      const colls = await Promise.all(rts.map((rt) => rt.load(spec)));
      const coll = colls[0]!;

      // Kernel map ids by name, from the programs' used maps.
      const kmaps = new Map<string, { id: number; type: string }>();
      for (const name of coll.programs.keys()) {
        const show = bpftool(['prog', 'show', 'pinned', join(pinDir, name)]);
        assert.ok(show.ok, `prog show ${name}: ${JSON.stringify(show.json)}`);
        for (const id of (show.json as { map_ids?: number[] }).map_ids ?? []) {
          const ms = bpftool(['map', 'show', 'id', String(id)]).json as { name: string; type: string };
          kmaps.set(ms.name, { id, type: ms.type });
        }
      }
      const kernelMapFor = (m: BpfMap<unknown>): { id: number; type: string } | undefined => kmaps.get(m.name.slice(0, 15));

      for (const s of SETUP[fixture] ?? []) {
        const m = coll.map(s.map);
        const km = kernelMapFor(m);
        assert.ok(km, `kernel map ${s.map}`);
        const r = bpftool(['map', 'update', 'id', String(km.id), 'key', ...hexArgs(s.key), 'value', ...hexArgs(s.value)]);
        assert.ok(r.ok, `map update ${s.map}: ${JSON.stringify(r.json)}`);
        for (const c of colls) c.map(s.map).set(s.key, s.value);
      }

      const inFile = join(tmp, 'in');
      const outFile = join(tmp, 'out');
      let compared = 0;
      for (const [name, prog0] of coll.programs) {
        if (!RUNNABLE.has(prog0.type)) continue;
        for (const pkt of packetSet()) {
          writeFileSync(inFile, pkt.data);
          rmSync(outFile, { force: true });
          const k = bpftool(['prog', 'run', 'pinned', join(pinDir, name), 'data_in', inFile, 'data_out', outFile, 'repeat', '1']);
          for (const [ei, c] of colls.entries()) {
          const prog = c.program(name);
          const where = `${fixture}/${name} [${engines[ei]}] on ${pkt.name}`;
          let mine: { retval: number; data?: Uint8Array } | TsbpfError;
          try {
            mine = prog.run({ data: pkt.data, repeat: 1 });
          } catch (e) {
            if (!(e instanceof TsbpfError)) throw e;
            mine = e;
          }
          if (!k.ok) {
            const msg = String((k.json as { error?: string }).error);
            assert.ok(mine instanceof TsbpfError, `${where}: the kernel refused (${msg}), tsbpf returned ${JSON.stringify(mine)}`);
            assert.equal(mine.errno, errnoOf(msg), `${where}: kernel said '${msg}', tsbpf ${mine.errno} (${mine.message})`);
          } else {
            assert.ok(!(mine instanceof TsbpfError), `${where}: the kernel ran it, tsbpf threw ${(mine as Error).message}`);
            const kr = k.json as { retval: number };
            assert.equal(mine.retval, kr.retval, `${where}: retval`);
            const kout = existsSync(outFile) ? new Uint8Array(readFileSync(outFile)) : new Uint8Array(0);
            assert.equal(toHex(mine.data ?? new Uint8Array(0)), toHex(kout), `${where}: output packet`);
          }
          compared++;
          }
        }
      }

      // One repeated run per program: every repetition updates the maps, in both.
      for (const [name, prog0] of coll.programs) {
        if (!RUNNABLE.has(prog0.type)) continue;
        const pkt = packetSet()[0]!.data;
        writeFileSync(inFile, pkt);
        const k = bpftool(['prog', 'run', 'pinned', join(pinDir, name), 'data_in', inFile, 'repeat', '7']);
        assert.ok(k.ok, `${fixture}/${name} repeat 7: ${JSON.stringify(k.json)}`);
        for (const c of colls) assert.equal(c.program(name).run({ data: pkt, repeat: 7 }).retval, (k.json as { retval: number }).retval);
      }

      for (const [ei, c] of colls.entries()) {
        for (const m of c.maps.values()) {
          const km = kernelMapFor(m);
          if (!km) continue;
          const kc = kernelMapContents(km.id);
          const tc = tsbpfMapContents(m);
          const what = `${fixture} [${engines[ei]}]: map ${m.name}`;
          if (HANDLE_MAPS.has(m.type)) assert.deepEqual([...tc.keys()].sort(), [...kc.keys()].sort(), `${what} slots`);
          else assert.deepEqual(new Map([...tc].sort()), new Map([...kc].sort()), `${what} contents`);
        }
      }
      if ([...coll.programs.values()].some((p) => RUNNABLE.has(p.type))) assert.ok(compared > 0);
      for (const c of colls) c.close();
    } finally {
      for (const rt of rts) rt.close();
      cleanup();
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

test('a helper the kernel refuses for the program type is told apart (the differential tests skip on it)', { skip: skip ? `skipped: ${skip}` : false }, () => {
  // bpf_xdp_adjust_head in a socket filter: sk_filter_func_proto has no such helper.
  const tmp = mkdtempSync(join(tmpdir(), 'tsbpf-krefuse-'));
  const obj = join(tmp, 'refused.o');
  const pin = join(BPFFS, `tsbpf-refused-${process.pid}`);
  try {
    const insns = assemble('r2 = 0\ncall 44\nr0 = 0\nexit', { dialect: 'kernel' });
    writeFileSync(obj, writeObject({ programs: [{ name: 'refused', section: 'socket', insns }] }));
    const load = bpftool(['prog', 'load', obj, pin]);
    assert.equal(load.ok, false);
    assert.equal(helperRefusal(load.stderr), 'program of this type cannot use helper bpf_xdp_adjust_head#44');
    assert.equal(helperRefusal('R1 offset is outside of the packet'), undefined);
  } finally {
    rmSync(pin, { force: true });
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('errno names used here are real errnos', () => {
  for (const e of Object.values(STRERROR)) assert.ok(ERRNO_VALUES[e] > 0);
});
