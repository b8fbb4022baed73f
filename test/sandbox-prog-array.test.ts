/**
 * Issue 11, finding 1: prog_array ownership as Linux 6.18's
 * __bpf_prog_map_compatible. An XDP program must not tail-call into a tc
 * program (the tc program's __sk_buff stores would land past the 24-byte
 * xdp_md). The first program that uses an array owns it; every later user
 * and slot must match it: refused with EINVAL naming both programs, at the
 * object's static slot initialisation, at a host `set`, and at the load of a
 * program that references an owned array. Each case under both engines.
 * test/sandbox-c/*.c are the attacker's object and its control; Linux's own
 * verdict on them is checked live where root and bpftool are present.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { which } from './support/tools.js';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime, type Program } from '../src/runtime/runtime.js';
import { loadObjectFileSync } from '../src/object/file.js';
import { assemble } from '../src/isa/asm.js';
import { TsbpfError } from '../src/errors.js';
import { ProgArray, type ProgramRef } from '../src/maps/index.js';
import { spec, ctx, make } from './maps-support.js';
import { ROOT } from './paths.js';

const SANDBOX_C = join(ROOT, 'test/sandbox-c');
const ENGINES = ['jit', 'interpreter'] as const;

const einval = (...names: string[]) => (e: unknown): boolean => {
  assert.ok(e instanceof TsbpfError, `expected a TsbpfError, got ${String(e)}`);
  assert.equal(e.errno, 'EINVAL', e.message);
  for (const n of names) assert.match(e.message, new RegExp(`\\b${n}\\b`), `the error names ${n}: ${e.message}`);
  return true;
};

/** A raw program that tail-calls through the map with id `mapId` (r1, the context, is passed on). */
async function tailCaller(rt: Runtime, type: 'xdp' | 'sched_cls', mapId: number, name = `raw_${type}`): Promise<Program> {
  const insns = assemble(`r2 = map[fd:${mapId}] ll\nr3 = 0\ncall 12\nr0 = 2\nexit`, { dialect: 'kernel' });
  return rt.loadProgram({ name, type, insns, ...(type === 'xdp' ? { expectedAttachType: 'xdp' } : {}) });
}

for (const engine of ENGINES) {
  test(`${engine}: an XDP program cannot tail-call into a tc program through a statically initialised prog_array`, async () => {
    const rt = new Runtime({ engine });
    try {
      const before = [...rt.maps.values()].length;
      await assert.rejects(rt.load(loadObjectFileSync(join(SANDBOX_C, 'xdp_tail_tc.o'))), einval('tc_prog', 'xdp_entry', 'jmp'));
      // As libbpf, the failed load leaves nothing behind.
      assert.equal([...rt.maps.values()].length, before);
      assert.equal(rt.programList().length, 0);
    } finally {
      rt.close();
    }
  });

  test(`${engine}: the control object (XDP into XDP) loads and its tail call runs`, async () => {
    const rt = new Runtime({ engine });
    try {
      const coll = await rt.load(loadObjectFileSync(join(SANDBOX_C, 'xdp_tail_xdp.o')));
      assert.equal(coll.program('xdp_entry').run({ data: new Uint8Array(64) }).retval, 1, 'XDP_DROP from the tail-called program');
      const jmp = coll.map('jmp') as ProgArray;
      assert.deepEqual(jmp.ownerProgram, { name: 'xdp_entry', type: 'xdp' });
    } finally {
      rt.close();
    }
  });

  test(`${engine}: host set of a program of another type into an owned prog_array is EINVAL naming both`, async () => {
    const rt = new Runtime({ engine });
    try {
      const coll = await rt.load(loadObjectFileSync(join(SANDBOX_C, 'xdp_tail_xdp.o')));
      const jmp = coll.map('jmp') as ProgArray;
      const tc = await rt.loadProgram({ name: 'tc_intruder', type: 'sched_cls', insns: assemble('r0 = 0\nexit', { dialect: 'kernel' }) });
      const slot0 = jmp.get(0);
      assert.throws(() => jmp.set(0, tc.id), einval('tc_intruder', 'xdp_entry'));
      assert.deepEqual(jmp.get(0), slot0, 'the slot keeps its program');
      // A program of the owner's kind goes in.
      // (SEC("xdp") gives BPF_XDP as expected attach type: a raw XDP program without one does not match.)
      const bare = await rt.loadProgram({ name: 'xdp_bare', type: 'xdp', insns: assemble('r0 = 3\nexit', { dialect: 'kernel' }) });
      assert.throws(() => jmp.set(0, bare.id), einval('xdp_bare', 'xdp_entry'));
      const xdp = await rt.loadProgram({ name: 'xdp_ok', type: 'xdp', expectedAttachType: 'xdp', insns: assemble('r0 = 3\nexit', { dialect: 'kernel' }) });
      jmp.set(0, xdp.id);
      assert.equal(coll.program('xdp_entry').run({ data: new Uint8Array(64) }).retval, 3);
    } finally {
      rt.close();
    }
  });

  test(`${engine}: loading a program that uses an owned prog_array is EINVAL when it does not match the owner`, async () => {
    const rt = new Runtime({ engine });
    try {
      const coll = await rt.load(loadObjectFileSync(join(SANDBOX_C, 'xdp_tail_xdp.o')));
      const jmp = coll.map('jmp');
      await assert.rejects(tailCaller(rt, 'sched_cls', jmp.id, 'tc_user'), einval('tc_user', 'xdp_entry'));
      // Another XDP user is fine, and its tail call reaches the slot's program.
      const ok = await tailCaller(rt, 'xdp', jmp.id, 'xdp_user');
      assert.equal(ok.run({ data: new Uint8Array(64) }).retval, 1);
    } finally {
      rt.close();
    }
  });

  test(`${engine}: the first program that uses an empty prog_array owns it, not the first inserted`, async () => {
    const rt = new Runtime({ engine });
    try {
      const pa = rt.createMap({ name: 'empty_pa', type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 2, flags: 0, pinning: 'none' }) as ProgArray;
      const tc = await tailCaller(rt, 'sched_cls', pa.id, 'tc_owner');
      assert.deepEqual(pa.ownerProgram, { name: 'tc_owner', type: 'sched_cls' }, 'the load of a program that references the array claims it');
      const xdp = await rt.loadProgram({ name: 'xdp_late', type: 'xdp', insns: assemble('r0 = 2\nexit', { dialect: 'kernel' }) });
      assert.throws(() => pa.set(0, xdp.id), einval('xdp_late', 'tc_owner'));
      // The owner stays after its program is unloaded (the kernel frees map->owner only with the map).
      tc.close();
      assert.throws(() => pa.set(0, xdp.id), einval('xdp_late', 'tc_owner'));
      pa.close();
    } finally {
      rt.close();
    }
  });
}

