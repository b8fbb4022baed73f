/**
 * Multi-probe links (src/kernel/multi-probe.ts): the attr plans checked on
 * any machine (pattern resolution, cookies aligned with their entries,
 * libbpf's argument rules), then, as root, uprobe.multi/uretprobe.multi on a
 * native program built here (explicit symbols, offsets, cookies,
 * ref_ctr_offsets and pid; auto-attach by a `uprobe.multi/PATH:GLOB`
 * section) and kprobe.multi and kprobe where the kernel has them, or the
 * typed error naming the config option it lacks where it has not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { Cleanup, buildKernelProg, kernelSkip, which } from './kernel-support.js';
import { ROOT } from './paths.js';
import { KernelRuntime, KernelFeatureError, type KernelCollection } from '../src/kernel/index.js';
import { kprobeMultiAttr, kprobeMultiPlan, matchFilterFunctions, uprobeMultiAttr, uprobeMultiPlan } from '../src/kernel/multi-probe.js';
import { globMatch, patternOffsets, symbolOffset } from '../src/kernel/elf-symbols.js';
import { kernelConfig } from '../src/kernel/kconfig.js';
import type { TsbpfError } from '../src/errors.js';

const PROGS = join(ROOT, 'test/kernel-progs');
const libc = (): string | undefined => readFileSync('/proc/self/maps', 'utf8').split('\n').map((l) => l.split(/\s+/)[5]).find((p) => p && /\/libc\.so\.6$/.test(p));

/** A fake Sys whose addresses are recorded, for reading the attr back. */
function fakeSys(): { address(b: Uint8Array): bigint; buffers: Map<bigint, Uint8Array> } {
  const buffers = new Map<bigint, Uint8Array>();
  let next = 0x1000n;
  return {
    buffers,
    address(b: Uint8Array): bigint {
      const a = (next += 0x1000n);
      buffers.set(a, b);
      return a;
    },
  };
}
const u64At = (b: Uint8Array, off: number): bigint => new DataView(b.buffer, b.byteOffset).getBigUint64(off, true);
const u32At = (b: Uint8Array, off: number): number => new DataView(b.buffer, b.byteOffset).getUint32(off, true);
const cstrAt = (b: Uint8Array): string => new TextDecoder().decode(b.subarray(0, b.indexOf(0)));

test('glob matching is libbpf\'s: * and ? only', () => {
  assert.ok(globMatch('do_sys_openat2', 'do_sys_*'));
  assert.ok(globMatch('do_sys_openat2', '*openat?'));
  assert.ok(globMatch('abc', '*'));
  assert.ok(!globMatch('do_sys_open', 'do_sys_openat*'));
  assert.ok(!globMatch('x[1]', 'x[[]1]'), 'brackets are plain characters');
  assert.ok(globMatch('x[1]', 'x[1]'));
});

