/**
 * The two backends through one interface (runtime/api.ts RuntimeApi): every
 * fixture object and every example object (examples/, examples/kernel/,
 * examples/testing/) is loaded by the user-space Runtime and by KernelRuntime
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
import { FIXTURES, ROOT } from './paths.js';
import { packetSet } from './runtime-packets.js';
import { BPFFS, kernelSkip } from './kernel-support.js';
import { loadObjectFile } from '../src/object/file.js';
import { Runtime } from '../src/runtime/index.js';
import { TsbpfError } from '../src/errors.js';
import { KernelRuntime, possibleCpus, openSys } from '../src/kernel/index.js';
import { kernelVersionCode } from '../src/kernel/kconfig.js';
import type { RuntimeApi, MapApi } from '../src/runtime/api.js';
import type { CollectionSpec } from '../src/object/spec.js';
import { enableProbeHelpers } from '../src/hooks/uprobe.js';

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
  // handle maps: the keys only (a perf_event_array's values cannot even be read back, in Linux either)
  if (HANDLE_MAPS.has(m.type)) for (const k of m.keys()) out.set(hex(k), 'handle');
  else for (const [k, v] of m.entries()) out.set(hex(k), Array.isArray(v) ? (v as Uint8Array[]).map(hex).join('|') : hex(v as Uint8Array));
  return new Map([...out].sort());
}

/**
 * Objects whose every program cannot load in both backends: the programs
 * compared, and why the others are left out (and checked apart below).
 */
const SUBSET: Record<string, { programs: string[]; left: string[]; why: string }> = {
  'examples/kernel/opensnoop': {
    programs: ['openat_enter', 'openat_exit', 'openat2_kprobe', 'openat2_kretprobe'],
    left: ['openat2_fentry', 'openat2_fexit'],
    why: 'fentry/do_sys_openat2 needs that kernel function in the BTF the user-space runtime verifies against, and the BTF tsbpf ships has no do_sys_openat2',
  },
};

/** The same steps on either backend. */
async function exercise(rt: RuntimeApi, spec: CollectionSpec, fixture: string): Promise<Observed> {
  const coll = await rt.load(spec, SUBSET[fixture] ? { programs: SUBSET[fixture].programs } : {});
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
/** The example objects, named by their path under the repository (examples/kernel/tc_rewrite). */
const EXAMPLE_DIRS = ['examples', 'examples/kernel', 'examples/testing'];
const examples = EXAMPLE_DIRS.flatMap((d) => readdirSync(join(ROOT, d)).filter((f) => f.endsWith('.o')).map((f) => `${d}/${f.slice(0, -2)}`)).sort();
const objectPath = (name: string): string => (name.includes('/') ? join(ROOT, `${name}.o`) : join(FIXTURES, `${name}.o`));

/** What the user-space runtime must be told first, as a user of that object would (the helpers a uprobe needs). */
const USER_SETUP: Record<string, (rt: Runtime) => void> = {
  'examples/func_probe': (rt) => void enableProbeHelpers(rt),
};
/**
 * Objects the plain user-space Runtime does not load, why, and the errno it
 * gives; they are loaded by the kernel here and compared with the kernel
 * elsewhere: examples/testing/* are the test kit's (tsbpf/testing models
 * the kernel they need; test/testing-kernel-diff.test.ts compares the kit's
 * execsnoop record with the kernel's).
 */
const USER_REFUSES: Record<string, { errno: string; why: string }> = {
  'examples/testing/execsnoop.bpf': { errno: 'ENOTSUPP', why: 'bpf_get_current_task needs the test kit (tsbpf/testing), which models task_struct' },
  'examples/testing/runqlat.bpf': { errno: 'ENOENT', why: 'tp_btf/sched_wakeup needs the kernel BTF of the test kit, not the BTF the runtime ships' },
  'examples/testing/profile.bpf': { errno: 'ENOTSUPP', why: 'bpf_get_stackid needs the test kit, which gives the stacks (test/maps-stack-trace.test.ts compares stack ids with the kernel)' },
  'examples/testing/offcputime.bpf': { errno: 'ENOTSUPP', why: 'bpf_get_stackid needs the test kit, which gives the stacks (test/maps-stack-trace.test.ts compares stack ids with the kernel)' },
  'examples/testing/cgroupreads.bpf': { errno: 'ENOTSUPP', why: 'bpf_current_task_under_cgroup needs the test kit, which models the cgroup hierarchy' },
  'examples/testing/taskps.bpf': { errno: 'ENOTSUPP', why: 'bpf_seq_printf writes to an iterator\'s seq_file, which only the test kit reads (kit.iterate; test/testing-iter.test.ts)' },
};

test('kernel backend: fixtures list is not empty', () => assert.ok(fixtures.length >= 10));
test('kernel backend: the example objects are in the differential', () => assert.ok(examples.includes('examples/kernel/tc_rewrite') && examples.length >= 15, examples.join(' ')));

for (const name of examples.filter((e) => USER_REFUSES[e])) {
  test(`kernel differential: ${name} loads in the kernel; the plain user-space runtime refuses it, saying why`, async (t) => {
    const why = await kernelSkip();
    if (why) return t.skip(why);
    const spec = await loadObjectFile(objectPath(name));
    const kernel = new KernelRuntime();
    const user = new Runtime();
    try {
      (await kernel.load(spec)).close();
      await assert.rejects(user.load(spec), (e: unknown) => e instanceof TsbpfError && e.errno === USER_REFUSES[name]!.errno);
    } finally {
      user.close();
      kernel.close();
    }
  });
}

for (const [name, sub] of Object.entries(SUBSET)) {
  test(`kernel differential: ${name}'s ${sub.left.join(', ')} are left out because ${sub.why}`, async (t) => {
    const spec = await loadObjectFile(objectPath(name));
    assert.deepEqual([...spec.programs.keys()].sort(), [...sub.programs, ...sub.left].sort(), 'every program is compared or left out');
    const user = new Runtime();
    try {
      await assert.rejects(user.load(spec, { programs: [sub.left[0]!] }), (e: unknown) => e instanceof TsbpfError && /do_sys_openat2/.test(e.message));
    } finally {
      user.close();
    }
    const why = await kernelSkip();
    if (why) return t.skip(why);
    const kernel = new KernelRuntime();
    try {
      // the kernel loads them where it allows fentry (BPF trampolines); some kernels refuse fentry before verifying (EPERM)
      (await kernel.load(spec, { programs: sub.left })).close();
    } catch (e) {
      if (!(e instanceof TsbpfError && e.errno === 'EPERM')) throw e;
      t.diagnostic(`${name}: the kernel refuses ${sub.left.join(', ')}: ${e.message}`);
    } finally {
      kernel.close();
    }
  });
}

for (const fixture of [...fixtures, ...examples.filter((e) => !USER_REFUSES[e])]) {
  test(`kernel differential (one API, two backends): ${fixture}`, async (t) => {
    const why = await kernelSkip();
    if (why) return t.skip(why);
    (await openSys()).pinThreadToCpu(0);
    const spec = await loadObjectFile(objectPath(fixture));
    const user = new Runtime({ numCpus: possibleCpus() });
    USER_SETUP[fixture]?.(user);
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