test('every fact __bpf_prog_map_compatible compares refuses a mismatch (and the prototype only for tracing types)', () => {
  const base = { type: 'xdp', jited: true, xdpHasFrags: false, sleepable: false, expectedAttachType: undefined as string | undefined, attachFuncProto: undefined as number | undefined };
  const cases: Array<[string, Partial<typeof base>, boolean]> = [
    ['same facts', {}, true],
    ['another program type', { type: 'sched_cls' }, false],
    ['interpreted vs JIT-compiled', { jited: false }, false],
    ['xdp frags', { xdpHasFrags: true }, false],
    ['sleepable', { sleepable: true }, false],
    ['another expected attach type', { expectedAttachType: 'xdp_devmap' }, false],
    ['another attach prototype on a non-tracing type (ignored)', { attachFuncProto: 7 }, true],
  ];
  let id = 1;
  for (const [what, diff, ok] of cases) {
    const progs = new Map<number, ProgramRef>();
    const owner: ProgramRef = { id: id++, name: 'owner', ...base };
    const other: ProgramRef = { id: id++, name: 'other', ...base, ...diff };
    progs.set(owner.id, owner).set(other.id, other);
    const pa = make<ProgArray>(spec('prog_array', 4, 4, 2), ctx(1, { programs: { byId: (i) => progs.get(i) } }));
    pa.set(0, owner.id);
    if (ok) pa.set(1, other.id);
    else assert.throws(() => pa.set(1, other.id), einval('owner', 'other'), what);
    pa.close();
  }
  // Tracing programs: the attach target's prototype is part of the context.
  const fentry = { ...base, type: 'tracing', expectedAttachType: 'trace_fentry' };
  const progs = new Map<number, ProgramRef>([
    [1, { id: 1, name: 'owner', ...fentry, attachFuncProto: 100 }],
    [2, { id: 2, name: 'same_proto', ...fentry, attachFuncProto: 100 }],
    [3, { id: 3, name: 'other', ...fentry, attachFuncProto: 101 }],
  ]);
  const pa = make<ProgArray>(spec('prog_array', 4, 4, 3), ctx(1, { programs: { byId: (i) => progs.get(i) } }));
  pa.set(0, 1);
  pa.set(1, 2);
  assert.throws(() => pa.set(2, 3), einval('owner', 'other'));
  pa.close();
});


const kernelSkip = process.getuid?.() !== 0 ? 'not root: cannot load programs into the kernel' : !which('bpftool') ? 'bpftool not installed' : false;

test('Linux refuses the XDP-into-tc object at slot initialisation and loads the control (bpftool prog loadall)', { skip: kernelSkip }, () => {
  spawnSync('sh', ['-c', 'grep -qs " /sys/fs/bpf bpf " /proc/mounts || mount -t bpf bpf /sys/fs/bpf']);
  const load = (obj: string): { status: number | null; stderr: string } => {
    const pin = `/sys/fs/bpf/tsbpf_sandbox_${process.pid}`;
    try {
      return spawnSync('bpftool', ['prog', 'loadall', join(SANDBOX_C, obj), pin], { encoding: 'utf8' });
    } finally {
      rmSync(pin, { recursive: true, force: true });
    }
  };
  const bad = load('xdp_tail_tc.o');
  assert.notEqual(bad.status, 0, 'Linux loaded the XDP-into-tc object');
  assert.match(bad.stderr, /map 'jmp': failed to initialize slot \[0\] to prog 'tc_prog'.*-22/);
  const good = load('xdp_tail_xdp.o');
  assert.equal(good.status, 0, good.stderr);
});