test('kprobe.multi plan: a glob over available_filter_functions(_addrs), symbols and cookies in the order given', () => {
  const names = 'vfs_read\nvfs_write\n__ftrace_invalid_address___123\nvfs_readv [some_mod]\nksys_read\n';
  assert.deepEqual(matchFilterFunctions({ names }, 'vfs_read*'), { syms: ['vfs_read', 'vfs_readv'] });
  const addrs = 'ffffffff81000010 vfs_read\nffffffff81000020 vfs_write\nffffffff81000030 __ftrace_invalid_address___9\n';
  assert.deepEqual(matchFilterFunctions({ addrs }, 'vfs_*'), { addrs: [0xffffffff81000010n, 0xffffffff81000020n] });
  assert.throws(() => matchFilterFunctions({ names }, 'nope_*'), (e: TsbpfError) => e.errno === 'ENOENT');

  const p = kprobeMultiPlan({ pattern: 'vfs_*', retprobe: true }, () => ({ names }));
  assert.deepEqual(p, { flags: 1, cnt: 3, syms: ['vfs_read', 'vfs_write', 'vfs_readv'] });
  // symbols go as given (the kernel sorts, carrying the cookies along): not sorted here
  const q = kprobeMultiPlan({ symbols: ['vfs_write', 'vfs_read'], cookies: [7n, 9n] }, () => assert.fail('no list needed'));
  assert.deepEqual(q, { flags: 0, cnt: 2, syms: ['vfs_write', 'vfs_read'], cookies: [7n, 9n] });

  const sys = fakeSys();
  const a = kprobeMultiAttr(sys, 5, q).bytes;
  assert.equal(u32At(a, 0), 5, 'prog_fd');
  assert.equal(u32At(a, 4), 0, 'target_fd');
  assert.equal(u32At(a, 8), 42, 'attach_type BPF_TRACE_KPROBE_MULTI');
  assert.equal(u32At(a, 16), 0, 'flags');
  assert.equal(u32At(a, 20), 2, 'cnt');
  const syms = sys.buffers.get(u64At(a, 24))!;
  assert.deepEqual([0, 8].map((o) => cstrAt(sys.buffers.get(u64At(syms, o))!)), ['vfs_write', 'vfs_read']);
  assert.equal(u64At(a, 32), 0n, 'no addrs with syms');
  const cookies = sys.buffers.get(u64At(a, 40))!;
  assert.deepEqual([u64At(cookies, 0), u64At(cookies, 8)], [7n, 9n]);

  const r = kprobeMultiAttr(sys, 5, { flags: 1, cnt: 1, addrs: [0xffffffff81000010n] }).bytes;
  assert.equal(u32At(r, 16), 1, 'BPF_F_KPROBE_MULTI_RETURN');
  assert.equal(u64At(sys.buffers.get(u64At(r, 32))!, 0), 0xffffffff81000010n);

  const bad = (o: Parameters<typeof kprobeMultiPlan>[0], re: RegExp): void =>
    assert.throws(() => kprobeMultiPlan(o, () => ({ names })), (e: TsbpfError) => e.errno === 'EINVAL' && re.test(e.message));
  bad({ symbols: ['a'], addrs: [1n] }, /exactly one of pattern, symbols, addrs/);
  bad({}, /exactly one/);
  bad({ symbols: [] }, /no probe/);
  bad({ symbols: ['a', 'b'], cookies: [1n] }, /cookies has 1 entries for 2 probes/);
  bad({ pattern: 'vfs_*', cookies: [1n] }, /not with a pattern/);
});

test('uprobe.multi plan: symbols, globs and offsets of a native library; cookies, ref_ctr_offsets and pid in the attr', (t) => {
  const lib = libc();
  if (!lib) return t.skip('this process maps no libc.so.6');
  const uid = symbolOffset(lib, 'getuid');
  const gid = symbolOffset(lib, 'getgid');
  const offs = patternOffsets(lib, 'get?id');
  assert.ok(offs.includes(uid) && offs.includes(gid), 'getuid and getgid match get?id');
  assert.deepEqual(offs, [...new Set(offs)].sort((a, b) => a - b), 'ascending, each once');
  assert.throws(() => patternOffsets(lib, 'tsbpf_no_such_*'), (e: TsbpfError) => e.errno === 'ENOENT');

  const p = uprobeMultiPlan({ path: lib, symbols: ['getuid', 'getgid'], cookies: [1n, 2n], refCtrOffsets: [0x40, 0], pid: 1234 });
  assert.deepEqual(p, { path: lib, flags: 0, offsets: [uid, gid], pid: 1234, refCtrOffsets: [0x40, 0], cookies: [1n, 2n] });
  assert.equal(uprobeMultiPlan({ path: lib, offsets: [uid] }).pid, 0, 'no pid: every process');
  assert.equal(uprobeMultiPlan({ path: lib, offsets: [uid], pid: 0 }).pid, process.pid, 'pid 0: this process, as libbpf');
  assert.equal(uprobeMultiPlan({ path: 'libc.so.6', offsets: [uid] }).path.endsWith('/libc.so.6'), true, 'a bare library name is found');

  const sys = fakeSys();
  const a = uprobeMultiAttr(sys, 9, { ...p, flags: 1 }).bytes;
  assert.equal(u32At(a, 0), 9);
  assert.equal(u32At(a, 8), 48, 'attach_type BPF_TRACE_UPROBE_MULTI');
  assert.equal(cstrAt(sys.buffers.get(u64At(a, 16))!), lib, 'path');
  const arr = (off: number): bigint[] => { const b = sys.buffers.get(u64At(a, off))!; return [u64At(b, 0), u64At(b, 8)]; };
  assert.deepEqual(arr(24), [BigInt(uid), BigInt(gid)], 'offsets');
  assert.deepEqual(arr(32), [0x40n, 0n], 'ref_ctr_offsets');
  assert.deepEqual(arr(40), [1n, 2n], 'cookies');
  assert.deepEqual([u32At(a, 48), u32At(a, 52), u32At(a, 56)], [2, 1, 1234], 'cnt, flags (BPF_F_UPROBE_MULTI_RETURN), pid');
  assert.throws(() => uprobeMultiPlan({ path: lib, pattern: 'get*', symbols: ['getuid'] }), (e: TsbpfError) => e.errno === 'EINVAL');
  assert.throws(() => uprobeMultiPlan({ path: lib, offsets: [1, 2], refCtrOffsets: [0] }), (e: TsbpfError) => e.errno === 'EINVAL' && /refCtrOffsets/.test(e.message));
});

