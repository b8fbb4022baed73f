/**
 * The CLI acting on the running kernel, compared with bpftool doing the
 * same: `prog load|loadall --kernel` (pins as bpftool's), `prog run
 * --kernel` and `prog run pinned PATH` (BPF_PROG_TEST_RUN, bpftool's
 * output), `map dump|lookup|update|delete` by `id N` and by a pin in a
 * bpffs (bpftool's plain layout, BTF-formatted dumps), and the EPERM an
 * unprivileged user gets, with the reason. As root with bpftool; skips with
 * the reason elsewhere. Pins are removed in `finally`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BPFFS, Cleanup, kernelSkip, which } from './kernel-support.js';
import { BIN, FIXTURES, MULTIARCH_INCLUDE, ROOT } from './paths.js';

interface Out {
  out: string;
  err: string;
  code: number;
}
const run = (cmd: string, args: string[]): Out => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { out: r.stdout, err: r.stderr, code: r.status ?? -1 };
};
const tsbpf = (...a: string[]): Out => run(process.execPath, [BIN, ...a]);
const bpftool = (...a: string[]): Out => run('bpftool', a);
const idOf = (path: string, kind: 'prog' | 'map'): number => (JSON.parse(execFileSync('bpftool', ['-j', kind, 'show', 'pinned', path], { encoding: 'utf8' })) as { id: number }).id;

async function skip(): Promise<string | undefined> {
  return (await kernelSkip()) ?? (which('bpftool') ? undefined : 'bpftool is not installed');
}

/** An IPv4/UDP frame from 10.0.0.1 (xdp_firewall passes it and counts protocol 17). */
function packet(): string {
  const p = new Uint8Array(64);
  p.set([0x08, 0x00], 12);
  p[14] = 0x45;
  p[23] = 17;
  p.set([10, 0, 0, 1], 26);
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-kcliops-'));
  writeFileSync(join(dir, 'pkt.bin'), p);
  return join(dir, 'pkt.bin');
}

