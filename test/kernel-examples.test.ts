/**
 * examples/kernel/*.mjs as a user runs them (as root): execsnoop sees an
 * exec this test makes, opensnoop this process's opens (one failing), xdp_count counts packets sent over a veth pair into
 * a network namespace, syscount prints its histogram, tc_rewrite rewrites
 * datagrams on tcx egress of a veth whose far end (in a namespace) receives
 * them on the rewritten port, and agrees with the user-space runtime on every
 * packet. Each example runs in
 * its own process and is stopped in `finally`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { Cleanup, kernelSkip, udpListener, vethIntoNamespace, which } from './kernel-support.js';
import { ROOT } from './paths.js';

const EX = join(ROOT, 'examples/kernel');

/** Start an example; `output()` is what it printed so far. */
function start(file: string, args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [join(EX, file), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

const until = async (cond: () => boolean, step: () => void, tries = 300): Promise<boolean> => {
  for (let i = 0; i < tries && !cond(); i++) {
    step();
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
};

test('examples/kernel/execsnoop.mjs prints an exec as it happens', { timeout: 60_000 }, async (t) => {
  const why = await kernelSkip();
  if (why) return t.skip(why);
  const ex = start('execsnoop.mjs', []);
  try {
    assert.ok(await until(() => ex.output().includes('FILENAME'), () => {}), `started: ${ex.output()}`);
    const seen = await until(() => /\/bin\/true/.test(ex.output()), () => void execFileSync('/bin/true'));
    assert.ok(seen, `an exec of /bin/true was printed:\n${ex.output().slice(0, 2000)}`);
    assert.match(ex.output(), /^\d+\s+\S+\s+\/bin\/true$/m);
  } finally {
    ex.child.kill('SIGINT');
    await ex.exited;
  }
});

/**
 * opensnoop in one mode (auto: the first of kprobe, fentry, tracepoint the
 * kernel takes): this process's opens, one failing, printed with their
 * results; the mode it says it traces with, or why the kernel refused it.
 */
async function opensnoop(mode: string): Promise<{ ran: string } | { refused: string }> {
  const ex = start('opensnoop.mjs', ['--pid', String(process.pid), ...(mode === 'auto' ? [] : ['--mode', mode])]);
  const missing = `/tmp/tsbpf-opensnoop-missing-${process.pid}`;
  try {
    assert.ok(await until(() => ex.output().includes('PATH') || ex.child.exitCode !== null, () => {}), `started: ${ex.output()}`);
    if (!ex.output().includes('PATH')) {
      assert.equal(await ex.exited, 1, ex.output());
      return { refused: ex.output().trim() };
    }
    const tryOpen = (): void => {
      try {
        closeSync(openSync(missing, 'r'));
      } catch {
        // ENOENT: the event to see
      }
      closeSync(openSync('/proc/self/stat', 'r'));
    };
    const seen = await until(() => ex.output().includes(missing) && ex.output().includes('/proc/self/stat'), tryOpen);
    assert.ok(seen, `this process's opens were printed:\n${ex.output().slice(0, 2000)}`);
    // a failed open: fd -1, errno 2 (ENOENT); a successful one: its fd, no error
    assert.match(ex.output(), new RegExp(`^${process.pid}\\s+\\S+\\s+-1\\s+2 ${missing}$`, 'm'));
    assert.match(ex.output(), new RegExp(`^${process.pid}\\s+\\S+\\s+\\d+\\s+0 /proc/self/stat$`, 'm'));
    const rows = ex.output().split('\n').filter((l) => l && !l.startsWith('opensnoop:') && !l.startsWith('PID '));
    assert.ok(rows.every((l) => l.startsWith(`${process.pid} `)), '--pid shows only this process');
    const ran = /^opensnoop: tracing with (.*)$/m.exec(ex.output());
    assert.ok(ran, ex.output());
    return { ran: ran[1]! };
  } finally {
    ex.child.kill('SIGINT');
    await ex.exited;
  }
}

const PAIRS: Record<string, string> = { kprobe: 'openat2_kprobe + openat2_kretprobe', fentry: 'openat2_fentry + openat2_fexit', tracepoint: 'openat_enter + openat_exit' };

test('examples/kernel/opensnoop.mjs, kprobe mode: do_sys_openat2 entry and return (skips where the kernel has no kprobes)', { timeout: 60_000 }, async (t) => {
  const why = await kernelSkip();
  if (why) return t.skip(why);
  const r = await opensnoop('kprobe');
  if ('refused' in r) {
    // the kprobe PMU exists only with CONFIG_KPROBES: the example says so, and this mode cannot run here
    assert.ok(!existsSync('/sys/bus/event_source/devices/kprobe'), `kprobes exist, yet: ${r.refused}`);
    assert.match(r.refused, /kprobe mode unavailable \(CONFIG_KPROBES\)/);
    return t.skip(`kprobe path not run: ${r.refused.split('\n')[0]}`);
  }
  assert.equal(r.ran, PAIRS['kprobe']);
});

test('examples/kernel/opensnoop.mjs, fentry mode: the fallback without kprobes (skips where the kernel refuses fentry)', { timeout: 60_000 }, async (t) => {
  const why = await kernelSkip();
  if (why) return t.skip(why);
  const r = await opensnoop('fentry');
  if ('refused' in r) {
    assert.match(r.refused, /fentry mode unavailable: program openat2_fentry: BPF_PROG_LOAD: E[A-Z]+/);
    return t.skip(`fentry path not run: ${r.refused.split('\n')[0]}`);
  }
  assert.equal(r.ran, PAIRS['fentry']);
});

test('examples/kernel/opensnoop.mjs, tracepoint mode and auto: the first pair the kernel takes, and why the others were passed over', { timeout: 60_000 }, async (t) => {
  const why = await kernelSkip();
  if (why) return t.skip(why);
  const tp = await opensnoop('tracepoint');
  assert.ok('ran' in tp && tp.ran === PAIRS['tracepoint'], JSON.stringify(tp));
  const auto = await opensnoop('auto');
  assert.ok('ran' in auto, JSON.stringify(auto));
  const chosen = Object.keys(PAIRS).find((m) => PAIRS[m] === auto.ran)!;
  if (!existsSync('/sys/bus/event_source/devices/kprobe')) assert.notEqual(chosen, 'kprobe', 'no kprobe PMU: auto did not pick kprobes');
  else assert.equal(chosen, 'kprobe', 'kprobes first where the kernel has them');
  t.diagnostic(`opensnoop auto mode traced with ${chosen}`);
});

test('examples/kernel/syscount.mjs prints the busiest processes and a log2 histogram', { timeout: 60_000 }, async (t) => {
  const why = await kernelSkip();
  if (why) return t.skip(why);
  const ex = start('syscount.mjs', ['--seconds', '1']);
  try {
    assert.equal(await ex.exited, 0, ex.output());
    assert.match(ex.output(), /--- after 1s: \d+ processes/);
    assert.match(ex.output(), /@syscalls_per_process:\n\[\d+, \d+\)\s+\d+ \|@+/);
  } finally {
    ex.child.kill();
  }
});

test('examples/kernel/xdp_count.mjs counts packets on a veth into a namespace', { timeout: 60_000 }, async (t) => {
  const why = (await kernelSkip()) ?? (which('ip') ? undefined : 'iproute2 (ip) is not installed');
  if (why) return t.skip(why);
  const undo = new Cleanup();
  try {
    const dev = `vx0${process.pid % 100000}`;
    const { there } = vethIntoNamespace(undo, { ns: `tsbpfx${process.pid}`, dev, peer: 'eth0x', net: 203 });
    const ex = start('xdp_count.mjs', [dev, '--seconds', '2']);
    undo.add(() => ex.child.kill());
    const tx = createSocket('udp4');
    undo.add(() => tx.close());
    // datagrams into the namespace: the ARP reply and ICMP port-unreachables come back in through `dev`
    await until(() => /--- /.test(ex.output()), () => tx.send('x', 9, there));
    assert.equal(await ex.exited, 0, ex.output());
    assert.match(ex.output(), /^(icmp|non-IPv4)\s+[1-9]\d* packets\s+\d+ bytes$/m, ex.output());
  } finally {
    undo.run();
  }
});

test('examples/kernel/tc_rewrite.mjs rewrites packets through tcx; the far side and the user-space runtime agree', { timeout: 60_000 }, async (t) => {
  const why = (await kernelSkip()) ?? (which('ip') ? undefined : 'iproute2 (ip) is not installed');
  if (why) return t.skip(why);
  const undo = new Cleanup();
  try {
    const ns = `tsk3-tc${process.pid}`;
    const dev = `tsk3-t${process.pid % 100000}`;
    const { there } = vethIntoNamespace(undo, { ns, dev, net: 213 });
    // the other side: a UDP listener on port 5353 in the namespace (the datagrams are sent to 53)
    const far = udpListener(undo, ns, 5353);
    assert.ok(await until(() => far.output().includes('listening'), () => {}), `listener started: ${far.output()}`);
    const ex = start('tc_rewrite.mjs', [dev, '--to', there, '--count', '3']);
    undo.add(() => ex.child.kill());
    assert.equal(await ex.exited, 0, ex.output());
    // the kernel rewrote each datagram (captured before and after the rewriter on the same tcx hook)
    const lines = ex.output().split('\n').filter((l) => l.startsWith('ttl '));
    assert.equal(lines.length, 3, ex.output());
    for (const l of lines) assert.match(l, /^ttl \d+ -> 42, udp port 53 -> 5353, ip checksum 0x[0-9a-f]+ -> 0x[0-9a-f]+: user-space runtime: same bytes/);
    assert.match(ex.output(), /^3\/3 packets rewritten alike by the kernel and the user-space runtime$/m);
    // and the far side received them on the port the program wrote
    assert.ok(await until(() => (far.output().match(/^got tsbpf tc_rewrite \d$/gm) ?? []).length === 3, () => {}), `received on 5353:\n${far.output()}`);
  } finally {
    undo.run();
  }
});
