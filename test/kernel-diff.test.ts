/**
 * The two backends through one interface (runtime/api.ts RuntimeApi): every
 * fixture object is loaded by the user-space Runtime and by KernelRuntime
 * with the same code, the same map entries are written, the networking
 * programs are run on the same packets (BPF_PROG_TEST_RUN in the kernel),
 * and return values, output packets, errors and every map's contents are
 * compared. The test thread is pinned to CPU 0, where the user-space
 * runtime runs too, so per-CPU slots compare exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from './paths.js';
import { packetSet } from './runtime-packets.js';
import { BPFFS, kernelSkip } from './kernel-support.js';
import { loadObjectFile } from '../src/object/file.js';
import { Runtime } from '../src/runtime/index.js';
import { TsbpfError } from '../src/errors.js';
import { KernelRuntime, possibleCpus, openSys } from '../src/kernel/index.js';
import { kernelVersionCode } from '../src/kernel/kconfig.js';
import type { RuntimeApi, MapApi } from '../src/runtime/api.js';
import type { CollectionSpec } from '../src/object/spec.js';

const RUNNABLE = new Set(['xdp', 'sched_cls', 'sched_act', 'socket_filter']);
/** Values that are kernel handles (prog and map fds / ids): keys are compared, not values. */
const HANDLE_MAPS = new Set(['prog_array', 'array_of_maps', 'hash_of_maps', 'perf_event_array']);
const SETUP: Record<string, Array<{ map: string; key: Uint8Array; value: Uint8Array }>> = {
  xdp_firewall: [{ map: 'blocklist', key: Uint8Array.of(10, 1, 2, 3), value: Uint8Array.of(1) }],
  lpm_trie: [
    { map: 'routes', key: Uint8Array.of(8, 0, 0, 0, 10, 0, 0, 0), value: Uint8Array.of(0, 0, 0, 0) },
    { map: 'routes', key: Uint8Array.of(16, 0, 0, 0, 10, 1, 0, 0), value: Uint8Array.of(1, 0, 0, 0) },
  ],
};

/** Map types without keys to walk (their records are read by the ring buffer tests). */
const KEYLESS = new Set(['ringbuf', 'user_ringbuf']);
/**
 * Where the backends differ on purpose, and why: the user-space runtime
 * leaves `.kconfig` externs zero (it does not model a kernel config), the
 * kernel backend fills them from the running kernel as libbpf does; the
 * kernel's results are checked on their own below.
 */
const KCONFIG_PROGRAMS = new Set(['externs/kernel_version']);
const KCONFIG_MAPS = new Set(['externs/externs.bss', 'externs/externs.kconfig']);

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

interface Observed {
  programs: string[];
  runs: Map<string, string>;
  maps: Map<string, Map<string, string>>;
}

function contents(m: MapApi): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of m.entries()) out.set(hex(k), HANDLE_MAPS.has(m.type) ? 'handle' : Array.isArray(v) ? (v as Uint8Array[]).map(hex).join('|') : hex(v as Uint8Array));
  return new Map([...out].sort());
}

/** The same steps on either backend. */
async function exercise(rt: RuntimeApi, spec: CollectionSpec, fixture: string): Promise<Observed> {
  const coll = await rt.load(spec);
  try {
    for (const s of SETUP[fixture] ?? []) coll.map(s.map).set(s.key, s.value);
    const runs = new Map<string, string>();
    for (const [name, p] of coll.programs) {
      if (!RUNNABLE.has(p.type)) continue;
      for (const pkt of packetSet()) {
        let out: string;
        try {
          const r = p.run({ data: pkt.data, repeat: 1 });
          out = `r0=${r.retval} data=${hex(r.data ?? new Uint8Array(0))}`;
        } catch (e) {
          if (!(e instanceof TsbpfError)) throw e;
          out = `error ${e.errno}`;
        }
        runs.set(`${name} on ${pkt.name}`, out);
      }
      runs.set(`${name} x7`, `r0=${p.run({ data: packetSet()[0]!.data, repeat: 7 }).retval}`);
    }
    const maps = new Map<string, Map<string, string>>();
    for (const [name, m] of coll.maps) if (!KEYLESS.has(m.type)) maps.set(name, contents(m));
    return { programs: [...coll.programs.keys()].sort(), runs, maps };
  } finally {
    coll.close();
  }
}

const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.o') && !f.includes('.bpfeb.')).map((f) => f.slice(0, -2)).sort();

test('kernel backend: fixtures list is not empty', () => assert.ok(fixtures.length >= 10));

for (const fixture of fixtures) {
  test(`kernel differential (one API, two backends): ${fixture}`, async (t) => {
    const why = await kernelSkip();
    if (why) return t.skip(why);
    (await openSys()).pinThreadToCpu(0);
    const spec = await loadObjectFile(join(FIXTURES, `${fixture}.o`));
    const user = new Runtime({ numCpus: possibleCpus() });
    // maps pinned by name go to a directory of this test's own, not /sys/fs/bpf, and are removed
    const pinPath = join(BPFFS, `tsbpf-kdiff-${process.pid}`);
    mkdirSync(pinPath, { recursive: true });
    const kernel = new KernelRuntime({ pinPath });
    try {
      const u = await exercise(user, spec, fixture);
      const k = await exercise(kernel, spec, fixture);
      assert.deepEqual(k.programs, u.programs, 'programs loaded');
      for (const [what, ur] of u.runs) {
        if (KCONFIG_PROGRAMS.has(`${fixture}/${what.split(' ')[0]}`)) continue;
        assert.equal(k.runs.get(what), ur, `${fixture}: ${what}`);
      }
      assert.equal(k.runs.size, u.runs.size);
      for (const [name, um] of u.maps) {
        if (KCONFIG_MAPS.has(`${fixture}/${name}`)) continue;
        assert.deepEqual(k.maps.get(name), um, `${fixture}: map ${name}`);
      }
      if (fixture === 'externs') {
        // CONFIG_BPF_SYSCALL is y on any kernel that runs this, LINUX_KERNEL_VERSION >= 5.0: XDP_PASS
        for (const [what, r] of k.runs) if (what.startsWith('kernel_version on')) assert.equal(r.startsWith('error') ? r : r.slice(0, 5), u.runs.get(what)!.startsWith('error') ? u.runs.get(what) : 'r0=2 ', what);
        const [, seen] = [...k.maps.get('externs.bss')!][0]!;
        const v = Buffer.from(seen, 'hex').readBigUInt64LE(0);
        assert.ok(v >= BigInt(kernelVersionCode()), `seen = LINUX_KERNEL_VERSION + CONFIG_HZ, got ${v}`);
      }
      if ([...spec.programs.values()].some((p) => RUNNABLE.has(p.type))) assert.ok(u.runs.size > 0);
    } finally {
      user.close();
      kernel.close();
      rmSync(pinPath, { recursive: true, force: true });
    }
  });
}