/** The scenario of test/kernel-progs/prog_array_owner.c, through tsbpf: the same lines. */
async function ownerScenario(engine: 'jit' | 'interpreter'): Promise<string[]> {
  const rt = new Runtime({ engine });
  const out: string[] = [];
  const step = async (what: string, fn: () => unknown): Promise<void> => {
    try {
      await fn();
      out.push(`${what}: ok`);
    } catch (e) {
      out.push(`${what}: ${e instanceof TsbpfError ? e.errno : String(e)}`);
    }
  };
  const ret2 = (type: 'xdp' | 'sched_cls', eat?: string): Promise<Program> =>
    rt.loadProgram({ type, insns: assemble('r0 = 2\nexit', { dialect: 'kernel' }), ...(eat ? { expectedAttachType: eat } : {}) });
  try {
    const pa = rt.createMap({ name: 'pa', type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 2, flags: 0, pinning: 'none' });
    const user = (type: 'xdp' | 'sched_cls', eat?: string): Promise<Program> =>
      rt.loadProgram({ type, insns: assemble(`r2 = map[fd:${pa.id}] ll\nr3 = 0\ncall 12\nr0 = 2\nexit`, { dialect: 'kernel' }), ...(eat ? { expectedAttachType: eat } : {}) });
    await step('load xdp (BPF_XDP) using the array', () => user('xdp', 'xdp'));
    await step('load sched_cls using the array', () => user('sched_cls'));
    await step('load xdp (no attach type) using the array', () => user('xdp'));
    const [bare, xdp, tc] = [await ret2('xdp'), await ret2('xdp', 'xdp'), await ret2('sched_cls')];
    await step('insert xdp (no attach type)', () => pa.set(0, bare.id));
    await step('insert xdp (BPF_XDP)', () => pa.set(0, xdp.id));
    await step('insert sched_cls', () => pa.set(1, tc.id));
  } finally {
    rt.close();
  }
  return out;
}

const ownerSkip = kernelSkip || (!which('clang-19') ? 'clang-19 not installed (it builds the host program)' : false);

test('prog_array ownership: tsbpf gives the running kernel\'s answers, step by step (raw bpf(2) loads and updates)', { skip: ownerSkip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-owner-'));
  try {
    const exe = join(dir, 'prog_array_owner');
    const b = spawnSync('clang-19', ['-O1', '-Wall', '-Werror', '-o', exe, join(ROOT, 'test/kernel-progs/prog_array_owner.c')], { encoding: 'utf8' });
    assert.equal(b.status, 0, b.stderr);
    const k = spawnSync(exe, [], { encoding: 'utf8' });
    assert.equal(k.status, 0, k.stderr);
    const kernel = k.stdout.trim().split('\n');
    assert.equal(kernel.length, 6, k.stdout);
    for (const engine of ENGINES) assert.deepEqual(await ownerScenario(engine), kernel, `${engine} and Linux differ`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('prog_array ownership scenario: the answers tsbpf gives without a kernel to ask', async () => {
  // What Linux 6.18 answered when this was recorded (the test above re-asks it where it can).
  const recorded = [
    'load xdp (BPF_XDP) using the array: ok',
    'load sched_cls using the array: EINVAL',
    'load xdp (no attach type) using the array: EINVAL',
    'insert xdp (no attach type): EINVAL',
    'insert xdp (BPF_XDP): ok',
    'insert sched_cls: EINVAL',
  ];
  for (const engine of ENGINES) assert.deepEqual(await ownerScenario(engine), recorded, engine);
});

const clangSkip = !which('clang-19') ? 'clang-19 not installed' : !existsSync('/usr/include/bpf/bpf_helpers.h') ? 'libbpf-dev headers not installed' : false;

test('the committed sandbox objects are what their C source builds to (code and relocations)', { skip: clangSkip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-sandbox-c-'));
  try {
    const b = spawnSync('bash', [join(ROOT, 'scripts/build-sandbox-c.sh'), dir], { encoding: 'utf8' });
    assert.equal(b.status, 0, b.stderr);
    for (const o of ['xdp_tail_tc.o', 'xdp_tail_xdp.o']) {
      const fresh = loadObjectFileSync(join(dir, o));
      const committed = loadObjectFileSync(join(SANDBOX_C, o));
      for (const [name, p] of committed.programs) assert.deepEqual(fresh.programs.get(name)?.insns, p.insns, `${o}: ${name}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