async function skipReason(): Promise<string | undefined> {
  const k = await kernelSkip();
  if (k) return k;
  if (!which('clang-19')) return 'clang-19 is not installed';
  return undefined;
}

/** The native target and multi.c built into `dir`, multi.c's auto-attach section naming the target. */
function build(dir: string): { target: string; coll: () => Promise<KernelCollection> } {
  const target = join(dir, 'tsbpf_multi_target');
  execFileSync('clang-19', ['-O1', '-g', '-o', target, join(PROGS, 'multi_target.c')], { stdio: 'pipe' });
  const spec = buildKernelProg('multi.c', 'multi', [`-DTARGET="${target}"`]);
  return { target, coll: async () => new KernelRuntime().load(spec) };
}

/** Run the target: it waits for `attach(pid)`, then makes its calls; its output (semaphore, sum). */
async function runTarget(target: string, attach: (pid: number) => void): Promise<{ sema: number }> {
  const child = spawn(target, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  try {
    attach(child.pid!);
  } finally {
    child.stdin!.end('x');
  }
  const [code] = (await once(child, 'exit')) as [number];
  assert.equal(code, 0, `target exited with ${code}`);
  const [sema] = out.trim().split(' ').map(Number);
  return { sema: sema! };
}

test('kernel uprobe.multi: entries, returns, cookies, ref_ctr_offsets, pid and auto-attach on a native program', { timeout: 120_000 }, async (t) => {
  const why = await skipReason();
  if (why) return t.skip(why);
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-multi-'));
  const undo = new Cleanup();
  undo.add(() => rmSync(dir, { recursive: true, force: true }));
  try {
    const { target, coll: load } = build(dir);
    const c = await load();
    undo.add(() => c.close());
    const hits = (i: number): bigint => u64At(c.map('hits').get(i) as Uint8Array, 0);
    const sema = symbolOffset(target, 'tsbpf_sema', { object: true });
    const offA = symbolOffset(target, 'tsbpf_fn_a');

    const first = await runTarget(target, (pid) => {
      // the semaphore goes on tsbpf_other, which no other link probes: the kernel refuses (EINVAL) a
      // second probe on an offset with a different ref_ctr_offset
      const e = c.program('on_multi').attach({ uprobeMulti: { path: target, symbols: ['tsbpf_fn_a', 'tsbpf_fn_b', 'tsbpf_other'], cookies: [1n, 2n, 4n], refCtrOffsets: [0, 0, sema], pid } });
      undo.add(() => e.detach());
      assert.equal(e.info()?.type, 'uprobe_multi');
      const r = c.program('on_multi_ret').attach({ uprobeMulti: { path: target, offsets: [offA], cookies: [3n], pid } });
      undo.add(() => r.detach());
      const auto = c.program('on_auto').attach();
      undo.add(() => auto.detach());
      assert.match(auto.target, /uprobe\.multi\/.*tsbpf_multi_target:tsbpf_fn_\*/);
    });
    assert.equal(hits(1), 3n, 'tsbpf_fn_a entered 3 times (cookie 1)');
    assert.equal(hits(2), 5n, 'tsbpf_fn_b entered 5 times (cookie 2)');
    assert.equal(hits(8 + 3), 3n, 'tsbpf_fn_a returned 3 times (uretprobe.multi, cookie 3)');
    assert.equal(hits(4), 7n, 'tsbpf_other entered 7 times (cookie 4)');
    assert.equal(hits(12), 8n, 'the auto-attached glob tsbpf_fn_* fired for a and b, not tsbpf_other');
    assert.equal(hits(0), 0n, 'no entry without a cookie');
    assert.equal(first.sema, 1, 'the kernel raised the semaphore at ref_ctr_offset while the probe was on');

    // pid filter: a second run of the same binary is another process; only the all-process auto link sees it
    await runTarget(target, () => {});
    assert.equal(hits(1), 3n, 'the pid-filtered link ignores another process');
    assert.equal(hits(12), 16n, 'the all-process link counts it');

    undo.run();
  } finally {
    undo.run();
  }
});

test('kernel kprobe.multi and kprobe: attached where the kernel has them, a KernelFeatureError naming the config option where not', { timeout: 60_000 }, async (t) => {
  const why = await skipReason();
  if (why) return t.skip(why);
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-kmulti-'));
  const undo = new Cleanup();
  undo.add(() => rmSync(dir, { recursive: true, force: true }));
  try {
    const c = await build(dir).coll();
    undo.add(() => c.close());
    const hits = (i: number): bigint => u64At(c.map('hits').get(i) as Uint8Array, 0);
    const openat = (): void => closeSync(openSync('/proc/self/stat', 'r'));

    const has = (await new KernelRuntime().features()).kprobeMultiLink();
    if (!has.ok) {
      t.diagnostic(`kprobe.multi not exercised: ${has.reason} (CONFIG_FPROBE=${kernelConfig('CONFIG_FPROBE') ?? '?'})`);
      for (const attach of [() => c.program('on_kmulti').attach(), () => c.program('on_kmulti').attach({ kprobeMulti: { symbols: ['do_sys_openat2'], cookies: [1n] } })]) {
        assert.throws(attach, (e: unknown) => e instanceof KernelFeatureError && e.config === 'CONFIG_FPROBE' && /no kprobe\.multi links/.test(e.message) && /CONFIG_FPROBE/.test(e.message));
      }
    } else {
      const l = c.program('on_kmulti').attach({ kprobeMulti: { symbols: ['do_sys_openat2'], cookies: [1n] } });
      undo.add(() => l.detach());
      for (let i = 0; i < 5; i++) openat();
      assert.ok(hits(13) >= 5n, 'kprobe.multi on do_sys_openat2 fired');
    }

    if (!existsSync('/sys/bus/event_source/devices/kprobe')) {
      t.diagnostic(`kprobe not exercised: no kprobe PMU (CONFIG_KPROBES=${kernelConfig('CONFIG_KPROBES') ?? '?'})`);
      assert.throws(() => c.program('on_kprobe').attach(), (e: unknown) => e instanceof KernelFeatureError && e.config === 'CONFIG_KPROBES' && e.errno === 'ENOTSUPP' && /kprobe PMU/.test(e.message));
    } else {
      const l = c.program('on_kprobe').attach();
      undo.add(() => l.detach());
      for (let i = 0; i < 5; i++) openat();
      assert.ok(hits(14) >= 5n, 'kprobe on do_sys_openat2 fired');
    }
  } finally {
    undo.run();
  }
});