test('kernel CLI: prog load/loadall --kernel pin as bpftool does; prog run in the kernel prints what bpftool prints', async (t) => {
  const why = await skip();
  if (why) return t.skip(why);
  const undo = new Cleanup();
  const base = join(BPFFS, `tsbpf-kcliops-${process.pid}`);
  const pkt = packet();
  undo.add(() => rmSync(join(pkt, '..'), { recursive: true, force: true }));
  try {
    // load: the first program, pinned at PATH; -j prints null as bpftool's
    const one = tsbpf('-j', 'prog', 'load', join(FIXTURES, 'xdp_firewall.o'), `${base}-one`, '--kernel');
    undo.add(() => rmSync(`${base}-one`, { force: true }));
    assert.equal(one.code, 0, one.err);
    assert.equal(one.out, 'null\n');
    const shown = JSON.parse(tsbpf('-j', 'prog', 'show', 'pinned', `${base}-one`).out) as { id: number; name: string; type: string };
    assert.deepEqual([shown.name, shown.type, shown.id], ['xdp_firewall', 'xdp', idOf(`${base}-one`, 'prog')]);
    // loadall + pinmaps: the same names as bpftool's loadall
    for (const [who, dir] of [['tsbpf', `${base}-all`], ['bpftool', `${base}-ref`]] as const) {
      undo.add(() => rmSync(dir, { recursive: true, force: true }));
      const r = who === 'tsbpf' ? tsbpf('prog', 'loadall', join(FIXTURES, 'xdp_firewall.o'), dir, 'pinmaps', `${dir}/maps`) : bpftool('prog', 'loadall', join(FIXTURES, 'xdp_firewall.o'), dir, 'pinmaps', `${dir}/maps`);
      assert.equal(r.code, 0, r.err);
    }
    assert.deepEqual(readdirSync(`${base}-all`).sort(), readdirSync(`${base}-ref`).sort());
    assert.deepEqual(readdirSync(`${base}-all/maps`).sort(), readdirSync(`${base}-ref/maps`).sort());
    // prog run on a pinned program: bpftool's output, duration aside
    const noDuration = (s: string): string => s.replace(/duration(?: \(average\))?: \d+ns/, 'duration: Nns').replace(/"duration":\d+/, '"duration":N');
    for (const args of [
      ['prog', 'run', 'pinned', `${base}-all/xdp_firewall`, 'data_in', pkt, 'data_out', '-'],
      ['-j', 'prog', 'run', 'pinned', `${base}-all/xdp_firewall`, 'data_in', pkt, 'data_out', '-', 'repeat', '3'],
    ]) {
      const mine = tsbpf(...args);
      assert.equal(mine.code, 0, mine.err);
      assert.equal(noDuration(mine.out), noDuration(bpftool(...args).out), args.join(' '));
    }
    // prog run FILE PROG --kernel: loaded and run in the kernel, the same answer as tsbpf's runtime gives
    const k = JSON.parse(tsbpf('-j', 'prog', 'run', join(FIXTURES, 'xdp_firewall.o'), 'xdp_firewall', 'data_in', pkt, 'data_out', '-', '--kernel').out) as { retval: number; data_out: number[] };
    const u = JSON.parse(tsbpf('-j', 'prog', 'run', join(FIXTURES, 'xdp_firewall.o'), 'xdp_firewall', 'data_in', pkt, 'data_out', '-').out) as { retval: number; data_out: number[] };
    assert.equal(k.retval, 2);
    assert.deepEqual(k, { ...u, duration: (k as unknown as { duration: number }).duration });
    // a program type the kernel cannot test-run: a typed error saying so
    const tp = tsbpf('prog', 'run', join(FIXTURES, 'tracer_ringbuf.o'), 'trace_openat', '--kernel');
    assert.equal(tp.code, 1);
    assert.match(tp.err, /cannot test-run tracepoint programs \(ENOTSUPP\)\n$/);
    // autoattach: the tracepoint's link is pinned; kprobes (when missing here) fall back to the program
    const aa = tsbpf('prog', 'loadall', join(FIXTURES, 'tracer_ringbuf.o'), `${base}-aa`, 'autoattach');
    undo.add(() => rmSync(`${base}-aa`, { recursive: true, force: true }));
    assert.equal(aa.code, 0, aa.err);
    const link = JSON.parse(execFileSync('bpftool', ['-j', 'link', 'show', 'pinned', `${base}-aa/trace_openat`], { encoding: 'utf8' })) as { type: string };
    assert.equal(link.type, 'perf_event');
    if (!existsSync('/sys/bus/event_source/devices/kprobe')) {
      // the kprobe is pinned as a program, and the reason is given
      assert.match(aa.err, /^Program kprobe_openat does not support autoattach, falling back to pinning\n {2}.*CONFIG_KPROBES.*\(ENOTSUPP\)$/m);
      assert.ok(existsSync(`${base}-aa/kprobe_openat`));
    }
  } finally {
    undo.run();
  }
});

