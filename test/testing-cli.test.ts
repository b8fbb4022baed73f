/**
 * `tsbpf prog run FILE PROG --kernel-btf BTF` (src/cli/commands/prog-run-kernel.ts):
 * a tracing program on one event of a modelled kernel, from flags, a JSON
 * event file, or the default synthetic event; plain and -j output; the
 * `tsbpf/testing` package entry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, ROOT } from './paths.js';

const PROGS = join(ROOT, 'test/testing-progs');
const run = (...a: string[]) => spawnSync(process.execPath, [BIN, ...a], { encoding: 'utf8', env: { ...process.env, TSBPF_DEBUG: '' } });

test('cli: prog run --kernel-btf with the default event: the current task and zeroed arguments', () => {
  const r = run('prog', 'run', join(PROGS, 'task_reader.o'), 'on_open', '--kernel-btf', 'shipped', '-j');
  assert.equal(r.status, 0, r.stderr);
  const o = JSON.parse(r.stdout) as { retval: string; records: Record<string, number[][]>; calls: unknown[] };
  assert.equal(o.retval, '1000');
  const rec = Uint8Array.from(o.records.events![0]!);
  const dv = new DataView(rec.buffer);
  assert.equal(dv.getUint32(0, true), 1000, 'pid of the default task');
  assert.equal(dv.getUint32(12, true), 1000, 'its uid');
  assert.equal(new TextDecoder().decode(rec.subarray(48, 58)), 'tsbpf-test');
  assert.deepEqual(o.calls, []);
});

test('cli: prog run --kernel-btf with flags: arguments, the current task, signals and maps changed', () => {
  const r = run('prog', 'run', join(PROGS, 'task_reader.o'), 'on_open', '--kernel-btf', 'shipped', '--args=-100,"/etc/passwd"', '--comm', 'bash', '--pid', '42', '--uid', '0');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Return value: 42\n/);
  assert.match(r.stdout, /ring buffer events: record of 216 bytes/);
  assert.match(r.stdout, /\/etc\/pas swd/);
  assert.match(r.stdout, /call bpf_send_signal\(sig=9, pid=42, tgid=1000\)/);
  const m = run('prog', 'run', join(PROGS, 'events.o'), 'tp_exec', '--kernel-btf', 'shipped', '--fields', 'filename="/bin/ls",pid=5,old_pid=4');
  assert.equal(m.status, 0, m.stderr);
  assert.match(m.stdout, /map seen: key 00 00 00 00: 00 00 .* -> 05 00 00 00 00 00 00 00 04 00/);
});

test('cli: prog run --kernel-btf with a JSON event of model objects', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-kit-'));
  try {
    const ev = join(dir, 'ev.json');
    writeFileSync(ev, JSON.stringify({ args: [true, { object: 'task_struct', fields: { pid: 7 } }, { object: 'task_struct', fields: { pid: 8, real_parent: { tgid: 3 } } }] }));
    const r = run('prog', 'run', join(PROGS, 'btf_ptrs.o'), 'raw_switch', '--kernel-btf', 'shipped', '--event', ev, '-j');
    assert.equal(r.status, 0, r.stderr);
    const o = JSON.parse(r.stdout) as { maps_changed: Record<string, Array<{ key: string; after: string }>> };
    assert.deepEqual(o.maps_changed.seen!.map((x) => x.after.split(' ')[0]), ['01', '07', '08', '03']);
    writeFileSync(ev, '{"args": [');
    const bad = run('prog', 'run', join(PROGS, 'btf_ptrs.o'), 'raw_switch', '--kernel-btf', 'shipped', '--event', ev);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--event .*ev\.json: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cli: prog run --kernel-btf with a perf_event sample from JSON: period, counter, stacks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-kit-'));
  try {
    const ev = join(dir, 'ev.json');
    writeFileSync(ev, JSON.stringify({ samplePeriod: 5000, addr: '0x1000', perfCounter: { counter: 99, enabled: 10, running: 9 }, stack: { kernel: ['0xffffffff81000010', '0xffffffff81000020'], user: ['0x401000'] } }));
    const r = run('prog', 'run', join(PROGS, 'perf_sample.o'), 'sample', '--kernel-btf', 'shipped', '--event', ev, '-j');
    assert.equal(r.status, 0, r.stderr);
    const o = JSON.parse(r.stdout) as { calls: Array<{ helper: string }>; maps_changed: Record<string, Array<{ key: string; after: string }>> };
    const seen = o.maps_changed.seen![0]!.after.split(' ').map((h) => parseInt(h, 16));
    const dv = new DataView(Uint8Array.from(seen).buffer);
    assert.equal(dv.getBigUint64(24, true), 5000n, 'sample_period');
    assert.equal(dv.getBigUint64(32, true), 0x1000n, 'addr');
    assert.equal(dv.getBigUint64(80, true), 99n, 'the counter bpf_perf_prog_read_value read');
    assert.equal(dv.getBigUint64(128, true), 0xffffffff81000020n, 'get_stack after skip 1');
    assert.ok(o.maps_changed.stacks, 'bpf_get_stackid stored the user stack');
    assert.deepEqual(o.calls.map((c) => c.helper), ['send_signal_thread']);
    writeFileSync(ev, JSON.stringify({ samplePeriod: 'lots' }));
    const bad = run('prog', 'run', join(PROGS, 'perf_sample.o'), 'sample', '--kernel-btf', 'shipped', '--event', ev);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /samplePeriod: "lots" is not an integer/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cli: prog run --kernel-btf runs tp_btf loads through model pointers (JSON event, default event, vmlinux)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-kit-'));
  try {
    const ev = join(dir, 'ev.json');
    writeFileSync(ev, JSON.stringify({ args: [true, { object: 'task_struct', fields: { pid: 7 } }, { object: 'task_struct', fields: { pid: 8, real_parent: { tgid: 3 } } }] }));
    const afters = (btf: string, ...more: string[]): string[] => {
      const r = run('prog', 'run', join(PROGS, 'btf_ptrs.o'), 'on_switch', '--kernel-btf', btf, ...more, '-j');
      assert.equal(r.status, 0, r.stderr);
      const o = JSON.parse(r.stdout) as { maps_changed: Record<string, Array<{ key: string; after: string }>> };
      return (o.maps_changed.seen ?? []).map((x) => x.after.split(' ')[0]!);
    };
    assert.deepEqual(afters('shipped', '--event', ev), ['01', '07', '08', '03']);
    // the default event: NULL task pointers, whose loads read 0 (nothing changes), and the current task as a BTF pointer
    assert.deepEqual(afters('shipped'), []);
    const cur = run('prog', 'run', join(PROGS, 'probe_mem.o'), 'probe', '--kernel-btf', 'shipped', '-j');
    assert.equal(cur.status, 0, cur.stderr);
    const seen = (JSON.parse(cur.stdout) as { maps_changed: Record<string, Array<{ key: string; after: string }>> }).maps_changed.seen!;
    const byKey = new Map(seen.map((x) => [x.key.split(' ')[0], x.after]));
    assert.equal(byKey.get('05')!.split(' ')[0], 'e8', 'bpf_get_current_task_btf()->pid is 1000');
    assert.equal(byKey.get('06'), byKey.get('07'), 'get_current_task_btf and get_current_task are the same task');
    if (!existsSync('/sys/kernel/btf/vmlinux')) return t.skip('no /sys/kernel/btf/vmlinux on this machine');
    assert.deepEqual(afters('/sys/kernel/btf/vmlinux', '--event', ev), ['01', '07', '08', '03']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cli: prog run --kernel-btf takes the attach cookie from a JSON event', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-kit-'));
  try {
    const ev = join(dir, 'ev.json');
    writeFileSync(ev, JSON.stringify({ cookie: '0x1122334455' }));
    const r = run('prog', 'run', join(PROGS, 'attach_ids.o'), 'on_entry', '--kernel-btf', 'shipped', '--event', ev, '-j');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout).maps_changed.out as Array<{ key: string; after: string }>;
    // struct ids of slot 0: the cookie first, little-endian
    assert.equal(out.find((x) => x.key === '00 00 00 00')!.after.slice(0, 23), '55 44 33 22 11 00 00 00');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cli: prog run --kernel-btf --map-size sizes the maps a tool\'s user space sizes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-kit-'));
  try {
    const obj = join(PROGS, 'unsized.o');
    // as declared (no value_size, no max_entries) the stack map cannot be made, in Linux either
    const bare = run('prog', 'run', obj, 'with_stack', '--kernel-btf', 'shipped');
    assert.notEqual(bare.status, 0);
    assert.match(bare.stderr, /stack_trace needs key_size 4, value_size a multiple of 8, max_entries > 0 \(EINVAL\)/);
    const ev = join(dir, 'ev.json');
    writeFileSync(ev, JSON.stringify({ stack: { kernel: ['0xffffffff81000010', '0xffffffff81000020'] } }));
    const r = run('prog', 'run', obj, 'with_stack', '--kernel-btf', 'shipped', '--map-size', 'stackmap=1024:1016', '--event', ev, '-j');
    assert.equal(r.status, 0, r.stderr);
    const o = JSON.parse(r.stdout);
    const id = BigInt(o.retval);
    assert.ok(id >= 0n && id < 1024n, `a stack id (${o.retval})`);
    const [entry] = o.maps_changed.stackmap as Array<{ key: string; after: string }>;
    assert.equal(entry!.after.split(' ').length, 1016, 'value_size 1016: 127 frames');
    assert.equal(entry!.after.slice(0, 23), '10 00 00 81 ff ff ff ff');
    const bad = run('prog', 'run', obj, 'with_stack', '--kernel-btf', 'shipped', '--map-size', 'stackmap=lots');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /'stackmap=lots' is not NAME=MAX_ENTRIES\[:VALUE_SIZE\]/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cli: event flags without --kernel-btf, and bad values, are usage errors', () => {
  const r = run('prog', 'run', join(PROGS, 'events.o'), 'tp_exec', '--args', '1');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--args describes an event of a modelled kernel: it needs --kernel-btf/);
  const v = run('prog', 'run', join(PROGS, 'events.o'), 'kp', '--kernel-btf', 'shipped', '--args', 'x');
  assert.equal(v.status, 2);
  assert.match(v.stderr, /'x' is neither an integer nor a "quoted string"/);
  const n = run('prog', 'run', join(PROGS, 'events.o'), 'kp', '--kernel-btf', '/nonexistent/btf');
  assert.notEqual(n.status, 0);
  assert.match(n.stderr, /nonexistent/);
});

test('package: tsbpf/testing resolves to the kit', async () => {
  const mod = (await import('tsbpf/testing')) as typeof import('../src/testing/index.js');
  assert.equal(typeof mod.TestKit, 'function');
  assert.equal(typeof mod.KernelModel, 'function');
});

test('cli: prog run --kernel-btf reads an iterator program as cat reads its pinned file', () => {
  const r = run('prog', 'run', join(PROGS, 'task_iter.o'), 'ps_lines', '--kernel-btf', 'shipped', '--comm', 'bash');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '    PID     TID COMM\n      1       1 systemd\n   1000    1000 bash\n-- 2 tasks\n');
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-iter-'));
  try {
    const ev = join(dir, 'ev.json');
    writeFileSync(ev, JSON.stringify({ link_info: { task: { tid: 1 } } }));
    const j = run('prog', 'run', join(PROGS, 'task_iter.o'), 'get_tasks', '--kernel-btf', 'shipped', '--event', ev, '-j');
    assert.equal(j.status, 0, j.stderr);
    const o = JSON.parse(j.stdout) as { output: number[]; runs: number; error?: unknown };
    assert.equal(o.output.length, 64); // one struct task_info: init's
    assert.equal(o.runs, 2);
    assert.equal(new TextDecoder().decode(Uint8Array.from(o.output.slice(12, 19))), 'systemd');
    assert.equal(o.error, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