test('kernel CLI: a program the kernel refuses leaves no pin and is explained', async (t) => {
  const why = (await skip()) ?? (which('clang-19') ? undefined : 'clang-19 is not installed');
  if (why) return t.skip(why);
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-kcliops-'));
  const pin = join(BPFFS, `tsbpf-kcliops-rej-${process.pid}`);
  try {
    execFileSync('clang-19', ['-O2', '-g', '-target', 'bpf', MULTIARCH_INCLUDE, '-c', join(ROOT, 'test/kernel-progs/reject.c'), '-o', join(dir, 'reject.o')]);
    const r = tsbpf('prog', 'load', join(dir, 'reject.o'), pin, '--kernel');
    assert.equal(r.code, 1);
    assert.match(r.out, /^no_null_check: rejected by the kernel \(EACCES\)\nkernel: R0 invalid mem access 'map_value_or_null'\n/);
    assert.match(r.out, /hint: check the pointer returned by bpf_map_lookup_elem for NULL/);
    assert.ok(!existsSync(pin));
    const d = tsbpf('-d', 'prog', 'load', join(dir, 'reject.o'), pin, '--kernel');
    assert.match(d.out, /-- the kernel's verifier log --\n[\s\S]*processed \d+ insns/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(pin, { force: true });
  }
});

test('kernel CLI: map dump/lookup/update/delete by id and by pin print what bpftool prints', async (t) => {
  const why = await skip();
  if (why) return t.skip(why);
  const undo = new Cleanup();
  const base = join(BPFFS, `tsbpf-kclimap-${process.pid}`);
  try {
    mkdirSync(base);
    undo.add(() => rmSync(base, { recursive: true, force: true }));
    assert.equal(bpftool('prog', 'loadall', join(FIXTURES, 'global_data.o'), `${base}/p`, 'pinmaps', `${base}/m`).code, 0);
    // maps of every value layout bpftool's print_entry_plain has: one line, names on their own lines, long values, per-CPU
    const made: Array<[string, string, number, number]> = [['h12', 'hash', 4, 12], ['h8_20', 'hash', 8, 20], ['k20', 'hash', 20, 4], ['pc20', 'percpu_hash', 4, 20]];
    for (const [name, type, k, v] of made) assert.equal(bpftool('map', 'create', `${base}/${name}`, 'type', type, 'key', String(k), 'value', String(v), 'entries', '4', 'name', name).code, 0);
    const bytes = (n: number, from = 1): string[] => Array.from({ length: n }, (_, i) => String((i + from) & 0xff));
    const key = (n: number): string[] => ['1', ...Array.from({ length: n - 1 }, () => '0')];
    for (const [name, , k, v] of made) {
      const pinned = ['pinned', `${base}/${name}`];
      const byId = ['id', String(idOf(`${base}/${name}`, 'map'))];
      // tsbpf writes one entry by pin, bpftool another by id
      assert.equal(tsbpf('map', 'update', ...pinned, 'key', ...key(k), 'value', ...bytes(v)).code, 0);
      assert.equal(bpftool('map', 'update', ...byId, 'key', '2', ...key(k).slice(1), 'value', ...bytes(v, 7)).code, 0);
      for (const ref of [pinned, byId]) {
        for (const args of [['map', 'dump', ...ref], ['-j', 'map', 'dump', ...ref], ['map', 'lookup', ...ref, 'key', ...key(k)], ['map', 'lookup', ...ref, 'key', '9', ...key(k).slice(1)]]) {
          const [mine, theirs] = [tsbpf(...args), bpftool(...args)];
          assert.equal(mine.out, theirs.out, args.join(' '));
          assert.equal(mine.code, theirs.code, `${args.join(' ')}: exit status`);
        }
      }
      assert.equal(tsbpf('map', 'delete', ...byId, 'key', ...key(k)).code, 0);
      assert.equal(bpftool('map', 'lookup', ...byId, 'key', ...key(k)).code, 254, 'deleted by tsbpf');
      const again = tsbpf('map', 'delete', ...byId, 'key', ...key(k));
      assert.equal(again.code, 254);
      assert.equal(again.err, 'Error: delete failed: No such file or directory\n');
    }
    // global data with BTF: formatted by type, as bpftool's btf_dumper
    for (const m of readdirSync(`${base}/m`)) {
      for (const args of [['map', 'dump', 'pinned', `${base}/m/${m}`], ['-j', 'map', 'dump', 'pinned', `${base}/m/${m}`]]) assert.equal(tsbpf(...args).out, bpftool(...args).out, args.join(' '));
    }
  } finally {
    undo.run();
  }
});

test('kernel CLI: without CAP_BPF, EPERM with the reason', async (t) => {
  const why = (await skip()) ?? (which('setpriv') ? undefined : 'setpriv is not installed');
  if (why) return t.skip(why);
  const asNobody = (...a: string[]): Out => run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, ...a]);
  for (const args of [
    ['prog', 'load', join(FIXTURES, 'xdp_firewall.o'), join(BPFFS, `tsbpf-nobody-${process.pid}`), '--kernel'],
    ['map', 'dump', 'id', '1'],
    ['prog', 'show'],
    ['prog', 'run', join(FIXTURES, 'xdp_firewall.o'), 'xdp_firewall', '--kernel'],
  ]) {
    const r = asNobody(...args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.err, /^Error: .*needs root or CAP_BPF.* \(EPERM\)\n$/, args.join(' '));
  }
});
